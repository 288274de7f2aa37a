// `neosl attest …`: checking attestation evidence from the command line. JSON on stdout, errors
// on stderr with a non-zero exit.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/status.h"
#include "tee/verifier.h"

namespace neosl::app {

// Adds `neosl attest verify --evidence FILE --nonce HEX [--policy POLICY.yaml]
// [--allow-simulation] [--measurement HEX]…` to `app`; returns a function that runs it if it was
// parsed (or returns -1 if it was not). Exit 0 and {"ok":true,"backend","measurement",
// "public_keys"} when every check holds; otherwise exit 1 and
// "neosl attest verify: <check>: <reason>" on stderr.
std::function<int()> AddAttestCommands(CLI::App& app);

// The evidence policy the CLI's flags describe: the YAML file if given, then
// --allow-simulation and --measurement on top; with no measurement or signer at all, this
// binary's own enclave measurement. Errors name the flag ("policy: …", "measurement: …").
StatusOr<tee::AttestationPolicy> AttestationPolicyFromFlags(const std::string& policy_file, bool allow_simulation,
                                                            const std::vector<std::string>& measurements);

}  // namespace neosl::app
