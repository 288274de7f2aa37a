// Crash points for crash-safety tests: CrashPoint("name") kills the process with SIGKILL — no
// destructor, no flush, no commit, like a power cut — when the environment variable
// NEOSL_CRASH_POINT equals `name`. Unset (production): one cached comparison, nothing else.
//
// Tests start `neosl serve` with NEOSL_CRASH_POINT=gasbank.deposit.before_commit, drive it to
// that point, see it die, restart it on the same data directory and check that nothing was lost
// or done twice (tests/integration/gasbank/crash_test.cpp). The names in use are listed in
// docs/gasbank.md ("Crash safety").
#pragma once

#include <string_view>

namespace neosl {

void CrashPoint(std::string_view name);

}  // namespace neosl
