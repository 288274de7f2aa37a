// Verification scripts, witnesses, NEP-6 wallets and contract-parameter JSON from untrusted bytes:
// never crash, and whatever parses re-encodes to something that parses to the same value.
// The first byte picks the decoder; the rest is its input.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "neo/account.h"
#include "neo/contract_param.h"
#include "neo/wallet.h"

namespace {

using namespace neosl::neo;

void Check(bool ok) {
  if (!ok) std::abort();
}

void FuzzScript(std::span<const uint8_t> data) {
  auto info = ParseVerificationScript(data);
  // Split the input too, as a witness: must be answered, never crash.
  const size_t half = data.size() / 2;
  (void)VerifyWitness(data.first(half), std::vector<uint8_t>(data.begin() + static_cast<long>(half), data.end()),
                      std::vector<uint8_t>(data.begin(), data.begin() + static_cast<long>(half)));
  if (!info.ok()) return;
  if (info->kind == VerificationScriptInfo::Kind::kSingleSig) {
    Check(SingleSigScript(info->keys[0]) == std::vector<uint8_t>(data.begin(), data.end()));
    return;
  }
  auto rebuilt = MultiSigScript(info->m, info->keys);
  std::vector<neosl::crypto::PublicKey> sorted = info->keys;
  std::sort(sorted.begin(), sorted.end());
  const bool distinct = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  Check(rebuilt.ok() == distinct);
  if (!rebuilt.ok()) return;
  auto again = ParseVerificationScript(*rebuilt);
  Check(again.ok() && again->m == info->m && again->keys == sorted);
  // Any other encoding of the same account is longer (non-minimal pushes) or lists keys unsorted.
  if (sorted == info->keys && rebuilt->size() == data.size()) {
    Check(std::equal(rebuilt->begin(), rebuilt->end(), data.begin()));
  }
  Check(rebuilt->size() <= data.size());
}

void FuzzWallet(std::string_view text) {
  auto wallet = Nep6FromJson(text);
  if (!wallet.ok()) return;
  const std::string written = Nep6ToJson(*wallet);
  auto again = Nep6FromJson(written);
  Check(again.ok() && *again == *wallet && Nep6ToJson(*again) == written);
}

void FuzzParam(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;
  boost::json::value json = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, options);
  if (ec) return;
  auto param = ContractParamFromJson(json);
  if (!param.ok()) return;
  const boost::json::value out = ContractParamToJson(*param);
  auto again = ContractParamFromJson(out);
  Check(again.ok() && *again == *param && ContractParamToJson(*again) == out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> rest(data + 1, size - 1);
  std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  switch (data[0] % 3) {
    case 0: FuzzScript(rest); break;
    case 1: FuzzWallet(text); break;
    default: FuzzParam(text); break;
  }
  return 0;
}
