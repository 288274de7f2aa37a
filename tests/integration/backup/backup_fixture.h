// Helpers for the `neosl backup` / `neosl restore` tests: running the commands, looking at the
// files they leave, and waiting on conditions with a deadline.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace neosl::testing::backup_test {

namespace json = boost::json;

// Polls `condition` until it holds or 30 s pass.
inline bool WaitUntil(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, bounded by the deadline
  }
  return condition();
}

// Permission bits of `path`, or -1 if it is not there.
inline int Mode(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? int(st.st_mode & 07777) : -1;
}

// Every entry under `dir`, relative, sorted ("" for a directory that does not exist).
inline std::vector<std::string> Tree(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return out;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    out.push_back(std::filesystem::path(it->path()).lexically_relative(dir).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << "not JSON: " << text;
  return v;
}

// `neosl backup --data DIR --out FILE [extra…]`.
inline CommandResult Backup(const std::string& data_dir, const std::string& out,
                            const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"backup", "--data", data_dir, "--out", out};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunNeosl(args);
}

// `neosl restore --in FILE --data DIR [extra…]`.
inline CommandResult Restore(const std::string& in, const std::string& data_dir,
                             const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"restore", "--in", in, "--data", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunNeosl(args);
}

}  // namespace neosl::testing::backup_test
