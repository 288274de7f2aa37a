// `neosl fn …`: JavaScript functions through a running server's REST API (issue #8,
// docs/functions.md), and offline verification of an execution's enclave signature. JSON on
// stdout; errors on stderr with a non-zero exit.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds `neosl fn` with, each (but verify with --execution-file) taking --url (env NEOSL_URL,
// default http://127.0.0.1:8080), --key (env NEOSL_API_KEY) or --key-file, and --ca-file:
//   create NAME --file F.js [--secrets a,b] [--timeout-ms N] [--memory-mb N] [--description D]
//   update ID [--file F.js] [--secrets a,b | --secrets ""] [--timeout-ms N] [--memory-mb N]
//             [--description D]
//   list [--limit N] [--page-token T]      get ID [--version N]      delete ID
//   invoke ID [--args JSON | --args-file F]
//   executions ID [--limit N] [--page-token T]      execution EXID
//   verify (--execution-file F | --execution-id EXID) [--report-key HEX | --allow-simulation
//          | --policy P.yaml | --measurement HEX…] [--source-file F.js]
// `verify` recomputes args_hash and result_hash from the execution's exact JSON texts, checks
// the parsed `result`/`args`/`error` against them, rebuilds the signed message
// (runtime::ResultSigningMessage) and verifies the signature with the report key given, or else
// with the one in the server's attestation evidence, verified first as `neosl secrets put`
// does. A missing source_hash is fetched (GET /v1/functions/ID?version=N). Exit 0 with
// {"verified":true,…}; exit 1 with "neosl fn verify: <what failed>".
// Room is left on `fn` for more commands (`neosl fn simulate`): app.get_subcommand("fn").
// Returns a function that runs the parsed command (or returns -1 if none was parsed).
std::function<int()> AddFnCommands(CLI::App& app);

}  // namespace neosl::app
