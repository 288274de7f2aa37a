// What the tests' throwaway servers (etcd, Redis, PostgreSQL) share for their child processes.
#pragma once

#include <chrono>

#include <sys/types.h>

namespace neosl::testing {

// A free loopback TCP port: bound, then released for the server. Another process may take it
// in between; callers retry with another. 0 (errno set) if none could be bound.
int FreeLoopbackPort();

// Waits for child `pid` to exit: its wait status, -1 on an error of waitpid, -2 if it is still
// running after `timeout`.
int WaitForExit(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace neosl::testing
