// The real Neo JSON-RPC responses the rpc tests answer with (tests/fuzz/corpus/rpc_json, which
// also seeds the rpc_json fuzz target).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace neosl::testing {

// The text of fixture `name` ("getblock_verbose.json"); a test failure when it is missing.
inline std::string RpcFixture(const std::string& name) {
  std::ifstream in(std::string(NEOSL_RPC_CORPUS) + "/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << "missing fixture " << name;
  return ss.str();
}

}  // namespace neosl::testing
