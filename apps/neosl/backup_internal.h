// Shared by backup_cli.cpp (`neosl backup`) and backup_restore.cpp (`neosl restore`).
#pragma once

#include <optional>
#include <string>

#include "apps/neosl/cli_store.h"
#include "core/config.h"
#include "core/status.h"

namespace neosl::app::backup_internal {

struct BackupFlags {
  std::optional<std::string> data_dir;
  std::optional<std::string> config_file;
  std::string out;
  bool with_devchain = false;
};

struct RestoreFlags {
  std::string in;
  std::string data_dir;
  std::optional<std::string> config_file;
  bool force = false;
};

int RunBackup(const BackupFlags& flags);
int RunRestore(const RestoreFlags& flags);

// The exit status for an error: 1 when the input or the target was refused (a bad flag, a
// corrupt archive, a non-empty directory, a newer schema), 2 when the command could not run
// (I/O, a missing tool). Prints "neosl <command>: <message>" on stderr.
int Fail(std::string_view command, const Status& status);

// `value`, or `fallback` when it is empty (the config's "empty: <data_dir>/…" defaults).
std::string Or(const std::string& value, const std::string& fallback);

// fsync(2) of a directory, so that the renames in it survive a crash.
Status FsyncDir(const std::string& dir);

}  // namespace neosl::app::backup_internal
