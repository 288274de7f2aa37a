// A request from the chain and its answer (docs/chain-requests.md): the ServiceRequest
// notification a dApp contract emits, read into a ChainRequest, and the callback transaction's
// script that carries a ChainAnswer back to the contract.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "neo/contract_param.h"
#include "neo/uint.h"
#include "neo/ws_subscriber.h"

namespace neosl::chain_requests {

inline constexpr std::string_view kServiceRequestEvent = "ServiceRequest";
inline constexpr size_t kMaxServiceName = 64;   // bytes of UTF-8
inline constexpr size_t kMaxPayload = 4096;     // bytes
inline constexpr size_t kMaxResult = 4096;      // bytes
inline constexpr size_t kMaxCallbackName = 64;  // bytes of UTF-8; not documented, only a sanity bound

// Identifies a request: the emitting contract (the one called back) and its request id.
struct RequestKey {
  neo::UInt160 contract;
  neo::BigInteger request_id;

  // "0x<contract>/<decimal id>", for logs and in-memory maps.
  std::string ToString() const;
  friend bool operator==(const RequestKey& a, const RequestKey& b) {
    return a.contract == b.contract && a.request_id == b.request_id;
  }
};

// One request, as the dApp contract announced it, and where it was announced.
struct ChainRequest {
  RequestKey key;
  neo::UInt160 requester;  // whose gas bank account pays
  std::string service;     // "random", "functions", …
  std::vector<uint8_t> payload;
  std::string callback;  // the method called back, normally onServiceResponse
  neo::UInt256 tx_hash;  // the transaction that emitted the notification
  uint32_t notification_index = 0;
  uint32_t block_index = 0;
  // When this process saw the notification (steady clock); not stored, so unset for a request
  // loaded after a restart. For the relay's latency figures only.
  std::optional<std::chrono::steady_clock::time_point> noticed_at;
};

// A service's answer. `code` is 0 on success, else the gRPC canonical code of the failure, and
// then `result` is a UTF-8 message.
struct ChainAnswer {
  uint32_t code = 0;
  std::vector<uint8_t> result;
  std::vector<uint8_t> signature;  // the enclave's signature over the answer; may be empty on failure

  static ChainAnswer Success(std::vector<uint8_t> result, std::vector<uint8_t> signature);
  static ChainAnswer Failure(StatusCode code, std::string_view message);
  // A failed Status as an answer (its code and message); OK becomes INTERNAL.
  static ChainAnswer FromStatus(const Status& status);

  friend bool operator==(const ChainAnswer&, const ChainAnswer&) = default;
};

// Reads a ServiceRequest notification. INVALID_ARGUMENT naming what is wrong for anything that
// is not exactly the documented shape: another event name, a state that is not a 5-item array,
// requestId not an Integer, requester not a 20-byte ByteString, service not 1–64 bytes of UTF-8,
// payload not a ByteString/Buffer of at most 4096 bytes, callback not 1–64 bytes of UTF-8 or a
// method name starting with '_' (which System.Contract.Call refuses).
StatusOr<ChainRequest> ParseServiceRequest(const neo::NotificationEvent& event);

// The answer's script: System.Contract.Call(contract, callback, CallFlags.All,
// [requestId, code, result, signature]).
std::vector<uint8_t> CallbackScript(const ChainRequest& request, const ChainAnswer& answer);

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace neosl::chain_requests
