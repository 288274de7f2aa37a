// What ledger.cpp and ledger_audit.cpp share; not for callers of the ledger.
#pragma once

#include <string>

#include "services/gasbank/ledger.h"

namespace neosl::gasbank {

// SHA-256 (hex) over a length-prefixed text of everything `entry` says but its key, lines in
// (book, account) order: tells a replay from a reused key, and lets the audit find a line changed
// after the fact.
std::string EntryDigest(const Entry& entry);

}  // namespace neosl::gasbank
