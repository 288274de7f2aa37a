// The fixture of the per-build checks (deploy_manifests_test.cpp, network_policies_test.cpp):
// one kustomization directory, its objects, pod templates and `neosl serve` containers.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/deploy/manifests.h"
#include "unit/deploy/pods.h"

namespace neosl::deploy_test {

// The pod label that names a pod's role (and mesh identity), which NetworkPolicies select on.
inline constexpr const char* kRoleLabel = "app.kubernetes.io/component";

// One failure per problem, each said once (a policy selecting several pods finds it for each).
inline void ExpectNone(const std::vector<std::string>& problems) {
  std::set<std::string> said;
  for (const std::string& p : problems) {
    if (said.insert(p).second) ADD_FAILURE() << p;
  }
}

inline bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1";
}

class BuildTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    build_ = LoadBuild(GetParam());
    pods_ = PodTemplates(build_);
    containers_ = ServeContainers(build_, pods_);
  }

  // The pod templates a NetworkPolicy peer or target selector picks.
  std::vector<const PodTemplate*> Selected(const YAML::Node& selector) const {
    std::vector<const PodTemplate*> out;
    for (const PodTemplate& p : pods_) {
      if (SelectorMatches(selector, p.labels)) out.push_back(&p);
    }
    return out;
  }

  Build build_;
  std::vector<PodTemplate> pods_;
  std::vector<ServeContainer> containers_;
};

}  // namespace neosl::deploy_test
