#include "crosscheck/neon_install.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace neosl::testing {

std::string EnsureNeonCore() {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::string prefix = NEOSL_NPM_PREFIX;
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
