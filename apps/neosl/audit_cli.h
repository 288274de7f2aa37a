// `neosl audit …`: checking the secrets audit log (services/secrets/audit_log.h) offline. JSON on
// stdout, reasons on stderr with a non-zero exit.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds `neosl audit verify (--db neosl.db | --file EXPORT.json) [--account ID]
// [--report-key HEX]…` to `app`; returns a function that runs it if it was parsed (or returns -1
// if it was not). Prints {"ok","accounts":[{"account","verification":{…}}]} in every case where
// the input could be read. Exit 0 when every account's chain and checkpoints verify (and, with
// --report-key, every checkpoint is signed by one of those keys); otherwise exit 1 and
// "neosl audit verify: <account>: <reason>" on stderr.
std::function<int()> AddAuditCommands(CLI::App& app);

}  // namespace neosl::app
