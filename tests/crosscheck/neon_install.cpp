#include "crosscheck/neon_install.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace neosl::testing {

namespace {

// An exclusive flock on a file: ctest runs the cross-check tests in parallel processes, and two
// npm installs into one prefix break each other.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace

std::string EnsureNeonCore() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::string prefix = NEOSL_NPM_PREFIX;
  std::filesystem::create_directories(prefix);
  FileLock file_lock(prefix + "/.install.lock");
  std::string pkg = prefix + "/node_modules/@cityofzion/neon-core/package.json";
  std::ifstream in(pkg);
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().find(std::string("\"version\": \"") + kNeonVersion + "\"") == std::string::npos) {
    std::filesystem::create_directories(prefix);
    std::string cmd = "npm install --prefix '" + prefix +
                      "' --no-audit --no-fund --silent --no-save @cityofzion/neon-core@" + kNeonVersion + " >'" +
                      prefix + "/npm.log' 2>&1";
    if (std::system(cmd.c_str()) != 0) return "";
  }
  return prefix + "/node_modules";
}

}  // namespace neosl::testing
