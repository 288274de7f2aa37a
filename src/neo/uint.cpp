#include "neo/uint.h"

#include "core/encoding.h"

namespace neosl::neo {

template <size_t N>
StatusOr<FixedHash<N>> FixedHash<N>::FromBytes(std::span<const uint8_t> le_bytes) {
  if (le_bytes.size() != N) {
    return InvalidArgumentError("expected " + std::to_string(N) + " bytes, got " + std::to_string(le_bytes.size()));
  }
  std::array<uint8_t, N> b;
  std::copy(le_bytes.begin(), le_bytes.end(), b.begin());
  return FixedHash(b);
}

template <size_t N>
StatusOr<FixedHash<N>> FixedHash<N>::Parse(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.size() != 2 * N) {
    return InvalidArgumentError("expected 0x and " + std::to_string(2 * N) + " hex digits");
  }
  auto be = HexDecode(text);
  if (!be) return InvalidArgumentError("not a hex string");
  std::array<uint8_t, N> b;
  for (size_t i = 0; i < N; ++i) b[i] = (*be)[N - 1 - i];
  return FixedHash(b);
}

template <size_t N>
bool FixedHash<N>::IsZero() const {
  for (uint8_t x : bytes_) {
    if (x) return false;
  }
  return true;
}

template <size_t N>
std::string FixedHash<N>::ToString() const {
  std::array<uint8_t, N> be;
  for (size_t i = 0; i < N; ++i) be[i] = bytes_[N - 1 - i];
  return "0x" + HexEncode(be);
}

template <size_t N>
std::string FixedHash<N>::ToHexLE() const {
  return HexEncode(bytes_);
}

template class FixedHash<20>;
template class FixedHash<32>;

}  // namespace neosl::neo
