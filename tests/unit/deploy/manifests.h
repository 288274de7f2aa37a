// Reading deploy/k8s the way kustomize would, for deploy_manifests_test.cpp: every YAML file, the
// builds (a kustomization directory and everything it pulls in), and the few Kubernetes shapes
// the checks need (pod templates, label selectors, host:port strings).
//
// Patches are checked to target something but are not applied: the overlays only change
// replicas, resources, spreading and the image, none of which the checks look at. A
// kustomization field this reader does not know is reported rather than ignored.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace neosl::deploy_test {

// The source tree: $NEOSL_TEST_SOURCE_DIR when set (to run the checks on a modified copy), else
// the tree this test was built from.
std::string SourceDir();
// A file's text, or nullopt when it cannot be read.
std::optional<std::string> ReadText(const std::string& path);
// Paths relative to the source dir of the files under `dir` (relative too) ending in `suffix`.
std::vector<std::string> FilesUnder(const std::string& dir, std::string_view suffix);

// The text of a scalar node, "" for anything else.
std::string Str(const YAML::Node& node);
// node[k1][k2]… without yaml-cpp's exception for a step through a missing key: an undefined
// (false) node when any step is missing or not a map.
YAML::Node At(const YAML::Node& node, std::initializer_list<std::string_view> path);

struct Object {
  std::string file;  // where it was written, relative to the source dir
  YAML::Node node;
  std::string kind, name;
  std::string Where() const { return file + ": " + kind + " " + name; }
};

struct Build {
  std::string dir;  // the kustomization directory, relative to the source dir
  std::string ns;   // its namespace
  std::vector<Object> objects;
  std::vector<std::string> problems;  // listed files that are missing, patches that match nothing, …

  const Object* Find(std::string_view kind, std::string_view name) const;
  std::vector<const Object*> OfKind(std::string_view kind) const;
};

// Every directory under deploy/k8s that holds a kustomization.yaml, relative to the source dir.
std::vector<std::string> KustomizationDirs();
Build LoadBuild(const std::string& dir);

using Labels = std::map<std::string, std::string>;
Labels LabelsOf(const YAML::Node& map);
// A LabelSelector (matchLabels and matchExpressions); an empty one matches everything.
bool SelectorMatches(const YAML::Node& selector, const Labels& labels);
bool SelectorIsEmpty(const YAML::Node& selector);
// A Service's or a PodDisruptionBudget-style plain map selector; an empty one matches nothing.
bool MapSelectorMatches(const YAML::Node& map, const Labels& labels);

struct PodTemplate {
  const Object* owner;
  Labels labels;
  YAML::Node metadata;  // .spec.template.metadata
  YAML::Node spec;      // .spec.template.spec
};
std::vector<PodTemplate> PodTemplates(const Build& build);

struct HostPort {
  std::string host;
  int port = -1;
};
// A port number 0-65535 written in decimal, else nullopt.
std::optional<int> ParsePort(std::string_view text);
// "host:port" or "[v6]:port".
std::optional<HostPort> ParseHostPort(std::string_view text);
// scheme://[user[:password]@]host[:port][/…]; the port defaults to the scheme's.
std::optional<HostPort> ParseUrlHost(std::string_view url);

}  // namespace neosl::deploy_test
