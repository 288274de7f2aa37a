// Block::Decode on arbitrary bytes. Properties: never crashes; whatever decodes re-encodes to
// exactly the input, decodes again to an equal value, and survives the getblock JSON round trip.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "neo/block.h"
#include "neo/payload_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace neosl::neo;
  const std::span<const uint8_t> input(data, size);
  auto block = Block::Decode(input);
  if (!block.ok()) return 0;
  const auto encoded = block->Encode();
  if (encoded.size() != size || !std::equal(encoded.begin(), encoded.end(), input.begin())) __builtin_trap();
  if (block->size() != size) __builtin_trap();
  auto again = Block::Decode(encoded);
  if (!again.ok() || !(*again == *block)) __builtin_trap();
  auto header = Header::Decode(block->header().Encode());
  if (!header.ok() || !(*header == block->header())) __builtin_trap();
  auto from_json = BlockFromJson(BlockToJson(*block));
  if (!from_json.ok() || !(*from_json == *block)) __builtin_trap();
  return 0;
}
