#pragma once

#include <optional>
#include <string>

namespace neosl::app {

struct ServeFlags {
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> config_file;
};

// `neosl serve`: runs until SIGTERM or SIGINT, then drains and exits 0; 1 on a startup error.
int RunServe(const ServeFlags& flags);

// `neosl config print`: the effective configuration as JSON, secrets redacted.
int RunConfigPrint(const ServeFlags& flags);

}  // namespace neosl::app
