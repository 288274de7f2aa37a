// Arbitrary bytes as a JSON-RPC request body to the devchain: whatever arrives, the server
// answers with a well-formed JSON-RPC response (an object, or an array for a batch) or with
// nothing (notifications only), and never crashes. The chain is a real one, opened once in a
// temporary directory; requests may read it and may add to its mempool.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "devchain/chain.h"
#include "devchain/rpc_internal.h"

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<neosl::devchain::Chain> chain;

  Fixture() {
    char tmpl[] = "/tmp/neosl-fuzz-devchain-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    dir = tmpl;
    neosl::devchain::ChainOptions o;
    o.data_dir = dir;
    o.block_time = std::chrono::milliseconds(0);
    o.dev_wallets = 2;
    auto c = neosl::devchain::Chain::Open(o);
    if (!c.ok()) {
      std::fprintf(stderr, "%s\n", c.status().ToString().c_str());
      std::abort();
    }
    chain = std::move(*c);
  }
  ~Fixture() {
    chain.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

bool IsResponse(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (o == nullptr || !o->contains("jsonrpc") || !o->contains("id")) return false;
  return o->contains("result") != o->contains("error");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  neosl::devchain::rpc::MethodContext ctx{.chain = *fixture.chain, .tcp_port = 20332, .nonce = 1};
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto answer = neosl::devchain::rpc::HandleJsonRpc(ctx, body, nullptr, nullptr);
  if (!answer) return 0;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*answer, ec);
  if (ec) std::abort();  // the server wrote something that is not JSON
  if (const auto* batch = v.if_array()) {
    if (batch->empty()) std::abort();  // an all-notification batch gets no body, not []
    for (const auto& item : *batch) {
      if (!IsResponse(item)) std::abort();
    }
  } else if (!IsResponse(v)) {
    std::abort();
  }
  return 0;
}
