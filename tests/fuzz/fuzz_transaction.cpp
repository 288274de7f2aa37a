// Transaction::Decode on arbitrary bytes. Properties: never crashes; whatever decodes re-encodes
// to exactly the input, decodes again to an equal value, hashes its unsigned part, and survives
// the RPC JSON round trip unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "crypto/hash.h"
#include "neo/payload_json.h"
#include "neo/transaction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neosl::neo;
  const std::span<const uint8_t> input(data, size);
  auto tx = Transaction::Decode(input);
  if (!tx.ok()) return 0;
  const auto encoded = tx->Encode();
  if (encoded.size() != size || !std::equal(encoded.begin(), encoded.end(), input.begin())) __builtin_trap();
  if (tx->size() != size) __builtin_trap();
  if (tx->hash() != UInt256(neosl::crypto::Sha256(tx->EncodeUnsigned()))) __builtin_trap();
  auto again = Transaction::Decode(encoded);
  if (!again.ok() || !(*again == *tx)) __builtin_trap();
  auto rebuilt = TransactionBuilder(*tx).Build();
  if (!rebuilt.ok() || !(*rebuilt == *tx)) __builtin_trap();
  auto from_json = TransactionFromJson(TransactionToJson(*tx));
  if (!from_json.ok() || !(*from_json == *tx)) __builtin_trap();
  return 0;
}
