// Neo's OracleResponseCode (Neo.Network.P2P.Payloads.OracleResponseCode): the outcome of an
// oracle request, with the same byte values, so a contract that understands Neo's native oracle
// understands neosl's answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace neosl::oracle {

enum class ResponseCode : uint8_t {
  kSuccess = 0x00,
  kProtocolNotSupported = 0x10,
  kConsensusUnreachable = 0x12,
  kNotFound = 0x14,
  kTimeout = 0x16,
  kForbidden = 0x18,
  kResponseTooLarge = 0x1a,
  kInsufficientFunds = 0x1c,
  kContentTypeNotSupported = 0x1f,
  kError = 0xff,
};

// Neo's names: "Success", "ProtocolNotSupported", … "Error".
constexpr std::string_view ResponseCodeName(ResponseCode code) {
  switch (code) {
    case ResponseCode::kSuccess: return "Success";
    case ResponseCode::kProtocolNotSupported: return "ProtocolNotSupported";
    case ResponseCode::kConsensusUnreachable: return "ConsensusUnreachable";
    case ResponseCode::kNotFound: return "NotFound";
    case ResponseCode::kTimeout: return "Timeout";
    case ResponseCode::kForbidden: return "Forbidden";
    case ResponseCode::kResponseTooLarge: return "ResponseTooLarge";
    case ResponseCode::kInsufficientFunds: return "InsufficientFunds";
    case ResponseCode::kContentTypeNotSupported: return "ContentTypeNotSupported";
    case ResponseCode::kError: return "Error";
  }
  return "Error";
}

// The code with this byte value, if Neo defines one.
constexpr std::optional<ResponseCode> ResponseCodeFromByte(uint8_t value) {
  switch (value) {
    case 0x00:
    case 0x10:
    case 0x12:
    case 0x14:
    case 0x16:
    case 0x18:
    case 0x1a:
    case 0x1c:
    case 0x1f:
    case 0xff: return static_cast<ResponseCode>(value);
    default: return std::nullopt;
  }
}

}  // namespace neosl::oracle
