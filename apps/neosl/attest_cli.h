// `neosl attest …`: checking attestation evidence from the command line. JSON on stdout, errors
// on stderr with a non-zero exit.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds `neosl attest verify --evidence FILE --nonce HEX [--policy POLICY.yaml]
// [--allow-simulation] [--measurement HEX]…` to `app`; returns a function that runs it if it was
// parsed (or returns -1 if it was not). Exit 0 and {"ok":true,"backend","measurement",
// "public_keys"} when every check holds; otherwise exit 1 and
// "neosl attest verify: <check>: <reason>" on stderr.
std::function<int()> AddAttestCommands(CLI::App& app);

}  // namespace neosl::app
