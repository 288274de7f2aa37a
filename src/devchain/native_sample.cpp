// SampleConsumer: the sample dApp that asks an off-chain service for something and receives the
// answer in a callback. A caller's `request` stores the request and announces it with a
// ServiceRequest notification; the service answers by invoking `onServiceResponse`, which stores
// the answer (readable with `getResponse`) and announces ServiceResponse.
//
// Storage (contract id 1):
//   0x01            → next request id (Integer bytes; absent means 1)
//   0x02 ‖ id       → Struct[requester, service, payload, block index]
//   0x03 ‖ id       → Struct[code, result, signature, responder]
// where `id` is the request id's minimal little-endian bytes (the Integer's own bytes).
#include <string>
#include <utility>

#include "devchain/engine_internal.h"
#include "devchain/native.h"

namespace neosl::devchain {
namespace {

constexpr int32_t kSampleId = 1;
constexpr uint8_t kPrefixNextId = 0x01;
constexpr uint8_t kPrefixRequest = 0x02;
constexpr uint8_t kPrefixResponse = 0x03;
constexpr size_t kMaxServiceName = 64;
constexpr size_t kMaxPayload = 4096;
constexpr size_t kMaxResult = 4096;
constexpr size_t kMaxSignature = 128;
constexpr std::string_view kCallback = "onServiceResponse";

Status Fault(std::string message) {
  return FailedPreconditionError(std::move(message));
}

Bytes RequestKey(uint8_t prefix, const Int256& id) {
  return internal::Key(kSampleId, prefix, id.ToLe());
}

StatusOr<Int256> ArgRequestId(const StackItemPtr& item) {
  ASSIGN_OR_RETURN(Int256 id, internal::ArgInteger(item, "requestId"));
  if (id.Sign() <= 0) return Fault("unknown request " + id.ToDecimal());
  return id;
}

// A stored Struct as the Array the getters return, or Null.
StatusOr<StackItemPtr> ReadAsArray(const DataCache& state, const Bytes& key) {
  ASSIGN_OR_RETURN(StackItemPtr item, internal::ReadItem(state, key));
  if (item == nullptr) return StackItem::Null();
  return StackItem::Array(item->items());
}

using Params = std::vector<std::pair<std::string, std::string>>;

StatusOr<StackItemPtr> Request(ApplicationEngine& engine, std::vector<StackItemPtr>& args) {
  ASSIGN_OR_RETURN(std::string service, internal::ArgString(args[0], "service"));
  ASSIGN_OR_RETURN(Bytes payload, internal::ArgBytes(args[1], "payload"));
  if (service.empty() || service.size() > kMaxServiceName) {
    return Fault("service must be 1 to 64 bytes of UTF-8, got " + std::to_string(service.size()) + " bytes");
  }
  if (payload.size() > kMaxPayload) {
    return Fault("payload must be at most 4096 bytes, got " + std::to_string(payload.size()));
  }
  DataCache& state = engine.snapshot();
  Bytes next_key = internal::Key(kSampleId, kPrefixNextId);
  ASSIGN_OR_RETURN(Int256 id, internal::ReadInteger(state, next_key, Int256::FromInt64(1)));
  ASSIGN_OR_RETURN(Int256 next, id.Add(Int256::FromInt64(1)));
  internal::WriteInteger(state, std::move(next_key), next);

  const neo::UInt160 requester = internal::Actor(engine);
  RETURN_IF_ERROR(internal::WriteItem(
      state, RequestKey(kPrefixRequest, id),
      StackItem::Struct({internal::HashItem(requester), internal::StringItem(service), internal::BytesItem(payload),
                         StackItem::Integer(static_cast<int64_t>(engine.block().index))})));
  RETURN_IF_ERROR(engine.Notify(
      NativeRegistry::SampleConsumerHash(), "ServiceRequest",
      StackItem::Array({StackItem::Integer(id), internal::HashItem(requester), internal::StringItem(service),
                        internal::BytesItem(payload), internal::StringItem(kCallback)})));
  return StackItem::Integer(id);
}

StatusOr<StackItemPtr> OnServiceResponse(ApplicationEngine& engine, std::vector<StackItemPtr>& args) {
  ASSIGN_OR_RETURN(Int256 id, ArgRequestId(args[0]));
  ASSIGN_OR_RETURN(Int256 code, internal::ArgInteger(args[1], "code"));
  ASSIGN_OR_RETURN(Bytes result, internal::ArgBytes(args[2], "result"));
  ASSIGN_OR_RETURN(Bytes signature, internal::ArgBytes(args[3], "signature"));
  DataCache& state = engine.snapshot();
  if (!state.Get(RequestKey(kPrefixRequest, id))) return Fault("unknown request " + id.ToDecimal());
  Bytes response_key = RequestKey(kPrefixResponse, id);
  if (state.Get(response_key)) return Fault("request " + id.ToDecimal() + " already answered");
  if (result.size() > kMaxResult)
    return Fault("result must be at most 4096 bytes, got " + std::to_string(result.size()));
  if (signature.size() > kMaxSignature) {
    return Fault("signature must be at most 128 bytes, got " + std::to_string(signature.size()));
  }
  RETURN_IF_ERROR(internal::WriteItem(
      state, std::move(response_key),
      StackItem::Struct({StackItem::Integer(code), internal::BytesItem(result), internal::BytesItem(signature),
                         internal::HashItem(internal::Actor(engine))})));
  RETURN_IF_ERROR(engine.Notify(NativeRegistry::SampleConsumerHash(), "ServiceResponse",
                                StackItem::Array({StackItem::Integer(id), StackItem::Integer(code)})));
  return StackItem::Null();
}

class SampleConsumer final : public NativeContract {
 public:
  SampleConsumer() : NativeContract("SampleConsumer", kSampleId) {
    AddMethod({"request",
               {{"service", "String"}, {"payload", "ByteArray"}},
               "Integer",
               1 << 15,
               100,
               kStates | kAllowNotify,
               false,
               Request});
    AddMethod({"onServiceResponse",
               {{"requestId", "Integer"}, {"code", "Integer"}, {"result", "ByteArray"}, {"signature", "ByteArray"}},
               "Void",
               1 << 15,
               100,
               kStates | kAllowNotify,
               false,
               OnServiceResponse});
    // The stored answer and request: safe reads, null while there is none.
    for (const auto& read : {std::pair{"getResponse", kPrefixResponse}, std::pair{"getRequest", kPrefixRequest}}) {
      const uint8_t prefix = read.second;  // a plain variable: clang 14 cannot capture a structured binding
      AddMethod({read.first,
                 {{"requestId", "Integer"}},
                 "Array",
                 1 << 15,
                 0,
                 kReadStates,
                 true,
                 [prefix](ApplicationEngine& engine, std::vector<StackItemPtr>& args) -> StatusOr<StackItemPtr> {
                   ASSIGN_OR_RETURN(Int256 id, internal::ArgInteger(args[0], "requestId"));
                   return ReadAsArray(engine.snapshot(), RequestKey(prefix, id));
                 }});
    }
    // Lets the sample hold GAS (a dApp paying for services); any other token is refused.
    AddMethod({"onNEP17Payment",
               {{"from", "Hash160"}, {"amount", "Integer"}, {"data", "Any"}},
               "Void",
               1 << 15,
               0,
               kCallNone,
               false,
               [](ApplicationEngine& engine, std::vector<StackItemPtr>& args) -> StatusOr<StackItemPtr> {
                 if (engine.calling_script_hash() != NativeRegistry::GasHash()) return Fault("only GAS is accepted");
                 if (!args[0]->IsNull()) RETURN_IF_ERROR(internal::ArgHash160(args[0], "from").status());
                 RETURN_IF_ERROR(internal::ArgInteger(args[1], "amount").status());
                 return StackItem::Null();
               }});
    AddEvent({"ServiceRequest",
              {{"requestId", "Integer"},
               {"requester", "Hash160"},
               {"service", "String"},
               {"payload", "ByteArray"},
               {"callback", "String"}}});
    AddEvent({"ServiceResponse", {{"requestId", "Integer"}, {"code", "Integer"}}});
  }
};

}  // namespace

namespace internal {
std::unique_ptr<NativeContract> MakeSampleConsumer() {
  return std::make_unique<SampleConsumer>();
}
}  // namespace internal

}  // namespace neosl::devchain
