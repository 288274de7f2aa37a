#include "neo/interop.h"

#include "crypto/hash.h"

namespace neosl::neo {

uint32_t InteropId(std::string_view name) {
  crypto::Digest256 d = crypto::Sha256(crypto::AsBytes(name));
  return static_cast<uint32_t>(d[0]) | (static_cast<uint32_t>(d[1]) << 8) | (static_cast<uint32_t>(d[2]) << 16) |
         (static_cast<uint32_t>(d[3]) << 24);
}

}  // namespace neosl::neo
