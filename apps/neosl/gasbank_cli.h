// `neosl gasbank audit`: the gas bank's invariants and its reconciliation with the chain
// (services/gasbank/bank_audit.h, docs/gasbank.md "Audit").
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds `neosl gasbank audit [--data DIR | --db FILE] [--rpc URL | --no-chain]` to `app`; returns
// a function that runs it if it was parsed (or -1 if it was not). Prints
// {"ok","problems":[…],"figures":{…}} on stdout; exit 0 when every invariant holds, 1 when one
// does not (each problem also on stderr), 2 when the audit could not run (no database, no node).
std::function<int()> AddGasbankCommands(CLI::App& app);

}  // namespace neosl::app
