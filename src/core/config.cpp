#include "core/config.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "core/encoding.h"

extern char** environ;

namespace neosl {
namespace {

constexpr std::string_view kTemplate = "_template";

std::string_view KindName(Config::Kind k) {
  switch (k) {
    case Config::Kind::kBool: return "a boolean";
    case Config::Kind::kInt: return "a non-negative integer";
    case Config::Kind::kString: return "a string";
  }
  return "?";
}

// yaml-cpp throws; these helpers keep its exceptions inside this file.
StatusOr<YAML::Node> ParseYaml(const std::string& text, const std::string& origin) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(origin + ": invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

struct Scalar {
  std::string path;
  std::string text;
  bool quoted;
  bool null;
};

Status Flatten(const YAML::Node& node, const std::string& prefix, std::vector<Scalar>& out, const std::string& origin) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return InvalidArgumentError(origin + ": map keys must be strings");
        std::string key = kv.first.Scalar();
        if (key.empty() || key.find('.') != std::string::npos) {
          return InvalidArgumentError(origin + ": invalid key name '" + key + "' under '" + prefix + "'");
        }
        RETURN_IF_ERROR(Flatten(kv.second, prefix.empty() ? key : prefix + "." + key, out, origin));
      }
      return Status();
    case YAML::NodeType::Scalar: out.push_back({prefix, node.Scalar(), node.Tag() == "!", false}); return Status();
    case YAML::NodeType::Null:
      if (prefix.empty()) return Status();  // an empty file
      out.push_back({prefix, "", false, true});
      return Status();
    case YAML::NodeType::Sequence:
      return InvalidArgumentError(origin + ": '" + prefix + "' is a list; no key takes a list");
    case YAML::NodeType::Undefined: break;
  }
  return InvalidArgumentError(origin + ": unreadable value at '" + prefix + "'");
}

bool ParseBool(std::string_view s, bool* out) {
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on" || s == "1") {
    *out = true;
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off" || s == "0") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// The open map that `path` falls under ("rate_limits.per_caller.k1.burst" → prefix
// "rate_limits.per_caller", name "k1", rest "burst"), if any.
struct OpenMapHit {
  std::string prefix, name, rest;
};

}  // namespace

// The parsed defaults and the templates of open maps, built once.
namespace {
struct Defaults {
  std::map<std::string, Config::Entry, std::less<>> entries;
  std::map<std::string, std::map<std::string, Config::Entry>> templates;  // prefix → rest → entry
};

Config::Kind InferKind(const Scalar& s) {
  bool b;
  int64_t i;
  if (s.quoted) return Config::Kind::kString;
  if (s.text == "true" || s.text == "false") return Config::Kind::kBool;
  if (ParseInt(s.text, &i)) return Config::Kind::kInt;
  (void)b;
  return Config::Kind::kString;
}

const Defaults& GetDefaults() {
  static const Defaults* d = [] {
    auto* out = new Defaults();
    auto node = ParseYaml(std::string(Config::DefaultsYaml()), "embedded defaults");
    std::vector<Scalar> scalars;
    if (!node.ok() || !Flatten(*node, "", scalars, "embedded defaults").ok()) {
      std::fputs("fatal: embedded configuration defaults do not parse\n", stderr);
      std::abort();
    }
    for (const Scalar& s : scalars) {
      Config::Entry e{InferKind(s), s.text, Config::Source::kDefault};
      auto t = s.path.find(std::string(".") + std::string(kTemplate) + ".");
      if (t != std::string::npos) {
        out->templates[s.path.substr(0, t)][s.path.substr(t + kTemplate.size() + 2)] = e;
      } else {
        out->entries[s.path] = e;
      }
    }
    return out;
  }();
  return *d;
}

std::optional<OpenMapHit> FindOpenMap(const std::string& path) {
  for (const auto& [prefix, tmpl] : GetDefaults().templates) {
    if (path.size() > prefix.size() + 1 && path.compare(0, prefix.size(), prefix) == 0 && path[prefix.size()] == '.') {
      std::string tail = path.substr(prefix.size() + 1);
      auto dot = tail.find('.');
      if (dot == std::string::npos) return OpenMapHit{prefix, tail, ""};
      return OpenMapHit{prefix, tail.substr(0, dot), tail.substr(dot + 1)};
    }
  }
  return std::nullopt;
}
}  // namespace

Status Config::Set(const std::string& key, std::string_view text, Source source) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return InvalidArgumentError("unknown configuration key '" + key + "'");
  Entry& e = it->second;
  switch (e.kind) {
    case Kind::kBool: {
      bool b;
      if (!ParseBool(text, &b)) {
        return InvalidArgumentError("configuration key '" + key + "' must be " + std::string(KindName(e.kind)));
      }
      e.value = b ? "true" : "false";
      break;
    }
    case Kind::kInt: {
      int64_t i;
      if (!ParseInt(text, &i) || i < 0) {
        return InvalidArgumentError("configuration key '" + key + "' must be " + std::string(KindName(e.kind)));
      }
      e.value = std::to_string(i);
      break;
    }
    case Kind::kString: e.value = std::string(text); break;
  }
  e.source = source;
  return Status();
}

StatusOr<Config> Config::Load(const std::optional<std::string>& file, const std::map<std::string, std::string>& env,
                              const std::map<std::string, std::string>& flags) {
  Config c;
  const Defaults& d = GetDefaults();
  for (const auto& [k, e] : d.entries) c.entries_.emplace(k, e);

  if (file) {
    std::ifstream in(*file);
    if (!in) return NotFoundError("cannot read config file '" + *file + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(ss.str(), *file));
    if (!root.IsNull() && !root.IsMap()) {
      return InvalidArgumentError(*file + ": the top level must be a map of keys");
    }
    std::vector<Scalar> scalars;
    RETURN_IF_ERROR(Flatten(root, "", scalars, *file));
    for (const Scalar& s : scalars) {
      // `neosl config defaults` output must load as a file: its _template entries describe the
      // open maps and are not settings, so they are skipped.
      if (s.path.find("." + std::string(kTemplate) + ".") != std::string::npos && FindOpenMap(s.path)) {
        auto hit = FindOpenMap(s.path);
        if (hit->name == kTemplate && d.templates.at(hit->prefix).count(hit->rest)) continue;
      }
      if (!c.entries_.count(s.path)) {
        auto hit = FindOpenMap(s.path);
        if (!hit) return InvalidArgumentError(*file + ": unknown configuration key '" + s.path + "'");
        const auto& tmpl = d.templates.at(hit->prefix);
        if (hit->rest.empty() || !tmpl.count(hit->rest) || hit->name == kTemplate) {
          return InvalidArgumentError(*file + ": unknown configuration key '" + s.path + "'");
        }
        // First mention of a new entry of the map: give it every field of the template.
        for (const auto& [rest, e] : tmpl) {
          c.entries_.emplace(hit->prefix + "." + hit->name + "." + rest, e);
        }
      }
      if (s.null) return InvalidArgumentError(*file + ": configuration key '" + s.path + "' has no value");
      RETURN_IF_ERROR(c.Set(s.path, s.text, Source::kFile).Annotate(*file));
    }
  }

  std::map<std::string, std::string> matched;
  for (auto& [key, e] : c.entries_) {
    auto it = env.find(EnvName(key));
    if (it == env.end()) continue;
    RETURN_IF_ERROR(c.Set(key, it->second, Source::kEnv).Annotate("environment " + it->first));
    matched[it->first] = key;
  }
  static const char* const kNotConfig[] = {"NEOSL_CONFIG", "NEOSL_BINARY"};
  for (const auto& [name, value] : env) {
    if (name.rfind("NEOSL_", 0) != 0 || matched.count(name)) continue;
    bool known = false;
    for (const char* k : kNotConfig) known = known || name == k;
    if (!known) c.unused_env_.push_back(name);
  }

  for (const auto& [key, value] : flags) {
    RETURN_IF_ERROR(c.Set(key, value, Source::kFlag).Annotate("command line"));
  }
  return c;
}

std::map<std::string, std::string> Config::ProcessEnvironment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return out;
}

const Config::Entry& Config::Get(std::string_view key, Kind kind) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.kind != kind) {
    std::fprintf(stderr, "fatal: configuration key '%.*s' read as %s\n", int(key.size()), key.data(),
                 std::string(KindName(kind)).c_str());
    std::abort();
  }
  return it->second;
}

bool Config::Bool(std::string_view key) const {
  return Get(key, Kind::kBool).value == "true";
}

int64_t Config::Int(std::string_view key) const {
  int64_t v = 0;
  ParseInt(Get(key, Kind::kInt).value, &v);
  return v;
}

const std::string& Config::String(std::string_view key) const {
  return Get(key, Kind::kString).value;
}

bool Config::Has(std::string_view key) const {
  return entries_.find(key) != entries_.end();
}

std::vector<std::string> Config::Children(std::string_view prefix) const {
  std::vector<std::string> out;
  std::string p = std::string(prefix) + ".";
  for (auto it = entries_.lower_bound(p); it != entries_.end() && it->first.rfind(p, 0) == 0; ++it) {
    std::string name = it->first.substr(p.size());
    name = name.substr(0, name.find('.'));
    if (out.empty() || out.back() != name) out.push_back(name);
  }
  return out;
}

bool Config::IsSecretKey(std::string_view key) {
  auto last = key.substr(key.rfind('.') == std::string_view::npos ? 0 : key.rfind('.') + 1);
  auto ends = [&](std::string_view suffix) {
    return last.size() >= suffix.size() && last.substr(last.size() - suffix.size()) == suffix;
  };
  return ends("secret") || ends("password") || ends("token") || ends("dsn");
}

std::string Config::EnvName(std::string_view key) {
  std::string out = "NEOSL_";
  for (char ch : key) {
    if (ch >= 'a' && ch <= 'z') {
      out.push_back(static_cast<char>(ch - 'a' + 'A'));
    } else if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) {
      out.push_back(ch);
    } else {
      out.push_back('_');
    }
  }
  return out;
}

std::string Config::ToJson(bool redact) const {
  // Entries are sorted by path, so a nested object can be written in one pass by opening and
  // closing objects as the common prefix changes.
  std::string out = "{";
  std::vector<std::string> open;  // current object path
  bool first_in_object = true;
  for (const auto& [key, e] : entries_) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
      size_t dot = key.find('.', start);
      parts.push_back(key.substr(start, dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    size_t common = 0;
    while (common < open.size() && common + 1 < parts.size() && open[common] == parts[common]) ++common;
    while (open.size() > common) {
      out += "}";
      open.pop_back();
      first_in_object = false;
    }
    for (size_t i = common; i + 1 < parts.size(); ++i) {
      if (!first_in_object) out += ",";
      out += "\"";
      AppendJsonEscaped(out, parts[i]);
      out += "\":{";
      open.push_back(parts[i]);
      first_in_object = true;
    }
    if (!first_in_object) out += ",";
    first_in_object = false;
    out += "\"";
    AppendJsonEscaped(out, parts.back());
    out += "\":";
    if (redact && IsSecretKey(key) && !e.value.empty()) {
      out += "\"<redacted>\"";
    } else if (e.kind == Kind::kString) {
      out += "\"";
      AppendJsonEscaped(out, e.value);
      out += "\"";
    } else {
      out += e.value;
    }
  }
  while (!open.empty()) {
    out += "}";
    open.pop_back();
  }
  out += "}";
  return out;
}

}  // namespace neosl
