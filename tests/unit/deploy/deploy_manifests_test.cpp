// The Kubernetes manifests (deploy/k8s) and the Dockerfile against the code they deploy
// (issue #14). Nothing here can run a cluster or build an image, so this checks what can be
// checked without one: every file parses; every kustomization lists files that exist; every
// container's configuration (the ConfigMap's neosl.yaml, its NEOSL_* variables and flags) loads
// through neosl's own config loader, which refuses unknown keys; roles are roles; ports, probes
// and Services agree with the listen addresses of the configuration; the addresses in the
// configuration name Services that exist; NetworkPolicies select pods that exist and open the
// mesh port for exactly the caller → target pairs of deploy/mesh/policy.yaml; the Dockerfile
// exposes the ports the pods use. Each failure names the file and the item at fault.
#include <algorithm>
#include <cctype>
#include <functional>
#include <iostream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.h"
#include "support/temp_dir.h"
#include "unit/deploy/build_test.h"
#include "unit/deploy/manifests.h"
#include "unit/deploy/pods.h"

namespace neosl::deploy_test {
namespace {

// Every YAML document under deploy/k8s, with the file it came from (a parse error fails the
// test that reads them all, not this).
std::vector<std::pair<std::string, YAML::Node>> AllDocuments() {
  std::vector<std::pair<std::string, YAML::Node>> out;
  for (const std::string& file : FilesUnder("deploy/k8s", ".yaml")) {
    try {
      for (const YAML::Node& doc : YAML::LoadAllFromFile(SourceDir() + "/" + file)) out.emplace_back(file, doc);
    } catch (const YAML::Exception&) {
    }
  }
  return out;
}

void VisitMaps(const YAML::Node& node, const std::function<void(const YAML::Node&)>& visit) {
  if (node.IsMap()) {
    visit(node);
    for (const auto& kv : node) VisitMaps(kv.second, visit);
  } else if (node.IsSequence()) {
    for (const auto& item : node) VisitMaps(item, visit);
  }
}

TEST(DeployManifests, EveryYamlFileParses) {
  std::vector<std::string> files = FilesUnder("deploy/k8s", ".yaml");
  for (const std::string& f : FilesUnder("deploy/k8s", ".yml")) files.push_back(f);
  files.emplace_back("deploy/mesh/policy.yaml");
  ASSERT_GT(files.size(), 10u) << "deploy/k8s under " << SourceDir() << " holds almost nothing";
  for (const std::string& file : files) {
    try {
      EXPECT_FALSE(YAML::LoadAllFromFile(SourceDir() + "/" + file).empty()) << file << ": no YAML document";
    } catch (const YAML::Exception& e) {
      ADD_FAILURE() << file << ": " << e.what();
    }
  }
}

TEST(DeployManifests, TheBuildsAreFound) {
  std::vector<std::string> dirs = KustomizationDirs();
  for (const char* want : {"deploy/k8s/base", "deploy/k8s/overlays/dev", "deploy/k8s/overlays/production"}) {
    EXPECT_THAT(dirs, ::testing::Contains(want)) << "no kustomization.yaml in " << want;
  }
}

TEST(DeployManifests, PendingKeysAreStillPending) {
  // Not a failure: a reminder to shorten the list in pods.h once the keys exist.
  for (const std::string& key : kPendingKeys) {
    if (KnownKeys().count(key)) std::cout << "note: " << key << " now exists; drop it from kPendingKeys\n";
  }
  EXPECT_FALSE(KnownKeys().empty()) << "the embedded config defaults did not load";
  EXPECT_FALSE(KnownRoles().empty()) << "no MeshRoles() list found in apps/neosl/mesh_host.cpp";
}

TEST(DeployManifests, EveryNeoslVariableNamesAKey) {
  // Anywhere: Deployments, overlay patches, templates.
  std::vector<std::string> problems;
  for (const auto& [file, doc] : AllDocuments()) {
    VisitMaps(doc, [&, &f = file](const YAML::Node& map) {
      const std::string name = Str(map["name"]);
      if (!name.starts_with("NEOSL_") || name == "NEOSL_CONFIG") return;
      if (!KeyOfVariable().count(name)) {
        problems.push_back(f + ": variable " + name + " matches no configuration key (neosl config defaults)");
      }
    });
  }
  ExpectNone(problems);
}

TEST(DeployManifests, SecretTemplatesSayHowToCreateThemAndAreNeverApplied) {
  std::vector<std::string> problems;
  const std::vector<std::string> templates = FilesUnder("deploy/k8s/secrets", ".yaml");
  EXPECT_FALSE(templates.empty()) << "no Secret templates in deploy/k8s/secrets";
  for (const std::string& file : templates) {
    auto text = ReadText(SourceDir() + "/" + file);
    if (!text || text->find("kubectl -n neosl create secret") == std::string::npos) {
      problems.push_back(file + ": no comment showing the `kubectl -n neosl create secret` that makes it");
    }
  }
  for (const std::string& dir : KustomizationDirs()) {
    for (const Object& o : LoadBuild(dir).objects) {
      if (o.file.starts_with("deploy/k8s/secrets/")) {
        problems.push_back(dir + ": applies the template " + o.file + " (it would overwrite the real Secret)");
      }
    }
  }
  ExpectNone(problems);
}

// The tag-free `EXPOSE` ports of the Dockerfile.
std::set<int> ExposedPorts(std::string* user) {
  std::set<int> ports;
  auto text = ReadText(SourceDir() + "/Dockerfile");
  if (!text) return ports;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (word == "USER") words >> *user;
    if (word != "EXPOSE") continue;
    while (words >> word) ports.insert(ParsePort(word.substr(0, word.find('/'))).value_or(-1));
  }
  return ports;
}

TEST(DeployManifests, DockerfileExposesThePortsThePodsUseAndRunsAsTheirUser) {
  std::string user;
  std::set<int> exposed = ExposedPorts(&user), used;
  std::set<std::string> run_as;
  for (const std::string& dir : KustomizationDirs()) {
    Build build = LoadBuild(dir);
    for (const PodTemplate& pod : PodTemplates(build)) {
      for (int port : PortNumbers(pod)) used.insert(port);
      run_as.insert(Str(At(pod.spec, {"securityContext", "runAsUser"})));
    }
  }
  EXPECT_EQ(exposed, used) << "Dockerfile: EXPOSE differs from the containerPorts of deploy/k8s";
  for (const std::string& uid : run_as) {
    EXPECT_EQ(user.substr(0, user.find(':')), uid) << "Dockerfile: USER " << user << " but a pod runs as " << uid;
  }
}

TEST_P(BuildTest, KustomizationListsOnlyFilesThatExist) {
  ExpectNone(build_.problems);
  EXPECT_EQ(build_.ns, "neosl") << build_.dir << ": the NetworkPolicies and Secrets assume namespace neosl";
}

TEST_P(BuildTest, ConfigFilesLoadThroughTheRealLoader) {
  std::vector<std::string> problems;
  int files = 0;
  for (const Object* cm : build_.OfKind("ConfigMap")) {
    for (const auto& kv : cm->node["data"]) {
      if (Str(kv.first) != "neosl.yaml") continue;
      ++files;
      neosl::testing::TempDir dir;
      neosl::testing::WriteFile(dir.File("neosl.yaml"), Str(kv.second));
      auto config = Config::Load(dir.File("neosl.yaml"), {});
      if (!config.ok()) problems.push_back(cm->Where() + " neosl.yaml: " + config.status().ToString());
    }
  }
  EXPECT_GT(files, 0) << build_.dir << ": no ConfigMap with a neosl.yaml";
  ExpectNone(problems);
}

TEST_P(BuildTest, EveryContainerConfigurationLoads) {
  ASSERT_FALSE(containers_.empty()) << build_.dir << ": no container runs neosl serve";
  std::vector<std::string> problems;
  for (const ServeContainer& c : containers_) {
    for (const std::string& p : c.problems) problems.push_back(p);
    if (!c.config_file) problems.push_back(c.where + ": no config file (NEOSL_CONFIG or --config)");
    if (!c.load_error.empty()) problems.push_back(c.where + ": neosl would not start: " + c.load_error);
    for (const std::string& var : c.unused_env) {
      problems.push_back(c.where + ": env " + var + " matches no configuration key");
    }
  }
  ExpectNone(problems);
}

TEST_P(BuildTest, RolesAreKnownAndMatchTheRoleLabel) {
  const std::set<std::string> known = KnownRoles();
  std::map<std::string, std::string> seen;  // role → where
  std::vector<std::string> problems;
  for (const ServeContainer& c : containers_) {
    if (c.role.empty()) {
      problems.push_back(c.where + ": no --role (it would run role all, the whole platform in one pod)");
      continue;
    }
    if (!known.count(c.role)) problems.push_back(c.where + ": --role " + c.role + " is not a role of neosl serve");
    auto label = c.pod->labels.find(kRoleLabel);
    if (label == c.pod->labels.end() || label->second != c.role) {
      problems.push_back(c.where + ": the pod label " + kRoleLabel + " must be its role, " + c.role);
    }
    if (seen.count(c.role)) problems.push_back(c.where + ": role " + c.role + " also runs in " + seen[c.role]);
    seen[c.role] = c.where;
  }
  ExpectNone(problems);
}

TEST_P(BuildTest, PortsAndProbesMatchTheListenAddresses) {
  std::vector<std::string> problems;
  for (const ServeContainer& c : containers_) {
    const std::map<std::string, int> named = NamedPorts(*c.pod);
    auto port_of = [&](const std::string& name) { return named.count(name) ? named.at(name) : -1; };
    // The addresses this role listens on, by the name its container port must have.
    std::map<std::string, std::string> listens;
    std::string serving;  // the port that answers /v1/health, /v1/ready and /metrics
    if (c.role == "gateway" || c.role == "all") {
      listens["http"] = "listen";
      serving = "http";
    } else {
      listens["metrics"] = "observability.listen";
      serving = "metrics";
    }
    // Every role but `all` (in-process) serves gRPC on the mesh: the gateway its operations.
    if (c.role != "all") {
      listens["mesh"] = "mesh.listen";
      auto advertise = ParseHostPort(c.Value("mesh.advertise"));
      if (!advertise || advertise->port != port_of("mesh") || advertise->host.empty() || IsLoopback(advertise->host) ||
          advertise->host == "0.0.0.0") {
        problems.push_back(c.where + ": mesh.advertise '" + c.Value("mesh.advertise") +
                           "' must be the pod's own address and its mesh port");
      }
    }
    std::set<int> expected;
    for (const auto& [name, key] : listens) {
      auto hp = ParseHostPort(c.Value(key));
      if (!hp) {
        problems.push_back(c.where + ": " + key + " '" + c.Value(key) + "' is not HOST:PORT");
        continue;
      }
      if (IsLoopback(hp->host)) problems.push_back(c.where + ": " + key + " listens on loopback only");
      if (hp->port != port_of(name)) {
        problems.push_back(c.where + ": containerPort '" + name + "' is " + std::to_string(port_of(name)) + " but " +
                           key + " is " + c.Value(key));
      }
      expected.insert(hp->port);
    }
    if (PortNumbers(*c.pod) != expected) problems.push_back(c.where + ": has container ports neosl does not listen on");
    const std::map<std::string, std::string> probes = {
        {"livenessProbe", "/v1/health"}, {"readinessProbe", "/v1/ready"}, {"startupProbe", "/v1/health"}};
    for (const auto& [probe, path] : probes) {
      const YAML::Node get = At(c.node, {probe, "httpGet"});
      if (!get) {
        if (probe != "startupProbe") problems.push_back(c.where + ": no " + probe + " on " + path);
        continue;
      }
      const std::string port = Str(get["port"]);
      if (Str(get["path"]) != path)
        problems.push_back(c.where + ": " + probe + " asks " + Str(get["path"]) + ", not " + path);
      if (port != serving && port != std::to_string(port_of(serving))) {
        problems.push_back(c.where + ": " + probe + " on port " + port + ", which does not serve " + path);
      }
    }
    const std::string scrape = Str(At(c.pod->metadata, {"annotations", "prometheus.io/port"}));
    if (!scrape.empty() && scrape != std::to_string(port_of(serving))) {
      problems.push_back(c.where + ": prometheus.io/port " + scrape + " does not serve /metrics");
    }
  }
  ExpectNone(problems);
}

TEST_P(BuildTest, ServicesTargetPortsOfThePodsTheySelect) {
  std::vector<std::string> problems;
  for (const Object* s : build_.OfKind("Service")) {
    const YAML::Node spec = At(s->node, {"spec"});
    if (Str(spec["type"]) == "ExternalName") {
      if (Str(spec["externalName"]).empty()) problems.push_back(s->Where() + ": ExternalName without externalName");
      continue;
    }
    std::vector<const PodTemplate*> selected;
    for (const PodTemplate& p : pods_) {
      if (MapSelectorMatches(spec["selector"], p.labels)) selected.push_back(&p);
    }
    if (selected.empty()) problems.push_back(s->Where() + ": its selector matches no pod template");
    for (const auto& port : spec["ports"]) {
      const std::string target = port["targetPort"] ? Str(port["targetPort"]) : Str(port["port"]);
      for (const PodTemplate* p : selected) {
        const auto named = NamedPorts(*p);
        const auto numbers = PortNumbers(*p);
        bool ok = named.count(target) || numbers.count(ParsePort(target).value_or(-1));
        if (!ok)
          problems.push_back(s->Where() + ": targetPort " + target + " is no containerPort of " + p->owner->Where());
      }
    }
  }
  ExpectNone(problems);
}

TEST_P(BuildTest, ConfiguredAddressesNameServicesThatExist) {
  std::vector<std::string> problems;
  for (const ServeContainer& c : containers_) {
    std::vector<std::pair<std::string, std::string>> urls;  // key → URL
    std::stringstream etcd(c.Value("mesh.registry.etcd_endpoints"));
    for (std::string e; std::getline(etcd, e, ',');) urls.emplace_back("mesh.registry.etcd_endpoints", e);
    urls.emplace_back("chain.rpc_url", c.Value("chain.rpc_url"));
    urls.emplace_back("store.postgres.dsn", c.Value("store.postgres.dsn"));
    for (auto& [key, url] : urls) {
      url.erase(0, url.find_first_not_of(' '));
      if (url.empty()) {
        problems.push_back(c.where + ": " + key + " is empty");
        continue;
      }
      auto hp = ParseUrlHost(url);
      if (!hp) {
        problems.push_back(c.where + ": " + key + " '" + url + "' is not a URL");
        continue;
      }
      if (IsLoopback(hp->host)) problems.push_back(c.where + ": " + key + " points at loopback, the pod itself");
      // Names inside the cluster: "svc", "svc.ns", "svc.ns.svc[.cluster.local]"; others are external.
      std::vector<std::string> labels;
      std::stringstream parts(hp->host);
      for (std::string l; std::getline(parts, l, '.');) labels.push_back(l);
      bool local = labels.size() == 1 || (labels.size() >= 3 && labels[2] == "svc") || labels.size() == 2;
      if (!local || std::isdigit(static_cast<unsigned char>(hp->host[0]))) continue;
      if (labels.size() > 1 && labels[1] != build_.ns) {
        problems.push_back(c.where + ": " + key + " names namespace " + labels[1] + ", not " + build_.ns);
        continue;
      }
      const Object* s = build_.Find("Service", labels[0]);
      if (s == nullptr) {
        problems.push_back(c.where + ": " + key + " names Service " + labels[0] + ", which " + build_.dir +
                           " does not define");
        continue;
      }
      std::set<int> ports;
      for (const auto& p : At(s->node, {"spec", "ports"})) ports.insert(p["port"].as<int>(-1));
      if (!ports.empty() && !ports.count(hp->port)) {
        problems.push_back(c.where + ": " + key + " uses port " + std::to_string(hp->port) + " of " + s->Where() +
                           ", which does not have it");
      }
    }
  }
  ExpectNone(problems);
}

TEST_P(BuildTest, WorkloadReferencesExistAndPodsAreHardened) {
  std::vector<std::string> problems;
  for (const PodTemplate& pod : pods_) {
    const std::string where = pod.owner->Where();
    if (!SelectorMatches(At(pod.owner->node, {"spec", "selector"}), pod.labels)) {
      problems.push_back(where + ": its selector does not match its own pod template");
    }
    // Kubernetes adds NEOSL_<SERVICE>_PORT… for every Service named neosl-…: configuration noise.
    if (Str(pod.spec["enableServiceLinks"]) != "false")
      problems.push_back(where + ": enableServiceLinks must be false");
    if (Str(At(pod.spec, {"securityContext", "runAsNonRoot"})) != "true")
      problems.push_back(where + ": not runAsNonRoot");
    const std::string sa = Str(pod.spec["serviceAccountName"]);
    if (!sa.empty() && build_.Find("ServiceAccount", sa) == nullptr) {
      problems.push_back(where + ": ServiceAccount " + sa + " does not exist");
    }
    std::set<std::string> volumes;
    for (const auto& v : pod.spec["volumes"]) {
      volumes.insert(Str(v["name"]));
      std::set<std::string> keys;
      std::string source;
      if (v["configMap"]) {
        source = "ConfigMap " + Str(v["configMap"]["name"]);
        const Object* cm = build_.Find("ConfigMap", Str(v["configMap"]["name"]));
        if (cm == nullptr) problems.push_back(where + ": volume " + Str(v["name"]) + " uses missing " + source);
        for (const auto& kv : cm ? cm->node["data"] : YAML::Node()) keys.insert(Str(kv.first));
      } else if (v["secret"]) {
        source = "Secret " + Str(v["secret"]["secretName"]);
        auto s = SecretTemplates().find(Str(v["secret"]["secretName"]));
        if (s == SecretTemplates().end()) {
          problems.push_back(where + ": volume " + Str(v["name"]) + " uses " + source + ", not in deploy/k8s/secrets");
        }
        for (const auto& kv : s == SecretTemplates().end() ? std::map<std::string, std::string>() : s->second) {
          keys.insert(kv.first);
        }
      }
      const YAML::Node items = v["configMap"] ? At(v, {"configMap", "items"}) : At(v, {"secret", "items"});
      for (const auto& item : items) {
        if (!keys.count(Str(item["key"])))
          problems.push_back(where + ": " + source + " has no key " + Str(item["key"]));
      }
    }
    for (const char* list : {"initContainers", "containers"}) {
      for (const auto& c : pod.spec[list]) {
        const std::string cwhere = where + " container " + Str(c["name"]);
        if (Str(At(c, {"securityContext", "allowPrivilegeEscalation"})) != "false" ||
            Str(At(c, {"securityContext", "readOnlyRootFilesystem"})) != "true") {
          problems.push_back(cwhere + ": needs allowPrivilegeEscalation false and readOnlyRootFilesystem true");
        }
        for (const auto& m : c["volumeMounts"]) {
          if (!volumes.count(Str(m["name"]))) problems.push_back(cwhere + ": mounts unknown volume " + Str(m["name"]));
        }
        // A script or file given on the command line must be in a mounted ConfigMap or Secret.
        for (const auto& arg : c["command"]) {
          const std::string a = Str(arg);
          if (!a.starts_with("/etc/neosl/")) continue;
          std::string why;
          if (!FileThroughMounts(build_, pod, c, a, &why)) problems.push_back(cwhere + ": runs " + a + ": " + why);
        }
      }
    }
  }
  for (const char* kind : {"PodDisruptionBudget", "HorizontalPodAutoscaler"}) {
    for (const Object* o : build_.OfKind(kind)) {
      const YAML::Node spec = At(o->node, {"spec"});
      if (spec["scaleTargetRef"]) {
        if (build_.Find(Str(spec["scaleTargetRef"]["kind"]), Str(spec["scaleTargetRef"]["name"])) == nullptr) {
          problems.push_back(o->Where() + ": scales missing " + Str(spec["scaleTargetRef"]["name"]));
        }
        if (spec["minReplicas"].as<int>(1) > spec["maxReplicas"].as<int>(0)) {
          problems.push_back(o->Where() + ": minReplicas above maxReplicas");
        }
      } else if (Selected(spec["selector"]).empty() || SelectorIsEmpty(spec["selector"])) {
        problems.push_back(o->Where() + ": its selector matches no pod template");
      }
    }
  }
  ExpectNone(problems);
}

std::string TestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(info.param.find("k8s/") + 4);
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Kustomizations, BuildTest, ::testing::ValuesIn(KustomizationDirs()), TestName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BuildTest);

}  // namespace
}  // namespace neosl::deploy_test
