#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "core/status.h"

namespace neosl::app {

struct ServeFlags {
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> config_file;
  std::optional<std::string> role;  // mesh.role: all | gateway | echo
};

// `neosl serve`: runs until SIGTERM or SIGINT, then drains and exits 0; 1 on a startup error.
int RunServe(const ServeFlags& flags);

// Writes `content` to `path` atomically (temp file, fsync, rename) with `mode`: readers see the
// old file or the whole new one. Shared by the subcommands that leave files for others to read.
Status WriteFileAtomic(const std::string& path, std::string_view content, mode_t mode);

// `neosl config print`: the effective configuration as JSON, secrets redacted.
int RunConfigPrint(const ServeFlags& flags);

}  // namespace neosl::app
