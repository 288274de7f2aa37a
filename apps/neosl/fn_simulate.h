// `neosl fn simulate FILE.js`: runs a function locally with the same runtime, sandbox and limits
// as the service (a throwaway simulated enclave and one function worker), as Chainlink's
// functions-toolkit simulator does for Chainlink Functions (docs/functions.md).
//   neosl fn simulate FILE.js [--args JSON | --args-file F] [--secret NAME=VALUE]…
//        [--timeout-ms N] [--memory-mb N] [--allow-private CIDRs] [--rpc-url URL] [--no-jit]
// Prints the execution as JSON (result or error, logs, duration, the proof); exits 0 when the
// function succeeded, 1 when it failed, 2 when it could not be run.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds `simulate` to the `fn` command (AddFnCommands must have run). Returns a function that
// runs it when parsed (else returns -1).
std::function<int()> AddFnSimulate(CLI::App& app);

}  // namespace neosl::app
