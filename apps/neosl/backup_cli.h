// `neosl backup` and `neosl restore`: a consistent snapshot of a data directory's state (the
// store and the sealed enclave state, with the keys they depend on) in one archive file, and
// its restoration into a fresh data directory (docs/backup.md).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds `neosl backup --out FILE [--data DIR] [--config FILE] [--with-devchain]` and
// `neosl restore --in FILE --data DIR [--config FILE] [--force]` to `app`; returns a function
// that runs whichever was parsed (or returns -1 if neither was). Each prints a JSON summary on
// stdout; errors go to stderr with exit 1 (refused: bad input, corrupt archive, non-empty target,
// newer schema) or 2 (could not run: I/O, a missing tool).
std::function<int()> AddBackupCommands(CLI::App& app);

}  // namespace neosl::app
