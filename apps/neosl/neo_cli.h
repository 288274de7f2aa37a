// `neosl neo …`: keys, transactions and scripts from the command line. JSON on stdout, errors
// on stderr with a non-zero exit.
#pragma once

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds the `neo` subcommand tree to `app`; returns a function that runs whichever leaf was
// parsed (or returns -1 if none of them was).
std::function<int()> AddNeoCommands(CLI::App& app);

}  // namespace neosl::app
