// `neosl secrets put|list|delete`: managing secrets through a running server's REST API
// (issue #7, docs/secrets.md). By default `put` encrypts the value on this machine to the
// enclave's ECIES key, after verifying the enclave's attestation evidence, so the host never
// sees the plaintext. JSON on stdout; errors on stderr with a non-zero exit.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds, each with --url (env NEOSL_URL, default http://127.0.0.1:8080), --key (env
// NEOSL_API_KEY) or --key-file, and --ca-file for https:
//   neosl secrets put NAME (--value-file PATH | --value-stdin) [--plaintext]
//                     [--policy POLICY.yaml] [--allow-simulation] [--measurement HEX]…
//       GET /v1/attestation?nonce=<fresh 32 bytes>, verify it as `neosl attest verify` does,
//       ECIES-encrypt the value to public_keys.ecies (info "neosl-secret-v1") and
//       PUT /v1/secrets/NAME {"encrypted_value": hex}. --plaintext skips all that and sends
//       {"value": …} (a warning goes to stderr). Prints the server's answer.
//   neosl secrets list           GET /v1/secrets
//   neosl secrets delete NAME    DELETE /v1/secrets/NAME
// Errors read "neosl secrets <command>: <CODE>: <server message>", or for a failed attestation
// check "neosl secrets put: attestation: <check>: <reason>". The value is never printed.
// Returns a function that runs the parsed command (or returns -1 if none was parsed).
std::function<int()> AddSecretsCommands(CLI::App& app);

}  // namespace neosl::app
