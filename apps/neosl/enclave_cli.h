// `neosl enclave …`: the enclave program itself (started by `neosl serve`, never by hand), and
// the tools around it: `measure` (the measurement of a binary), `sign` (a sigstruct: the
// measurement signed by the enclave-signing key, for the signer sealing policy).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds the `enclave` subcommand tree; returns a function that runs whichever leaf was parsed
// (or returns -1 if none was).
std::function<int()> AddEnclaveCommands(CLI::App& app);

}  // namespace neosl::app
