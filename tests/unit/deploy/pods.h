// What neosl itself knows, for deploy_manifests_test.cpp: its configuration keys and their
// variables, its roles, the mesh authorization policy; and the configuration a container of
// the manifests would start with (its config file, NEOSL_* variables and flags, through the real
// loader).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "unit/deploy/manifests.h"

namespace neosl::deploy_test {

// Configuration keys that work landing at the same time as the manifests adds, accepted as if
// they existed; remove each once it does (the test prints a note). Pending keys may be set only
// through NEOSL_* variables, since the config file is loaded by the real loader, which refuses
// unknown keys. (observability.listen, store.postgres.dsn and the automation role were pending
// and have landed.)
inline const std::set<std::string> kPendingKeys = {};

// Every configuration key (dotted path) of the embedded defaults.
const std::set<std::string>& KnownKeys();
// NEOSL_* variable → key, for every known key and every pending one.
const std::map<std::string, std::string>& KeyOfVariable();
// The roles `neosl serve --role` accepts (MeshRoles() in apps/neosl/mesh_host.cpp), without the
// pending ones; empty when that list cannot be found.
std::set<std::string> KnownRoles();
// caller → target pairs of deploy/mesh/policy.yaml.
std::set<std::pair<std::string, std::string>> PolicyPairs(std::string* error);

// The Secret templates of deploy/k8s/secrets/: name → key → placeholder value.
const std::map<std::string, std::map<std::string, std::string>>& SecretTemplates();

// A container running `neosl serve` (its image is neosl), with the configuration it would load.
struct ServeContainer {
  const PodTemplate* pod;
  YAML::Node node;
  std::string where;                          // file: Deployment name container name
  std::string role;                           // --role or NEOSL_MESH_ROLE; "" when neither
  std::map<std::string, std::string> env;     // resolved like the kubelet would ($(VAR), refs)
  std::map<std::string, std::string> flags;   // key → value from the args
  std::optional<std::string> config_file;     // the text of the file NEOSL_CONFIG / --config names
  std::string load_error;                     // Config::Load's refusal, if any
  std::vector<std::string> unused_env;        // NEOSL_* variables that matched no key
  std::map<std::string, std::string> values;  // effective configuration, key → text
  std::vector<std::string> problems;          // references that could not be resolved

  // The effective value of `key` (a pending key: its variable, if set); "" when unset.
  std::string Value(const std::string& key) const;
};

// The serve containers of `build`, each loaded through neosl::Config::Load.
std::vector<ServeContainer> ServeContainers(const Build& build, const std::vector<PodTemplate>& pods);

// The text a pod would see at `path` through a ConfigMap or Secret volume, else nullopt and `why`.
std::optional<std::string> FileThroughMounts(const Build& build, const PodTemplate& pod, const YAML::Node& container,
                                             const std::string& path, std::string* why);

// The container ports of a pod template: name → number, and the numbers.
std::map<std::string, int> NamedPorts(const PodTemplate& pod);
std::set<int> PortNumbers(const PodTemplate& pod);

}  // namespace neosl::deploy_test
