// neon-core from npm, installed into the build tree once (the npm registry is the one network
// source tests may use); later runs reuse it.
#pragma once

#include <string>

namespace neosl::testing {

inline constexpr const char* kNeonVersion = "5.10.1";

// The node_modules directory holding @cityofzion/neon-core at kNeonVersion, or "" if npm
// could not install it (its log is NEOSL_NPM_PREFIX/npm.log).
std::string EnsureNeonCore();

}  // namespace neosl::testing
