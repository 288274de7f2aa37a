// `neosl vrf …`: ECVRF-P256-SHA256-TAI (RFC 9381, crypto/ecvrf.h) from the command line. JSON on
// stdout; exit 0 on success, 1 for a proof that does not verify, 2 for unusable input.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace neosl::app {

// Adds `neosl vrf prove --key HEX --alpha HEX`, printing {"proof","output","public_key"}, and
// `neosl vrf verify --public-key HEX --alpha HEX --proof HEX`, printing {"valid":true,"output"}
// (exit 0) or {"valid":false,"reason"} (exit 1, reason also on stderr). Malformed hex or a
// private key out of range: a message naming the flag on stderr, exit 2. Returns a function that
// runs whichever was parsed (or returns -1 if neither was).
std::function<int()> AddVrfCommands(CLI::App& app);

}  // namespace neosl::app
