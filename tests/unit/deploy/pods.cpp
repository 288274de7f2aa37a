#include "unit/deploy/pods.h"

#include <filesystem>
#include <regex>
#include <utility>

#include <boost/json.hpp>

#include "core/config.h"
#include "support/temp_dir.h"

namespace neosl::deploy_test {
namespace {

void Flatten(const boost::json::value& v, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (const auto& kv : v.as_object()) {
      Flatten(kv.value(), prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key()), out);
    }
    return;
  }
  out[prefix] = v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

std::map<std::string, std::string> Values(const Config& config) {
  std::map<std::string, std::string> out;
  Flatten(boost::json::parse(config.ToJson(/*redact=*/false)), "", out);
  return out;
}

// $(NAME) becomes the value of a variable defined earlier in the list, $$ a single $; anything
// else is left as it is (the kubelet's rules).
std::string Expand(const std::string& value, const std::map<std::string, std::string>& defined) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '$' && i + 1 < value.size() && value[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (value[i] == '$' && i + 1 < value.size() && value[i + 1] == '(') {
      auto close = value.find(')', i);
      auto it = close == std::string::npos ? defined.end() : defined.find(value.substr(i + 2, close - i - 2));
      if (it == defined.end()) {
        out += value[i];
        continue;
      }
      out += it->second;
      i = close;
    } else {
      out += value[i];
    }
  }
  return out;
}

std::string ImageName(const std::string& image) {
  std::string name = image.substr(0, image.find_first_of(":@"));
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

// A value for a downward-API field, as the kubelet would give it.
std::string FieldValue(const std::string& path, const PodTemplate& pod, const Build& build) {
  if (path == "status.podIP") return "10.1.2.3";
  if (path == "metadata.name") return pod.owner->name + "-5d9c7b6f8-x2x7k";
  if (path == "metadata.namespace") return build.ns;
  return "field";
}

void ResolveEnv(const Build& build, ServeContainer& c) {
  for (const auto& e : std::as_const(c.node)["env"]) {
    const std::string name = Str(e["name"]);
    const YAML::Node from = e["valueFrom"];
    if (!from) {
      c.env[name] = Expand(Str(e["value"]), c.env);
    } else if (from["fieldRef"]) {
      c.env[name] = FieldValue(Str(from["fieldRef"]["fieldPath"]), *c.pod, build);
    } else if (from["secretKeyRef"]) {
      const std::string secret = Str(from["secretKeyRef"]["name"]), key = Str(from["secretKeyRef"]["key"]);
      auto s = SecretTemplates().find(secret);
      if (s == SecretTemplates().end() || !s->second.count(key)) {
        c.problems.push_back(c.where + ": env " + name + " takes key '" + key + "' of Secret " + secret +
                             ", which deploy/k8s/secrets/ does not define");
        continue;
      }
      c.env[name] = s->second.at(key);
    } else if (from["configMapKeyRef"]) {
      const std::string cm = Str(from["configMapKeyRef"]["name"]), key = Str(from["configMapKeyRef"]["key"]);
      const Object* o = build.Find("ConfigMap", cm);
      if (o == nullptr || !At(o->node, {"data", key})) {
        c.problems.push_back(c.where + ": env " + name + " takes key '" + key + "' of ConfigMap " + cm +
                             ", which this build does not have");
        continue;
      }
      c.env[name] = Str(At(o->node, {"data", key}));
    } else {
      c.env[name] = "1";  // resourceFieldRef: a number
    }
  }
}

void ParseArgs(ServeContainer& c) {
  static const std::map<std::string, std::string> kFlags = {
      {"--role", "mesh.role"}, {"--listen", "listen"}, {"--data", "data_dir"}, {"--config", ""}};
  std::vector<std::string> args;
  for (const auto& a : std::as_const(c.node)["args"]) args.push_back(Expand(Str(a), c.env));
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    }
    auto it = kFlags.find(flag);
    if (it == kFlags.end()) {
      c.problems.push_back(c.where + ": argument '" + args[i] + "' is not a flag of neosl serve this test knows");
    } else if (it->second.empty()) {
      c.flags["--config"] = value;
    } else {
      c.flags[it->second] = value;
    }
  }
}

}  // namespace

const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> keys = [] {
    std::set<std::string> out;
    auto config = Config::Load(std::nullopt, {});
    if (config.ok()) {
      for (const auto& [key, value] : Values(*config)) out.insert(key);
    }
    return out;
  }();
  return keys;
}

const std::map<std::string, std::string>& KeyOfVariable() {
  static const std::map<std::string, std::string> vars = [] {
    std::map<std::string, std::string> out;
    for (const std::string& key : KnownKeys()) out[Config::EnvName(key)] = key;
    for (const std::string& key : kPendingKeys) out[Config::EnvName(key)] = key;
    return out;
  }();
  return vars;
}

std::set<std::string> KnownRoles() {
  std::set<std::string> roles;
  auto text = ReadText(SourceDir() + "/apps/neosl/mesh_host.cpp");
  if (!text) return roles;
  auto fn = text->find("MeshRoles() {");
  auto open = fn == std::string::npos ? fn : text->find('{', text->find('=', fn));
  auto close = open == std::string::npos ? open : text->find('}', open);
  if (close == std::string::npos) return roles;
  std::string list = text->substr(open, close - open);
  std::regex quoted("\"([a-z0-9-]+)\"");
  for (std::sregex_iterator it(list.begin(), list.end(), quoted), end; it != end; ++it) roles.insert((*it)[1]);
  return roles;
}

std::set<std::pair<std::string, std::string>> PolicyPairs(std::string* error) {
  std::set<std::pair<std::string, std::string>> pairs;
  try {
    for (const YAML::Node& doc : YAML::LoadAllFromFile(SourceDir() + "/deploy/mesh/policy.yaml")) {
      for (const auto& call : doc["allowed_calls"]) pairs.emplace(Str(doc["service"]), Str(call["target_service"]));
    }
  } catch (const YAML::Exception& e) {
    *error = std::string("deploy/mesh/policy.yaml: ") + e.what();
  }
  return pairs;
}

const std::map<std::string, std::map<std::string, std::string>>& SecretTemplates() {
  static const auto secrets = [] {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (const std::string& file : FilesUnder("deploy/k8s/secrets", ".yaml")) {
      try {
        for (const YAML::Node& doc : YAML::LoadAllFromFile(SourceDir() + "/" + file)) {
          if (Str(doc["kind"]) != "Secret") continue;
          auto& keys = out[Str(At(doc, {"metadata", "name"}))];
          for (const auto& kv : doc["stringData"]) keys[Str(kv.first)] = Str(kv.second);
          for (const auto& kv : doc["data"]) keys[Str(kv.first)] = "(base64)";
        }
      } catch (const YAML::Exception&) {
        // Reported by the test that parses every file.
      }
    }
    return out;
  }();
  return secrets;
}

std::string ServeContainer::Value(const std::string& key) const {
  if (auto it = values.find(key); it != values.end()) return it->second;
  if (auto it = env.find(Config::EnvName(key)); kPendingKeys.count(key) && it != env.end()) return it->second;
  return "";
}

std::optional<std::string> FileThroughMounts(const Build& build, const PodTemplate& pod, const YAML::Node& container,
                                             const std::string& path, std::string* why) {
  for (const auto& m : container["volumeMounts"]) {
    const std::string mount = Str(m["mountPath"]);
    if (path.size() <= mount.size() + 1 || path.compare(0, mount.size(), mount) != 0 || path[mount.size()] != '/') {
      continue;
    }
    std::string key = path.substr(mount.size() + 1);
    for (const auto& v : pod.spec["volumes"]) {
      if (Str(v["name"]) != Str(m["name"]) || !(v["configMap"] || v["secret"])) continue;
      const YAML::Node source = v["configMap"] ? v["configMap"] : v["secret"];
      for (const auto& item : source["items"]) {
        if (Str(item["path"]) == key) key = Str(item["key"]);
      }
      if (v["configMap"]) {
        const Object* cm = build.Find("ConfigMap", Str(v["configMap"]["name"]));
        if (cm != nullptr && At(cm->node, {"data", key})) return Str(At(cm->node, {"data", key}));
        *why = "ConfigMap " + Str(v["configMap"]["name"]) + " has no key '" + key + "'";
        return std::nullopt;
      }
      if (v["secret"]) {
        auto s = SecretTemplates().find(Str(v["secret"]["secretName"]));
        if (s != SecretTemplates().end() && s->second.count(key)) return s->second.at(key);
        *why = "Secret " + Str(v["secret"]["secretName"]) + " has no key '" + key + "'";
        return std::nullopt;
      }
    }
  }
  *why = "no ConfigMap or Secret volume is mounted there";
  return std::nullopt;
}

std::vector<ServeContainer> ServeContainers(const Build& build, const std::vector<PodTemplate>& pods) {
  std::vector<ServeContainer> out;
  for (const PodTemplate& pod : pods) {
    for (const auto& node : pod.spec["containers"]) {
      if (ImageName(Str(node["image"])) != "neosl" || node["command"]) continue;
      ServeContainer c;
      c.pod = &pod;
      c.node.reset(node);
      c.where = pod.owner->Where() + " container " + Str(node["name"]);
      ResolveEnv(build, c);
      ParseArgs(c);
      c.role = c.flags.count("mesh.role") ? c.flags["mesh.role"]
                                          : (c.env.count("NEOSL_MESH_ROLE") ? c.env["NEOSL_MESH_ROLE"] : "");

      std::string path = c.flags.count("--config") ? c.flags["--config"] : c.env["NEOSL_CONFIG"];
      std::optional<std::string> file_path;
      neosl::testing::TempDir dir;
      if (!path.empty()) {
        std::string why;
        c.config_file = FileThroughMounts(build, pod, node, path, &why);
        if (!c.config_file) {
          c.problems.push_back(c.where + ": config file " + path + " cannot be found: " + why);
        } else {
          file_path = dir.File("neosl.yaml");
          neosl::testing::WriteFile(*file_path, *c.config_file);
        }
      }
      std::map<std::string, std::string> flags = c.flags;
      flags.erase("--config");
      auto config = Config::Load(file_path, c.env, flags);
      if (!config.ok()) {
        c.load_error = config.status().ToString();
      } else {
        c.values = Values(*config);
        for (const std::string& var : config->UnusedEnvironment()) {
          auto key = KeyOfVariable().find(var);
          if (key == KeyOfVariable().end() || !kPendingKeys.count(key->second)) c.unused_env.push_back(var);
        }
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

std::map<std::string, int> NamedPorts(const PodTemplate& pod) {
  std::map<std::string, int> out;
  for (const auto& c : pod.spec["containers"]) {
    for (const auto& p : c["ports"]) {
      if (p["name"]) out[Str(p["name"])] = p["containerPort"].as<int>(-1);
    }
  }
  return out;
}

std::set<int> PortNumbers(const PodTemplate& pod) {
  std::set<int> out;
  for (const auto& c : pod.spec["containers"]) {
    for (const auto& p : c["ports"]) out.insert(p["containerPort"].as<int>(-1));
  }
  return out;
}

}  // namespace neosl::deploy_test
