#include "core/crash_point.h"

#include <csignal>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace neosl {

void CrashPoint(std::string_view name) {
  static const std::string armed = [] {
    const char* v = std::getenv("NEOSL_CRASH_POINT");  // NOLINT(concurrency-mt-unsafe): read once, nothing sets it
    return std::string(v == nullptr ? "" : v);
  }();
  if (armed.empty() || armed != name) return;
  // Written with write(2): the logger may hold a lock or a buffer this must not wait for.
  static constexpr char kMessage[] = "neosl: crash point reached, killing the process\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  kill(getpid(), SIGKILL);
  _exit(137);  // not reached
}

}  // namespace neosl
