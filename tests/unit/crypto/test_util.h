// Helpers shared by the crypto tests: hex literals in, hex strings out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace neosl::crypto::testing {

// Hex from a test vector; a malformed literal is a bug in the test, reported as a failure.
inline std::vector<uint8_t> Unhex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes) {
    ADD_FAILURE() << "bad hex literal in test: " << hex;
    return {};
  }
  return *bytes;
}

inline std::string Hex(std::span<const uint8_t> bytes) {
  return HexEncode(bytes);
}

inline std::vector<uint8_t> Bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

}  // namespace neosl::crypto::testing
