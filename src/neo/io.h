// Neo's binary serialisation (Neo.IO): little-endian integers, var-ints, var-bytes.
//
// var-int:  value < 0xFD          → 1 byte
//           value ≤ 0xFFFF        → 0xFD + u16 LE
//           value ≤ 0xFFFFFFFF    → 0xFE + u32 LE
//           otherwise             → 0xFF + u64 LE
// The reader rejects non-canonical var-ints (a value encoded longer than needed), values over
// the caller's maximum, and reads past the end, with INVALID_ARGUMENT naming what was read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "neo/uint.h"

namespace neosl::neo {

class BinaryWriter {
 public:
  void U8(uint8_t v) { buf_.push_back(v); }
  void U16(uint16_t v) { Le(v, 2); }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  void I64(int64_t v) { Le(static_cast<uint64_t>(v), 8); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void VarInt(uint64_t v);
  void Bytes(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void VarBytes(std::span<const uint8_t> b) {
    VarInt(b.size());
    Bytes(b);
  }
  void VarString(std::string_view s) { VarBytes(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size())); }
  template <size_t N>
  void Hash(const FixedHash<N>& h) {
    Bytes(h.bytes());
  }

  const std::vector<uint8_t>& data() const { return buf_; }
  std::vector<uint8_t> Take() { return std::move(buf_); }
  size_t size() const { return buf_.size(); }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> buf_;
};

// Reads from a byte span it does not own. Every read names the field in its error.
class BinaryReader {
 public:
  explicit BinaryReader(std::span<const uint8_t> data) : data_(data) {}
  // The reader does not own its bytes: refuse a temporary that would die before the reads.
  explicit BinaryReader(std::vector<uint8_t>&&) = delete;

  StatusOr<uint8_t> U8(std::string_view what);
  StatusOr<uint16_t> U16(std::string_view what);
  StatusOr<uint32_t> U32(std::string_view what);
  StatusOr<uint64_t> U64(std::string_view what);
  StatusOr<int64_t> I64(std::string_view what);
  StatusOr<bool> Bool(std::string_view what);  // only 0 or 1
  StatusOr<uint64_t> VarInt(std::string_view what, uint64_t max = UINT64_MAX);
  StatusOr<std::vector<uint8_t>> Bytes(std::string_view what, size_t n);
  StatusOr<std::vector<uint8_t>> VarBytes(std::string_view what, size_t max);
  StatusOr<std::string> VarString(std::string_view what, size_t max);  // must be valid UTF-8
  StatusOr<UInt160> ReadUInt160(std::string_view what);
  StatusOr<UInt256> ReadUInt256(std::string_view what);

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool AtEnd() const { return pos_ == data_.size(); }
  // INVALID_ARGUMENT "trailing bytes after <what>" unless every byte was consumed.
  Status ExpectEnd(std::string_view what) const;

 private:
  Status Need(size_t n, std::string_view what) const;
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace neosl::neo
