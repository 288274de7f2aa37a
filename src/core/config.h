// Configuration: embedded defaults, then one YAML file, then NEOSL_* environment variables,
// then command-line flags, each layer overriding the one before.
//
// Every key is a dotted path ("gateway.max_body_bytes"); its environment variable is NEOSL_
// followed by the path upper-cased with '.' and '-' turned into '_'
// (NEOSL_GATEWAY_MAX_BODY_BYTES). A few maps are open (rate_limits.per_caller, …): their entries
// are named by the file, and then overridable from the environment like any other key.
//
// Values are typed by the defaults (bool, integer, string); a file or variable that gives the
// wrong type, or names a key that does not exist, is refused with INVALID_ARGUMENT naming the
// key, so a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace neosl {

class Config {
 public:
  enum class Kind { kBool, kInt, kString };
  enum class Source { kDefault, kFile, kEnv, kFlag };
  struct Entry {
    Kind kind;
    std::string value;  // canonical text: "true"/"false", decimal integer, or the string
    Source source = Source::kDefault;
  };

  // `file`: the YAML file, or nullopt for defaults only. `env`: the process environment (a map,
  // so tests can pass their own). `flags`: path → value from the command line.
  static StatusOr<Config> Load(const std::optional<std::string>& file, const std::map<std::string, std::string>& env,
                               const std::map<std::string, std::string>& flags = {});

  // The process environment as a map, for Load.
  static std::map<std::string, std::string> ProcessEnvironment();

  // Typed reads. The key must exist (they are all declared in the defaults); asking for an
  // unknown key or the wrong type is a programming error and aborts with its name.
  bool Bool(std::string_view key) const;
  int64_t Int(std::string_view key) const;
  const std::string& String(std::string_view key) const;
  bool Has(std::string_view key) const;

  // The names of the entries of an open map ("rate_limits.per_caller" → {"default", …}).
  std::vector<std::string> Children(std::string_view prefix) const;

  // The effective configuration as a JSON object (nested like the YAML), secrets replaced by
  // "<redacted>" unless `redact` is false.
  std::string ToJson(bool redact = true) const;

  // NEOSL_* variables that matched no key: almost always a typo, so serve logs them.
  const std::vector<std::string>& UnusedEnvironment() const { return unused_env_; }

  // Whether a key holds a secret (its last segment ends in secret, password, token or dsn).
  static bool IsSecretKey(std::string_view key);
  // NEOSL_GATEWAY_MAX_BODY_BYTES for "gateway.max_body_bytes".
  static std::string EnvName(std::string_view key);

  // The embedded defaults, as YAML text (also what `neosl config defaults` prints).
  static std::string_view DefaultsYaml();

 private:
  Status Set(const std::string& key, std::string_view text, Source source);
  const Entry& Get(std::string_view key, Kind kind) const;

  std::map<std::string, Entry, std::less<>> entries_;
  std::vector<std::string> unused_env_;
};

}  // namespace neosl
