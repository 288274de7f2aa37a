// The enclave as the function benches start it (build/neosl's `enclave` subcommand): keys sealed
// under a directory of the bench's, ready for function workers started with the same arguments
// to load.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "tee/host.h"

namespace neosl::bench {

struct BenchEnclave {
  std::vector<std::string> args;  // the enclave's arguments, for WorkerPoolOptions::enclave_args
  std::unique_ptr<tee::EnclaveHost> host;
};

// UNAVAILABLE when the enclave does not start or is not ready within 30 s.
inline StatusOr<BenchEnclave> StartBenchEnclave(const std::string& binary, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "sealed");
  BenchEnclave e;
  e.args = {"enclave",
            "--sealed-dir",
            (dir / "sealed").string(),
            "--platform-secret",
            (dir / "platform.secret").string(),
            "--seal-policy",
            "measurement"};
  tee::EnclaveHostOptions options;
  options.binary = binary;
  options.args = e.args;
  auto host = tee::EnclaveHost::Start(options);
  if (!host.ok() || !(*host)->WaitReady(std::chrono::seconds(30))) {
    return UnavailableError("the enclave at " + binary + " did not start");
  }
  e.host = std::move(*host);
  return e;
}

}  // namespace neosl::bench
