#include "chain_requests/request.h"

#include <utility>

#include "neo/script_builder.h"

namespace neosl::chain_requests {
namespace {

Status Malformed(std::string_view field, std::string_view problem) {
  return InvalidArgumentError("ServiceRequest " + std::string(field) + " " + std::string(problem));
}

// A ByteString (or Buffer) field as bytes, with the field's name in the error.
StatusOr<std::vector<uint8_t>> BytesField(const neo::RpcStackItem& item, std::string_view field) {
  auto bytes = item.AsBytes();
  if (!bytes.ok()) {
    std::string type(item.type());
    return Malformed(field, "is " + (type.empty() ? std::string("untyped") : type) + ", not a ByteString");
  }
  return *std::move(bytes);
}

StatusOr<std::string> TextField(const neo::RpcStackItem& item, std::string_view field, size_t max_size) {
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, BytesField(item, field));
  std::string text(bytes.begin(), bytes.end());
  if (text.empty() || text.size() > max_size) {
    return Malformed(field, "must be 1 to " + std::to_string(max_size) + " bytes, got " + std::to_string(text.size()));
  }
  if (!IsValidUtf8(text)) return Malformed(field, "is not UTF-8");
  return text;
}

}  // namespace

std::string RequestKey::ToString() const {
  return contract.ToString() + "/" + request_id.decimal();
}

ChainAnswer ChainAnswer::Success(std::vector<uint8_t> result, std::vector<uint8_t> signature) {
  return ChainAnswer{0, std::move(result), std::move(signature)};
}

ChainAnswer ChainAnswer::Failure(StatusCode code, std::string_view message) {
  return ChainAnswer{static_cast<uint32_t>(code), std::vector<uint8_t>(message.begin(), message.end()), {}};
}

ChainAnswer ChainAnswer::FromStatus(const Status& status) {
  if (status.ok()) return Failure(StatusCode::kInternal, "the service failed without an error");
  return Failure(status.code(), status.message());
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<uint8_t>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

StatusOr<ChainRequest> ParseServiceRequest(const neo::NotificationEvent& event) {
  const neo::ContractNotification& n = event.notification;
  if (n.event_name != kServiceRequestEvent) {
    return InvalidArgumentError("notification " + n.event_name + " is not a ServiceRequest");
  }
  auto items = n.state.AsArray();
  if (!items.ok()) return Malformed("state", "is not an Array");
  if (items->size() != 5) return Malformed("state", "has " + std::to_string(items->size()) + " items, not 5");
  const auto& f = *items;

  ChainRequest r;
  r.key.contract = n.contract;
  auto id_text = f[0].IntegerText();
  if (!id_text.ok()) return Malformed("requestId", "is not an Integer");
  auto id = neo::BigInteger::FromDecimal(*id_text);
  if (!id.ok()) return Malformed("requestId", "is out of NeoVM's integer range");
  r.key.request_id = *std::move(id);

  ASSIGN_OR_RETURN(std::vector<uint8_t> requester, BytesField(f[1], "requester"));
  if (requester.size() != neo::UInt160::kSize) {
    return Malformed("requester", "must be a 20-byte script hash, got " + std::to_string(requester.size()) + " bytes");
  }
  r.requester = *neo::UInt160::FromBytes(requester);

  ASSIGN_OR_RETURN(r.service, TextField(f[2], "service", kMaxServiceName));
  ASSIGN_OR_RETURN(r.payload, BytesField(f[3], "payload"));
  if (r.payload.size() > kMaxPayload) {
    return Malformed("payload", "must be at most 4096 bytes, got " + std::to_string(r.payload.size()));
  }
  ASSIGN_OR_RETURN(r.callback, TextField(f[4], "callback", kMaxCallbackName));
  if (r.callback.front() == '_') return Malformed("callback", "names a method starting with '_'");

  r.tx_hash = event.container;
  r.notification_index = event.index;
  r.block_index = event.block_index;
  return r;
}

std::vector<uint8_t> CallbackScript(const ChainRequest& request, const ChainAnswer& answer) {
  neo::ScriptBuilder sb;
  sb.EmitContractCall(
      request.key.contract, request.callback, neo::CallFlags::All,
      {neo::ContractParam::Int(request.key.request_id), neo::ContractParam::Int(static_cast<int64_t>(answer.code)),
       neo::ContractParam::Bytes(answer.result), neo::ContractParam::Bytes(answer.signature)});
  return sb.Take();
}

}  // namespace neosl::chain_requests
