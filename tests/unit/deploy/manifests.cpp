#include "unit/deploy/manifests.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace neosl::deploy_test {
namespace fs = std::filesystem;

namespace {

// The fields of a kustomization this reader understands; anything else is reported.
const std::set<std::string> kKustomizationFields = {"apiVersion",         "kind",    "namespace", "resources",
                                                    "configMapGenerator", "patches", "replicas",  "images"};

std::string Join(const std::string& dir, const std::string& rel) {
  return (fs::path(dir) / rel).lexically_normal().string();
}

std::string Abs(const std::string& rel) {
  return (fs::path(SourceDir()) / rel).string();
}

bool IsKustomizationDir(const std::string& rel) {
  return fs::is_regular_file(Abs(Join(rel, "kustomization.yaml")));
}

// A ConfigMap as kustomize's configMapGenerator makes it (the name without the hash suffix,
// which kustomize also rewrites in every reference).
Object GeneratedConfigMap(const std::string& dir, const YAML::Node& generator, Build& build) {
  YAML::Node cm;
  cm["apiVersion"] = "v1";
  cm["kind"] = "ConfigMap";
  cm["metadata"]["name"] = Str(generator["name"]);
  cm["data"] = YAML::Node(YAML::NodeType::Map);
  for (const auto& entry : generator["files"]) {
    std::string spec = Str(entry);
    std::string key = spec, path = spec;
    if (auto eq = spec.find('='); eq != std::string::npos) {
      key = spec.substr(0, eq);
      path = spec.substr(eq + 1);
    } else {
      key = fs::path(spec).filename().string();
    }
    auto text = ReadText(Abs(Join(dir, path)));
    if (!text) {
      build.problems.push_back(dir + "/kustomization.yaml: configMapGenerator " + Str(generator["name"]) + " lists " +
                               path + ", which does not exist");
      continue;
    }
    cm["data"][key] = *text;
  }
  for (const auto& entry : generator["literals"]) {
    std::string spec = Str(entry);
    auto eq = spec.find('=');
    if (eq != std::string::npos) cm["data"][spec.substr(0, eq)] = spec.substr(eq + 1);
  }
  return Object{dir + "/kustomization.yaml", cm, "ConfigMap", Str(generator["name"])};
}

struct PendingPatch {
  std::string where;
  YAML::Node target;
  std::vector<YAML::Node> docs;
};

void LoadInto(const std::string& dir, Build& build, std::vector<PendingPatch>& patches,
              std::set<std::string>& visiting) {
  const std::string kfile = dir + "/kustomization.yaml";
  if (!visiting.insert(dir).second) {
    build.problems.push_back(kfile + ": included twice (or in a cycle)");
    return;
  }
  YAML::Node k;
  try {
    k.reset(YAML::LoadFile(Abs(kfile)));
  } catch (const YAML::Exception& e) {
    build.problems.push_back(kfile + ": " + e.what());
    return;
  }
  if (!k.IsMap()) {
    build.problems.push_back(kfile + ": not a map");
    return;
  }
  const YAML::Node& kc = k;
  for (const auto& kv : kc) {
    if (!kKustomizationFields.count(Str(kv.first))) {
      build.problems.push_back(kfile + ": field '" + Str(kv.first) +
                               "' is not understood by tests/unit/deploy/manifests.cpp; teach it before using it");
    }
  }
  if (build.ns.empty()) build.ns = Str(kc["namespace"]);
  for (const auto& r : kc["resources"]) {
    const std::string rel = Join(dir, Str(r));
    if (fs::is_directory(Abs(rel))) {
      if (!IsKustomizationDir(rel)) {
        build.problems.push_back(kfile + ": resource " + Str(r) + " is a directory without kustomization.yaml");
        continue;
      }
      LoadInto(rel, build, patches, visiting);
      continue;
    }
    if (!fs::is_regular_file(Abs(rel))) {
      build.problems.push_back(kfile + ": resource " + Str(r) + " does not exist");
      continue;
    }
    try {
      for (const YAML::Node& doc : YAML::LoadAllFromFile(Abs(rel))) {
        if (!doc.IsMap()) continue;
        build.objects.push_back(Object{rel, doc, Str(doc["kind"]), Str(At(doc, {"metadata", "name"}))});
      }
    } catch (const YAML::Exception& e) {
      build.problems.push_back(rel + ": " + e.what());
    }
  }
  for (const auto& g : kc["configMapGenerator"]) build.objects.push_back(GeneratedConfigMap(dir, g, build));
  for (const auto& p : kc["patches"]) {
    PendingPatch patch{kfile + ": patch " + (p["path"] ? Str(p["path"]) : std::string("(inline)")), p["target"], {}};
    try {
      if (p["path"]) {
        const std::string rel = Join(dir, Str(p["path"]));
        if (!fs::is_regular_file(Abs(rel))) {
          build.problems.push_back(kfile + ": patch " + Str(p["path"]) + " does not exist");
          continue;
        }
        patch.docs = YAML::LoadAllFromFile(Abs(rel));
      } else {
        patch.docs = YAML::LoadAll(Str(p["patch"]));
      }
    } catch (const YAML::Exception& e) {
      build.problems.push_back(patch.where + ": " + e.what());
      continue;
    }
    patches.push_back(std::move(patch));
  }
  for (const auto& r : kc["replicas"]) {
    patches.push_back(PendingPatch{kfile + ": replicas of " + Str(r["name"]), {}, {}});
    patches.back().target["kind"] = "Deployment";
    patches.back().target["name"] = Str(r["name"]);
  }
  visiting.erase(dir);
}

}  // namespace

std::string SourceDir() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing sets the environment
  if (const char* dir = std::getenv("NEOSL_TEST_SOURCE_DIR"); dir != nullptr && *dir != '\0') return dir;
  return NEOSL_SOURCE_DIR;
}

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> FilesUnder(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(Abs(dir), ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string rel = fs::relative(it->path(), SourceDir()).string();
    if (rel.size() >= suffix.size() && rel.compare(rel.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(rel);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Str(const YAML::Node& node) {
  return node && node.IsScalar() ? node.Scalar() : std::string();
}

YAML::Node At(const YAML::Node& node, std::initializer_list<std::string_view> path) {
  YAML::Node current(node);
  for (std::string_view key : path) {
    if (!current || !current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = current;
    YAML::Node next = map[std::string(key)];
    if (!next) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);  // rebind; operator= would overwrite the node shared with the document
  }
  return current;
}

const Object* Build::Find(std::string_view kind, std::string_view name) const {
  for (const Object& o : objects) {
    if (o.kind == kind && o.name == name) return &o;
  }
  return nullptr;
}

std::vector<const Object*> Build::OfKind(std::string_view kind) const {
  std::vector<const Object*> out;
  for (const Object& o : objects) {
    if (o.kind == kind) out.push_back(&o);
  }
  return out;
}

std::vector<std::string> KustomizationDirs() {
  std::vector<std::string> out;
  for (const std::string& file : FilesUnder("deploy/k8s", "/kustomization.yaml")) {
    out.push_back(fs::path(file).parent_path().string());
  }
  return out;
}

Build LoadBuild(const std::string& dir) {
  Build build;
  build.dir = dir;
  std::vector<PendingPatch> patches;
  std::set<std::string> visiting;
  LoadInto(dir, build, patches, visiting);
  // Each patch must change something that exists: a target (kind, optional name), else the kind
  // and name its documents carry (strategic merge).
  for (const PendingPatch& p : patches) {
    std::vector<std::pair<std::string, std::string>> wanted;
    if (p.target) {
      wanted.emplace_back(Str(p.target["kind"]), Str(p.target["name"]));
    } else {
      for (const YAML::Node& doc : p.docs) {
        if (doc.IsMap()) wanted.emplace_back(Str(doc["kind"]), Str(At(doc, {"metadata", "name"})));
      }
      if (wanted.empty()) build.problems.push_back(p.where + ": a list patch needs a target");
    }
    for (const auto& want : wanted) {
      bool found = std::any_of(build.objects.begin(), build.objects.end(), [&want](const Object& o) {
        return o.kind == want.first && (want.second.empty() || o.name == want.second);
      });
      if (!found) {
        build.problems.push_back(p.where + ": no " + want.first + (want.second.empty() ? "" : " " + want.second) +
                                 " to patch");
      }
    }
  }
  return build;
}

Labels LabelsOf(const YAML::Node& map) {
  Labels out;
  if (!map || !map.IsMap()) return out;
  for (const auto& kv : map) out[Str(kv.first)] = Str(kv.second);
  return out;
}

bool SelectorIsEmpty(const YAML::Node& selector) {
  return !selector || selector.IsNull() || (selector.IsMap() && selector.size() == 0);
}

bool SelectorMatches(const YAML::Node& selector, const Labels& labels) {
  if (SelectorIsEmpty(selector)) return true;
  for (const auto& [key, value] : LabelsOf(selector["matchLabels"])) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& e : selector["matchExpressions"]) {
    const std::string key = Str(e["key"]), op = Str(e["operator"]);
    std::set<std::string> values;
    for (const auto& v : e["values"]) values.insert(Str(v));
    auto it = labels.find(key);
    bool has = it != labels.end();
    if (op == "In" && !(has && values.count(it->second))) return false;
    if (op == "NotIn" && has && values.count(it->second)) return false;
    if (op == "Exists" && !has) return false;
    if (op == "DoesNotExist" && has) return false;
  }
  return true;
}

bool MapSelectorMatches(const YAML::Node& map, const Labels& labels) {
  Labels wanted = LabelsOf(map);
  if (wanted.empty()) return false;
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& kv) {
    auto it = labels.find(kv.first);
    return it != labels.end() && it->second == kv.second;
  });
}

std::vector<PodTemplate> PodTemplates(const Build& build) {
  std::vector<PodTemplate> out;
  for (const Object& o : build.objects) {
    if (o.kind != "Deployment" && o.kind != "StatefulSet" && o.kind != "DaemonSet") continue;
    const YAML::Node t = At(o.node, {"spec", "template"});
    out.push_back(PodTemplate{&o, LabelsOf(At(t, {"metadata", "labels"})), At(t, {"metadata"}), At(t, {"spec"})});
  }
  return out;
}

std::optional<int> ParsePort(std::string_view text) {
  int port = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || port < 0 || port > 65535) {
    return std::nullopt;
  }
  return port;
}

std::optional<HostPort> ParseHostPort(std::string_view text) {
  HostPort out;
  std::string_view port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  auto number = ParsePort(port);
  if (!number) return std::nullopt;
  out.port = *number;
  return out;
}

std::optional<HostPort> ParseUrlHost(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  std::string_view scheme = url.substr(0, scheme_end);
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (auto hp = ParseHostPort(rest)) return hp;
  int port = scheme == "https" || scheme == "wss"             ? 443
             : scheme == "http" || scheme == "ws"             ? 80
             : scheme == "postgres" || scheme == "postgresql" ? 5432
                                                              : -1;
  if (rest.empty() || port < 0) return std::nullopt;
  return HostPort{std::string(rest), port};
}

}  // namespace neosl::deploy_test
