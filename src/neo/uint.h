// UInt160 (script hashes) and UInt256 (transaction and block hashes): distinct fixed-size types,
// stored in Neo's byte order (little-endian, as serialised on the wire) and displayed
// byte-reversed with a 0x prefix, exactly as Neo's ToString() does:
//   bytes 0x01 0x02 … 0x14  →  "0x14…0201"
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace neosl::neo {

template <size_t N>
class FixedHash {
 public:
  static constexpr size_t kSize = N;

  constexpr FixedHash() = default;
  explicit constexpr FixedHash(const std::array<uint8_t, N>& le_bytes) : bytes_(le_bytes) {}

  // From wire-order (little-endian) bytes; INVALID_ARGUMENT unless exactly N bytes.
  static StatusOr<FixedHash> FromBytes(std::span<const uint8_t> le_bytes);
  // From the display form: "0x" + 2N hex digits, big-endian (the "0x" is optional).
  static StatusOr<FixedHash> Parse(std::string_view text);

  const std::array<uint8_t, N>& bytes() const { return bytes_; }  // wire order
  std::span<const uint8_t> span() const { return bytes_; }
  bool IsZero() const;
  // "0x…", byte-reversed: Neo's display form.
  std::string ToString() const;
  // Wire-order hex without prefix (as in scripts and storage keys).
  std::string ToHexLE() const;

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const FixedHash&, const FixedHash&) = default;

 private:
  std::array<uint8_t, N> bytes_{};
};

// Distinct types: a UInt160 cannot be passed where a UInt256 is expected.
class UInt160 : public FixedHash<20> {
 public:
  using FixedHash<20>::FixedHash;
  UInt160(const FixedHash<20>& h) : FixedHash<20>(h) {}  // NOLINT(google-explicit-constructor)
  static StatusOr<UInt160> FromBytes(std::span<const uint8_t> b) { return Wrap(FixedHash<20>::FromBytes(b)); }
  static StatusOr<UInt160> Parse(std::string_view t) { return Wrap(FixedHash<20>::Parse(t)); }

 private:
  static StatusOr<UInt160> Wrap(StatusOr<FixedHash<20>> h) {
    if (!h.ok()) return h.status();
    return UInt160(*h);
  }
};

class UInt256 : public FixedHash<32> {
 public:
  using FixedHash<32>::FixedHash;
  UInt256(const FixedHash<32>& h) : FixedHash<32>(h) {}  // NOLINT(google-explicit-constructor)
  static StatusOr<UInt256> FromBytes(std::span<const uint8_t> b) { return Wrap(FixedHash<32>::FromBytes(b)); }
  static StatusOr<UInt256> Parse(std::string_view t) { return Wrap(FixedHash<32>::Parse(t)); }

 private:
  static StatusOr<UInt256> Wrap(StatusOr<FixedHash<32>> h) {
    if (!h.ok()) return h.status();
    return UInt256(*h);
  }
};

static_assert(!std::is_convertible_v<UInt160, UInt256> && !std::is_convertible_v<UInt256, UInt160>);

extern template class FixedHash<20>;
extern template class FixedHash<32>;

}  // namespace neosl::neo
