#include "neo/io.h"

namespace neosl::neo {

void BinaryWriter::VarInt(uint64_t v) {
  if (v < 0xFD) {
    U8(static_cast<uint8_t>(v));
  } else if (v <= 0xFFFF) {
    U8(0xFD);
    U16(static_cast<uint16_t>(v));
  } else if (v <= 0xFFFFFFFF) {
    U8(0xFE);
    U32(static_cast<uint32_t>(v));
  } else {
    U8(0xFF);
    U64(v);
  }
}

Status BinaryReader::Need(size_t n, std::string_view what) const {
  if (remaining() < n) {
    return InvalidArgumentError("unexpected end of data reading " + std::string(what) + " (need " + std::to_string(n) +
                                " bytes, have " + std::to_string(remaining()) + ")");
  }
  return Status();
}

StatusOr<uint8_t> BinaryReader::U8(std::string_view what) {
  RETURN_IF_ERROR(Need(1, what));
  return data_[pos_++];
}

namespace {
// Little-endian integer of `bytes` bytes starting at `p`.
uint64_t LoadLe(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}
}  // namespace

StatusOr<uint16_t> BinaryReader::U16(std::string_view what) {
  RETURN_IF_ERROR(Need(2, what));
  pos_ += 2;
  return static_cast<uint16_t>(LoadLe(data_.data() + pos_ - 2, 2));
}
StatusOr<uint32_t> BinaryReader::U32(std::string_view what) {
  RETURN_IF_ERROR(Need(4, what));
  pos_ += 4;
  return static_cast<uint32_t>(LoadLe(data_.data() + pos_ - 4, 4));
}
StatusOr<uint64_t> BinaryReader::U64(std::string_view what) {
  RETURN_IF_ERROR(Need(8, what));
  pos_ += 8;
  return LoadLe(data_.data() + pos_ - 8, 8);
}
StatusOr<int64_t> BinaryReader::I64(std::string_view what) {
  ASSIGN_OR_RETURN(uint64_t v, U64(what));
  return static_cast<int64_t>(v);
}

StatusOr<bool> BinaryReader::Bool(std::string_view what) {
  ASSIGN_OR_RETURN(uint8_t b, U8(what));
  if (b > 1) return InvalidArgumentError(std::string(what) + ": a boolean must be 0 or 1");
  return b == 1;
}

StatusOr<uint64_t> BinaryReader::VarInt(std::string_view what, uint64_t max) {
  ASSIGN_OR_RETURN(uint8_t prefix, U8(what));
  uint64_t v;
  uint64_t min;
  if (prefix < 0xFD) {
    v = prefix;
    min = 0;
  } else if (prefix == 0xFD) {
    ASSIGN_OR_RETURN(v, U16(what));
    min = 0xFD;
  } else if (prefix == 0xFE) {
    ASSIGN_OR_RETURN(v, U32(what));
    min = 0x10000;
  } else {
    ASSIGN_OR_RETURN(v, U64(what));
    min = 0x100000000ULL;
  }
  if (v < min) return InvalidArgumentError(std::string(what) + ": non-canonical var-int");
  if (v > max) {
    return InvalidArgumentError(std::string(what) + ": " + std::to_string(v) + " exceeds the maximum of " +
                                std::to_string(max));
  }
  return v;
}

StatusOr<std::vector<uint8_t>> BinaryReader::Bytes(std::string_view what, size_t n) {
  RETURN_IF_ERROR(Need(n, what));
  std::vector<uint8_t> out(data_.begin() + pos_, data_.begin() + pos_ + n);
  pos_ += n;
  return out;
}

StatusOr<std::vector<uint8_t>> BinaryReader::VarBytes(std::string_view what, size_t max) {
  ASSIGN_OR_RETURN(uint64_t n, VarInt(what, max));
  return Bytes(what, static_cast<size_t>(n));
}

StatusOr<std::string> BinaryReader::VarString(std::string_view what, size_t max) {
  ASSIGN_OR_RETURN(auto bytes, VarBytes(what, max));
  // Strict UTF-8, as .NET's UTF8Encoding(throwOnInvalidBytes: true) that Neo uses.
  for (size_t i = 0; i < bytes.size();) {
    uint8_t c = bytes[i];
    size_t n = c < 0x80                   ? 1
               : (c >= 0xC2 && c <= 0xDF) ? 2
               : (c >= 0xE0 && c <= 0xEF) ? 3
               : (c >= 0xF0 && c <= 0xF4) ? 4
                                          : 0;
    if (n == 0 || i + n > bytes.size()) return InvalidArgumentError(std::string(what) + ": invalid UTF-8");
    for (size_t k = 1; k < n; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return InvalidArgumentError(std::string(what) + ": invalid UTF-8");
    }
    if ((c == 0xE0 && bytes[i + 1] < 0xA0) || (c == 0xED && bytes[i + 1] >= 0xA0) ||
        (c == 0xF0 && bytes[i + 1] < 0x90) || (c == 0xF4 && bytes[i + 1] >= 0x90)) {
      return InvalidArgumentError(std::string(what) + ": invalid UTF-8");
    }
    i += n;
  }
  return std::string(bytes.begin(), bytes.end());
}

StatusOr<UInt160> BinaryReader::ReadUInt160(std::string_view what) {
  ASSIGN_OR_RETURN(auto b, Bytes(what, 20));
  return UInt160::FromBytes(b);
}

StatusOr<UInt256> BinaryReader::ReadUInt256(std::string_view what) {
  ASSIGN_OR_RETURN(auto b, Bytes(what, 32));
  return UInt256::FromBytes(b);
}

Status BinaryReader::ExpectEnd(std::string_view what) const {
  if (!AtEnd()) {
    return InvalidArgumentError("trailing bytes after " + std::string(what) + " (" + std::to_string(remaining()) +
                                " left)");
  }
  return Status();
}

}  // namespace neosl::neo
