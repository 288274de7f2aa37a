// TransactionFromJson on arbitrary text. Properties: never crashes; whatever parses comes back
// unchanged through TransactionToJson, and a signed one also through the binary codec.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json/parse.hpp>

#include "neo/payload_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neosl::neo;
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;
  auto tx = TransactionFromJson(json);
  if (!tx.ok()) return 0;
  auto back = TransactionFromJson(TransactionToJson(*tx));
  if (!back.ok() || !(*back == *tx)) __builtin_trap();
  if (tx->witnesses().size() == tx->signers().size()) {
    auto decoded = Transaction::Decode(tx->Encode());
    if (!decoded.ok() || !(*decoded == *tx)) __builtin_trap();
  }
  return 0;
}
