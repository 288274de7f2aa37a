// NetworkPolicies against deploy/mesh/policy.yaml: every selector selects pods that exist, and the
// mesh port is open for exactly the caller -> target pairs the policy allows, in both directions
// (ingress on the target, egress from the caller), and to nobody else.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "unit/deploy/build_test.h"

namespace neosl::deploy_test {
namespace {

TEST_P(BuildTest, NetworkPolicySelectorsMatchPods) {
  std::vector<std::string> problems;
  for (const Object* np : build_.OfKind("NetworkPolicy")) {
    const YAML::Node spec = At(np->node, {"spec"});
    if (!SelectorIsEmpty(spec["podSelector"]) && Selected(spec["podSelector"]).empty()) {
      problems.push_back(np->Where() + ": podSelector matches no pod");
    }
    for (const char* direction : {"ingress", "egress"}) {
      for (const auto& rule : spec[direction]) {
        for (const auto& peer : rule[std::string(direction) == "ingress" ? "from" : "to"]) {
          // A podSelector beside a namespaceSelector names pods of another namespace.
          if (peer["podSelector"] && !peer["namespaceSelector"] && Selected(peer["podSelector"]).empty()) {
            problems.push_back(np->Where() + ": a " + direction + " peer's podSelector matches no pod");
          }
        }
      }
    }
  }
  ExpectNone(problems);
}

TEST_P(BuildTest, MeshNetworkPoliciesAreExactlyTheAuthorizationPolicy) {
  std::string error;
  std::set<std::pair<std::string, std::string>> policy = PolicyPairs(&error), expected;
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(policy.empty()) << "deploy/mesh/policy.yaml allows no call";
  std::set<std::string> deployed;
  for (const ServeContainer& c : containers_) deployed.insert(c.role);
  for (const auto& pair : policy) {
    if (deployed.count(pair.first) && deployed.count(pair.second)) expected.insert(pair);
  }
  ASSERT_FALSE(expected.empty()) << build_.dir << ": deploys no two roles that policy.yaml lets talk";
  auto role = [](const PodTemplate* p) { return p->labels.count(kRoleLabel) ? p->labels.at(kRoleLabel) : "?"; };
  auto mesh_port = [](const PodTemplate* p) { return NamedPorts(*p).count("mesh") ? NamedPorts(*p).at("mesh") : -1; };
  // Whether a rule's ports include the mesh port of `pod` (no ports: every port).
  auto covers_mesh = [&](const YAML::Node& rule, const PodTemplate* pod) {
    if (!rule["ports"] || rule["ports"].size() == 0) return mesh_port(pod) > 0;
    for (const auto& p : rule["ports"]) {
      const std::string port = Str(p["port"]);
      if (port.empty() || port == "mesh" || port == std::to_string(mesh_port(pod))) return mesh_port(pod) > 0;
    }
    return false;
  };
  std::map<std::pair<std::string, std::string>, std::string> ingress, egress;  // pair → policy that opens it
  std::vector<std::string> problems;
  for (const Object* np : build_.OfKind("NetworkPolicy")) {
    const YAML::Node spec = At(np->node, {"spec"});
    for (const PodTemplate* self : Selected(spec["podSelector"])) {
      for (const char* direction : {"ingress", "egress"}) {
        const bool in = std::string(direction) == "ingress";
        for (const auto& rule : spec[direction]) {
          const YAML::Node peers = rule[in ? "from" : "to"];
          bool pods_only = peers && peers.size() > 0;
          for (const auto& peer : peers) pods_only = pods_only && peer["podSelector"] && !peer["namespaceSelector"];
          if (!pods_only) {
            // Anyone, another namespace or an address range: must not include a mesh port.
            if (in && covers_mesh(rule, self)) {
              problems.push_back(np->Where() + ": opens the mesh port of " + role(self) + " beyond its callers");
            }
            for (const PodTemplate& other : pods_) {
              if (!in && covers_mesh(rule, &other)) {
                problems.push_back(np->Where() + ": lets " + role(self) + " reach the mesh port of " + role(&other) +
                                   " beyond the policy's pairs");
              }
            }
            continue;
          }
          for (const auto& peer : peers) {
            for (const PodTemplate* other : Selected(peer["podSelector"])) {
              const PodTemplate* target = in ? self : other;
              if (!covers_mesh(rule, target)) continue;
              auto pair = in ? std::make_pair(role(other), role(self)) : std::make_pair(role(self), role(other));
              (in ? ingress : egress)[pair] = np->Where();
            }
          }
        }
      }
    }
  }
  for (const auto& [name, opened] : {std::make_pair("ingress", &ingress), std::make_pair("egress", &egress)}) {
    for (const auto& [pair, where] : *opened) {
      if (!expected.count(pair)) {
        problems.push_back(where + ": " + name + " " + pair.first + " -> " + pair.second +
                           " on the mesh port, which deploy/mesh/policy.yaml does not allow");
      }
    }
    for (const auto& pair : expected) {
      if (!opened->count(pair)) {
        problems.push_back(build_.dir + ": no NetworkPolicy " + name + " for " + pair.first + " -> " + pair.second +
                           ", which deploy/mesh/policy.yaml allows");
      }
    }
  }
  ExpectNone(problems);
}

}  // namespace
}  // namespace neosl::deploy_test
