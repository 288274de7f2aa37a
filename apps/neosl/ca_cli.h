// `neosl ca …`: the mesh's internal certificate authority (mesh/ca.h, docs/mesh.md). JSON on
// stdout, errors on stderr with a non-zero exit.
//
//   neosl ca init   --dir DIR [--name CN]
//       → {"dir":…,"ca_cert":"DIR/ca.crt","fingerprint":"<sha256 hex>","not_after":"…"}
//   neosl ca issue  --dir DIR --service NAME [--hours 24] [--out OUTDIR]
//       writes OUTDIR/NAME.crt, OUTDIR/NAME.key (0600), OUTDIR/ca.crt, OUTDIR/crl.pem
//       (OUTDIR defaults to the current directory)
//       → {"service":…,"serial":…,"not_before":…,"not_after":…,"cert":…,"key":…}
//   neosl ca revoke --dir DIR --serial HEX
//       → {"serial":…,"revoked":true,"crl":"DIR/crl.pem"}
//   neosl ca list   --dir DIR
//       → {"certificates":[{"service","serial","not_before","not_after","revoked_at"?}]}
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds the commands to `app`; the returned function runs the one that was parsed, or returns -1.
std::function<int()> AddCaCommands(CLI::App& app);

}  // namespace neosl::app
