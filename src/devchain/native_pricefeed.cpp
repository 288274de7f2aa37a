// SamplePriceFeed: the sample dApp that keeps prices published by the price feed service
// (docs/pricefeed.md). Its owner sets the report key; after that anyone may submit
// `updatePrice`, because the authority is the key's signature over the chain record the contract
// rebuilds from the arguments (services/pricefeed/price_record.h). Rounds only move forward per
// pair, so an old signed update cannot be replayed over a newer one.
//
// Storage (contract id 2):
//   0x01         → report key (33-byte compressed P-256 point)
//   0x02         → owner (20-byte script hash), the first caller of setReportKey
//   0x03 ‖ pair  → Struct[price, decimals, timestamp, round, updater]
// where `pair` is the pair's UTF-8 bytes.
#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

#include "crypto/p256.h"
#include "devchain/engine_internal.h"
#include "devchain/native.h"

namespace neosl::devchain {
namespace {

constexpr int32_t kPriceFeedId = 2;
constexpr uint8_t kPrefixReportKey = 0x01;
constexpr uint8_t kPrefixOwner = 0x02;
constexpr uint8_t kPrefixPrice = 0x03;
constexpr size_t kMaxPair = 32;
constexpr int64_t kMaxDecimals = 18;
constexpr size_t kSignatureSize = 64;
constexpr std::string_view kChainRecordTag = "neosl-price-v1";  // price_record.h's kChainRecordTag

// The fields of a stored price, in the Struct's order.
enum PriceField : size_t { kPrice, kDecimals, kTimestamp, kRound, kUpdater };

Status Fault(std::string message) {
  return FailedPreconditionError(std::move(message));
}

Bytes PriceKey(std::string_view pair) {
  return internal::Key(kPriceFeedId, kPrefixPrice,
                       std::span(reinterpret_cast<const uint8_t*>(pair.data()), pair.size()));
}

StatusOr<std::optional<crypto::PublicKey>> LoadReportKey(const DataCache& state) {
  std::optional<Bytes> stored = state.Get(internal::Key(kPriceFeedId, kPrefixReportKey));
  if (!stored) return std::optional<crypto::PublicKey>();
  ASSIGN_OR_RETURN(crypto::PublicKey key, crypto::PublicKey::FromBytes(*stored));
  return std::optional<crypto::PublicKey>(std::move(key));
}

StatusOr<StackItemPtr> SetReportKey(ApplicationEngine& engine, std::vector<StackItemPtr>& args) {
  ASSIGN_OR_RETURN(Bytes encoded, internal::ArgBytes(args[0], "key"));
  StatusOr<crypto::PublicKey> key = crypto::PublicKey::FromBytes(encoded);
  if (!key.ok()) return Fault("key is not a P-256 public key: " + std::string(key.status().message()));
  const std::array<uint8_t, 33> compressed = key->Compressed();

  DataCache& state = engine.snapshot();
  Bytes owner_key = internal::Key(kPriceFeedId, kPrefixOwner);
  if (std::optional<Bytes> stored = state.Get(owner_key)) {
    ASSIGN_OR_RETURN(neo::UInt160 owner, neo::UInt160::FromBytes(*stored));
    ASSIGN_OR_RETURN(bool witnessed, engine.CheckWitness(owner));
    if (!witnessed) return Fault("only the owner " + owner.ToString() + " may change the report key");
  } else {
    const neo::UInt160 owner = internal::Actor(engine);
    state.Put(std::move(owner_key), Bytes(owner.span().begin(), owner.span().end()));
  }
  state.Put(internal::Key(kPriceFeedId, kPrefixReportKey), Bytes(compressed.begin(), compressed.end()));
  RETURN_IF_ERROR(engine.Notify(NativeRegistry::SamplePriceFeedHash(), "ReportKeySet",
                                StackItem::Array({internal::BytesItem(compressed)})));
  return StackItem::Null();
}

StatusOr<StackItemPtr> UpdatePrice(ApplicationEngine& engine, std::vector<StackItemPtr>& args) {
  ASSIGN_OR_RETURN(std::string pair, internal::ArgString(args[0], "pair"));
  ASSIGN_OR_RETURN(Int256 price, internal::ArgInteger(args[1], "price"));
  ASSIGN_OR_RETURN(Int256 decimals, internal::ArgInteger(args[2], "decimals"));
  ASSIGN_OR_RETURN(Int256 timestamp, internal::ArgInteger(args[3], "timestamp"));
  ASSIGN_OR_RETURN(Int256 round, internal::ArgInteger(args[4], "round"));
  ASSIGN_OR_RETURN(Bytes signature, internal::ArgBytes(args[5], "signature"));

  DataCache& state = engine.snapshot();
  ASSIGN_OR_RETURN(std::optional<crypto::PublicKey> report_key, LoadReportKey(state));
  if (!report_key) return Fault("no report key is set");
  if (pair.empty() || pair.size() > kMaxPair) {
    return Fault("pair must be 1 to 32 bytes of UTF-8, got " + std::to_string(pair.size()) + " bytes");
  }
  if (price.Sign() <= 0) return Fault("price must be positive, got " + price.ToDecimal());
  if (decimals.Sign() < 0 || decimals > Int256::FromInt64(kMaxDecimals)) {
    return Fault("decimals must be 0 to 18, got " + decimals.ToDecimal());
  }
  if (timestamp.Sign() < 0) return Fault("timestamp must not be negative, got " + timestamp.ToDecimal());
  if (round.Sign() < 0) return Fault("round must not be negative, got " + round.ToDecimal());
  if (signature.size() != kSignatureSize) {
    return Fault("signature must be 64 bytes, got " + std::to_string(signature.size()));
  }
  ASSIGN_OR_RETURN(Bytes record, internal::PriceChainRecord(pair, price, decimals, timestamp, round));
  crypto::Signature sig;
  std::copy(signature.begin(), signature.end(), sig.begin());
  if (!report_key->Verify(record, sig)) return Fault("signature does not verify with the report key");

  // Only newer rounds, and never back in time: an old signed update stays old.
  Bytes key = PriceKey(pair);
  ASSIGN_OR_RETURN(StackItemPtr stored, internal::ReadItem(state, key));
  if (stored != nullptr) {
    if (stored->items().size() <= kUpdater) return InternalError("stored price of " + pair + " is malformed");
    ASSIGN_OR_RETURN(Int256 latest_round, stored->items()[kRound]->GetInteger());
    ASSIGN_OR_RETURN(Int256 latest_timestamp, stored->items()[kTimestamp]->GetInteger());
    if (round <= latest_round) {
      return Fault("round " + round.ToDecimal() + " of " + pair + " already published (latest " +
                   latest_round.ToDecimal() + ")");
    }
    if (timestamp < latest_timestamp) {
      return Fault("timestamp " + timestamp.ToDecimal() + " of " + pair + " is older than the latest " +
                   latest_timestamp.ToDecimal());
    }
  }
  RETURN_IF_ERROR(internal::WriteItem(
      state, std::move(key),
      StackItem::Struct({StackItem::Integer(price), StackItem::Integer(decimals), StackItem::Integer(timestamp),
                         StackItem::Integer(round), internal::HashItem(internal::Actor(engine))})));
  RETURN_IF_ERROR(engine.Notify(
      NativeRegistry::SamplePriceFeedHash(), "PriceUpdated",
      StackItem::Array({internal::StringItem(pair), StackItem::Integer(price), StackItem::Integer(decimals),
                        StackItem::Integer(timestamp), StackItem::Integer(round)})));
  return StackItem::Null();
}

StatusOr<StackItemPtr> GetPrice(ApplicationEngine& engine, std::vector<StackItemPtr>& args) {
  ASSIGN_OR_RETURN(std::string pair, internal::ArgString(args[0], "pair"));
  ASSIGN_OR_RETURN(StackItemPtr stored, internal::ReadItem(engine.snapshot(), PriceKey(pair)));
  if (stored == nullptr) return StackItem::Null();
  if (stored->items().size() <= kUpdater) return InternalError("stored price of " + pair + " is malformed");
  const auto& items = stored->items();
  return StackItem::Array({items[kPrice], items[kDecimals], items[kTimestamp], items[kRound]});
}

StatusOr<StackItemPtr> GetReportKey(ApplicationEngine& engine, std::vector<StackItemPtr>&) {
  std::optional<Bytes> stored = engine.snapshot().Get(internal::Key(kPriceFeedId, kPrefixReportKey));
  if (!stored) return StackItem::Null();
  return internal::BytesItem(*stored);
}

class SamplePriceFeed final : public NativeContract {
 public:
  SamplePriceFeed() : NativeContract("SamplePriceFeed", kPriceFeedId) {
    AddMethod(
        {"setReportKey", {{"key", "PublicKey"}}, "Void", 1 << 15, 100, kStates | kAllowNotify, false, SetReportKey});
    // Verifying the signature costs as much as CryptoLib.verifyWithECDsa (1 << 15) on top.
    AddMethod({"updatePrice",
               {{"pair", "String"},
                {"price", "Integer"},
                {"decimals", "Integer"},
                {"timestamp", "Integer"},
                {"round", "Integer"},
                {"signature", "ByteArray"}},
               "Void",
               1 << 16,
               100,
               kStates | kAllowNotify,
               false,
               UpdatePrice});
    AddMethod({"getPrice", {{"pair", "String"}}, "Array", 1 << 15, 0, kReadStates, true, GetPrice});
    AddMethod({"getReportKey", {}, "ByteArray", 1 << 15, 0, kReadStates, true, GetReportKey});
    AddEvent({"ReportKeySet", {{"key", "PublicKey"}}});
    AddEvent({"PriceUpdated",
              {{"pair", "String"},
               {"price", "Integer"},
               {"decimals", "Integer"},
               {"timestamp", "Integer"},
               {"round", "Integer"}}});
  }
};

}  // namespace

namespace internal {

StatusOr<Bytes> PriceChainRecord(std::string_view pair, const Int256& price, const Int256& decimals,
                                 const Int256& timestamp, const Int256& round) {
  return SerializeStackItem(
      StackItem::Array({StringItem(kChainRecordTag), StringItem(pair), StackItem::Integer(price),
                        StackItem::Integer(decimals), StackItem::Integer(timestamp), StackItem::Integer(round)}));
}

std::unique_ptr<NativeContract> MakeSamplePriceFeed() {
  return std::make_unique<SamplePriceFeed>();
}

}  // namespace internal

}  // namespace neosl::devchain
