// SamplePriceFeed: the report key and its owner, signed price updates (checked against the
// record the price feed service signs), rounds that only move forward, and the getters.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "crypto/p256.h"
#include "devchain/engine_internal.h"
#include "services/pricefeed/price_record.h"
#include "unit/devchain/engine_fixture.h"

namespace neosl::devchain {
namespace {

using neo::ContractParam;
using neo::WitnessScope;
using testing::EngineTest;
using testing::Int;
using testing::SignerFor;

crypto::PrivateKey KeyFrom(uint8_t fill) {
  std::array<uint8_t, 32> scalar{};
  scalar.fill(fill);
  return *crypto::PrivateKey::FromBytes(scalar);
}

Bytes Compressed(const crypto::PrivateKey& key) {
  const std::array<uint8_t, 33> c = key.public_key().Compressed();
  return Bytes(c.begin(), c.end());
}

pricefeed::PriceRecord Record(int64_t price, int64_t round, int64_t timestamp_ms = 1'700'000'000'000) {
  return pricefeed::PriceRecord{
      .pair = "NEO/USD", .price = price, .decimals = 8, .timestamp_ms = timestamp_ms, .round = round, .venues = {}};
}

class PriceFeedTest : public EngineTest {
 protected:
  // Runs a call in a transaction sent (and witnessed, CalledByEntry) by `sender`.
  ExecutionRecord Feed(std::string_view method, const std::vector<ContractParam>& args, const neo::UInt160& sender) {
    const neo::Signer signer = SignerFor(sender, WitnessScope::CalledByEntry);
    neo::TransactionBuilder builder;
    builder.SetValidUntilBlock(100).AddSigner(signer).SetScript({0x40});
    const neo::Transaction tx = *builder.Build();
    return Run(Call(NativeRegistry::SamplePriceFeedHash(), method, args), {signer}, 20 * kGas, &tx);
  }

  ExecutionRecord SetKey(const Bytes& key, const neo::UInt160& sender) {
    return Feed("setReportKey", {ContractParam::Bytes(key)}, sender);
  }

  static std::vector<ContractParam> UpdateArgs(const pricefeed::PriceRecord& r, std::span<const uint8_t> signature) {
    return {*ContractParam::String(r.pair), ContractParam::Int(r.price),
            ContractParam::Int(r.decimals), ContractParam::Int(r.timestamp_ms),
            ContractParam::Int(r.round),    ContractParam::Bytes(Bytes(signature.begin(), signature.end()))};
  }

  // updatePrice with `record` signed by `key` as the service signs it.
  ExecutionRecord Update(const pricefeed::PriceRecord& record, const crypto::PrivateKey& key) {
    return Feed("updatePrice", UpdateArgs(record, key.Sign(pricefeed::ChainRecord(record))), bob_);
  }

  // getPrice's [price, decimals, timestamp, round] as integers; empty for Null.
  std::vector<int64_t> Price(const std::string& pair) {
    ExecutionRecord r = Run(Call(NativeRegistry::SamplePriceFeedHash(), "getPrice", {*ContractParam::String(pair)},
                                 neo::CallFlags::ReadOnly),
                            {});
    EXPECT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
    if (r.stack.size() != 1 || r.stack[0]->IsNull()) return {};
    std::vector<int64_t> out;
    for (const StackItemPtr& item : r.stack[0]->items()) out.push_back(Int(item));
    return out;
  }

  crypto::PrivateKey report_key_ = KeyFrom(0x11);
};

TEST(SamplePriceFeedHashTest, IsTheContractHashOfItsName) {
  NativeRegistry registry;
  EXPECT_EQ(NativeRegistry::SamplePriceFeedHash(), ContractHash(neo::UInt160(), 0, "SamplePriceFeed"));
  EXPECT_EQ(NativeRegistry::SamplePriceFeedHash().ToString(), "0x49f8c33b12f60f5754515a88a7a9f40a9c915336");
  ASSERT_NE(registry.FindById(2), nullptr);
  EXPECT_EQ(registry.FindById(2)->hash(), NativeRegistry::SamplePriceFeedHash());
  EXPECT_EQ(registry.FindByName("samplepricefeed")->id(), 2);

  const boost::json::value json = registry.FindById(2)->ContractStateJson();
  std::vector<std::string> methods;
  for (const auto& m : json.at("manifest").at("abi").at("methods").as_array()) {
    methods.emplace_back(m.at("name").as_string());
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"getPrice", "getReportKey", "setReportKey", "updatePrice"}));
}

// The contract rebuilds, from updatePrice's arguments, exactly the bytes the service signs.
TEST(PriceChainRecordTest, MatchesThePriceFeedChainRecord) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const pricefeed::PriceRecord records[] = {
      {.pair = "NEO/USD", .price = 1'234'567'890, .decimals = 8, .timestamp_ms = 1'700'000'000'123, .round = 1},
      {.pair = "GAS/USDT", .price = 1, .decimals = 0, .timestamp_ms = 0, .round = 0},
      {.pair = "BTC/EUR", .price = 128, .decimals = 18, .timestamp_ms = 255, .round = 32768},
      {.pair = "Ñ€/¥", .price = kMax, .decimals = 127, .timestamp_ms = kMax, .round = kMax},
      {.pair = std::string(32, 'x'), .price = -129, .decimals = -1, .timestamp_ms = 65535, .round = 256},
  };
  for (const pricefeed::PriceRecord& r : records) {
    StatusOr<Bytes> ours = internal::PriceChainRecord(r.pair, Int256::FromInt64(r.price), Int256::FromInt64(r.decimals),
                                                      Int256::FromInt64(r.timestamp_ms), Int256::FromInt64(r.round));
    ASSERT_TRUE(ours.ok()) << ours.status().message();
    EXPECT_EQ(HexEncode(*ours), HexEncode(pricefeed::ChainRecord(r))) << r.pair;
  }
}

TEST_F(PriceFeedTest, FirstCallerOwnsTheReportKey) {
  ExecutionRecord r = Run(Call(NativeRegistry::SamplePriceFeedHash(), "getReportKey", {}), {});
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  EXPECT_TRUE(r.stack[0]->IsNull());

  const Bytes key = Compressed(report_key_);
  r = SetKey(key, alice_);
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(r.notifications[0].contract, NativeRegistry::SamplePriceFeedHash());
  EXPECT_EQ(r.notifications[0].event_name, "ReportKeySet");
  EXPECT_EQ(*r.notifications[0].state->items()[0]->GetBytes(), key);
  r = Run(Call(NativeRegistry::SamplePriceFeedHash(), "getReportKey", {}), {});
  EXPECT_EQ(*r.stack[0]->GetBytes(), key);

  // Bob is not the owner: refused, and the key stays.
  const Bytes other = Compressed(KeyFrom(0x22));
  r = SetKey(other, bob_);
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "only the owner " + alice_.ToString() + " may change the report key");
  r = Run(Call(NativeRegistry::SamplePriceFeedHash(), "getReportKey", {}), {});
  EXPECT_EQ(*r.stack[0]->GetBytes(), key);

  // The owner may rotate it.
  r = SetKey(other, alice_);
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  r = Run(Call(NativeRegistry::SamplePriceFeedHash(), "getReportKey", {}), {});
  EXPECT_EQ(*r.stack[0]->GetBytes(), other);
}

TEST_F(PriceFeedTest, MalformedKeysAreRefused) {
  Bytes off_curve = Compressed(report_key_);
  off_curve[0] = 0x05;
  for (const Bytes& key : {Bytes{}, Bytes(20, 0x02), off_curve}) {
    ExecutionRecord r = SetKey(key, alice_);
    EXPECT_EQ(r.state, VmState::kFault);
    EXPECT_TRUE(r.exception->starts_with("key is not a P-256 public key")) << *r.exception;
  }
  // Nothing was stored, not even an owner: bob may still be first.
  EXPECT_EQ(SetKey(Compressed(report_key_), bob_).state, VmState::kHalt);
}

TEST_F(PriceFeedTest, UpdateNeedsAReportKey) {
  ExecutionRecord r = Update(Record(100, 1), report_key_);
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "no report key is set");
}

TEST_F(PriceFeedTest, SignedUpdateIsStoredAndNotified) {
  ASSERT_EQ(SetKey(Compressed(report_key_), alice_).state, VmState::kHalt);
  EXPECT_TRUE(Price("NEO/USD").empty());

  const pricefeed::PriceRecord record = Record(1'234'567'890, 5);
  const crypto::Signature sig = report_key_.Sign(pricefeed::ChainRecord(record));
  const std::vector<uint8_t> script =
      Call(NativeRegistry::SamplePriceFeedHash(), "updatePrice", UpdateArgs(record, sig));
  ExecutionRecord r = Update(record, report_key_);  // submitted by bob: the signature is the authority
  ASSERT_EQ(r.state, VmState::kHalt) << r.exception.value_or("");
  // cpu 1 << 16 × 30 + storage 100 × StoragePrice, on top of the script and System.Contract.Call.
  EXPECT_EQ(r.gas_consumed, testing::OpcodePriceSum(script) * 30 + (int64_t{1} << 15) * 30 + (int64_t{1} << 16) * 30 +
                                int64_t{100} * 100000);
  ASSERT_EQ(r.notifications.size(), 1u);
  EXPECT_EQ(boost::json::serialize(NotificationToJson(r.notifications[0])),
            "{\"contract\":\"" + NativeRegistry::SamplePriceFeedHash().ToString() +
                R"(","eventname":"PriceUpdated","state":{"type":"Array","value":[)"
                R"({"type":"ByteString","value":"TkVPL1VTRA=="},{"type":"Integer","value":"1234567890"},)"
                R"({"type":"Integer","value":"8"},{"type":"Integer","value":"1700000000000"},)"
                R"({"type":"Integer","value":"5"}]}})");
  EXPECT_EQ(Price("NEO/USD"), (std::vector<int64_t>{1'234'567'890, 8, 1'700'000'000'000, 5}));
  EXPECT_TRUE(Price("GAS/USD").empty());

  // The stored Struct also names who submitted it.
  DataCache view(&root_);
  Bytes rest{'N', 'E', 'O', '/', 'U', 'S', 'D'};
  StatusOr<StackItemPtr> stored = internal::ReadItem(view, internal::Key(2, 0x03, rest));
  ASSERT_TRUE(stored.ok() && *stored != nullptr);
  ASSERT_EQ((*stored)->items().size(), 5u);
  EXPECT_EQ(*(*stored)->items()[4]->GetBytes(), Bytes(bob_.span().begin(), bob_.span().end()));

  // A newer round replaces it; pairs are independent.
  ASSERT_EQ(Update(Record(1'300'000'000, 6, 1'700'000'060'000), report_key_).state, VmState::kHalt);
  EXPECT_EQ(Price("NEO/USD"), (std::vector<int64_t>{1'300'000'000, 8, 1'700'000'060'000, 6}));
  pricefeed::PriceRecord gas = Record(400'000'000, 1);
  gas.pair = "GAS/USD";
  ASSERT_EQ(Update(gas, report_key_).state, VmState::kHalt);
  EXPECT_EQ(Price("GAS/USD")[3], 1);
}

TEST_F(PriceFeedTest, SignatureMustBeTheReportKeysOverTheseValues) {
  ASSERT_EQ(SetKey(Compressed(report_key_), alice_).state, VmState::kHalt);
  const pricefeed::PriceRecord record = Record(1'000, 1);

  // Another key's signature.
  ExecutionRecord r = Update(record, KeyFrom(0x22));
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "signature does not verify with the report key");

  // The report key's signature, but over another price (or round) than the one submitted.
  pricefeed::PriceRecord signed_record = record;
  signed_record.price = 999;
  r = Feed("updatePrice", UpdateArgs(record, report_key_.Sign(pricefeed::ChainRecord(signed_record))), bob_);
  EXPECT_EQ(r.exception, "signature does not verify with the report key");
  signed_record = record;
  signed_record.round = 2;
  r = Feed("updatePrice", UpdateArgs(record, report_key_.Sign(pricefeed::ChainRecord(signed_record))), bob_);
  EXPECT_EQ(r.exception, "signature does not verify with the report key");
  // Over the report record, which has another tag.
  r = Feed("updatePrice", UpdateArgs(record, report_key_.Sign(pricefeed::ReportRecord(record))), bob_);
  EXPECT_EQ(r.exception, "signature does not verify with the report key");

  // A flipped bit, and the wrong length.
  crypto::Signature sig = report_key_.Sign(pricefeed::ChainRecord(record));
  sig[10] ^= 0x01;
  EXPECT_EQ(Feed("updatePrice", UpdateArgs(record, sig), bob_).exception,
            "signature does not verify with the report key");
  const Bytes short_sig(63, 0x01);
  EXPECT_EQ(Feed("updatePrice", UpdateArgs(record, short_sig), bob_).exception, "signature must be 64 bytes, got 63");

  EXPECT_TRUE(Price("NEO/USD").empty());
}

TEST_F(PriceFeedTest, RoundsOnlyMoveForward) {
  ASSERT_EQ(SetKey(Compressed(report_key_), alice_).state, VmState::kHalt);
  ASSERT_EQ(Update(Record(100, 7), report_key_).state, VmState::kHalt);

  ExecutionRecord r = Update(Record(100, 7), report_key_);  // the same update again
  EXPECT_EQ(r.state, VmState::kFault);
  EXPECT_EQ(r.exception, "round 7 of NEO/USD already published (latest 7)");
  r = Update(Record(90, 5), report_key_);  // an older, correctly signed round
  EXPECT_EQ(r.exception, "round 5 of NEO/USD already published (latest 7)");
  r = Update(Record(110, 8, 1'699'999'999'999), report_key_);  // newer round, older timestamp
  EXPECT_EQ(r.exception, "timestamp 1699999999999 of NEO/USD is older than the latest 1700000000000");

  // The same timestamp is allowed for a newer round.
  ASSERT_EQ(Update(Record(110, 8), report_key_).state, VmState::kHalt);
  EXPECT_EQ(Price("NEO/USD"), (std::vector<int64_t>{110, 8, 1'700'000'000'000, 8}));
}

TEST_F(PriceFeedTest, ArgumentsAreValidated) {
  ASSERT_EQ(SetKey(Compressed(report_key_), alice_).state, VmState::kHalt);
  const auto refused = [&](const pricefeed::PriceRecord& record) {
    ExecutionRecord r = Update(record, report_key_);
    EXPECT_EQ(r.state, VmState::kFault);
    return r.exception.value_or("");
  };
  pricefeed::PriceRecord r = Record(100, 1);
  r.decimals = 19;
  EXPECT_EQ(refused(r), "decimals must be 0 to 18, got 19");
  r.decimals = -1;
  EXPECT_EQ(refused(r), "decimals must be 0 to 18, got -1");
  r = Record(0, 1);
  EXPECT_EQ(refused(r), "price must be positive, got 0");
  r = Record(-5, 1);
  EXPECT_EQ(refused(r), "price must be positive, got -5");
  r = Record(100, 1);
  r.pair = "";
  EXPECT_EQ(refused(r), "pair must be 1 to 32 bytes of UTF-8, got 0 bytes");
  r.pair = std::string(33, 'P');
  EXPECT_EQ(refused(r), "pair must be 1 to 32 bytes of UTF-8, got 33 bytes");
  r = Record(100, -1);
  EXPECT_EQ(refused(r), "round must not be negative, got -1");
  r = Record(100, 1, -1);
  EXPECT_EQ(refused(r), "timestamp must not be negative, got -1");

  // The limits themselves are accepted.
  r = Record(1, 1);
  r.pair = std::string(32, 'P');
  r.decimals = 18;
  ExecutionRecord ok = Update(r, report_key_);
  ASSERT_EQ(ok.state, VmState::kHalt) << ok.exception.value_or("");
  EXPECT_EQ(Price(r.pair), (std::vector<int64_t>{1, 18, 1'700'000'000'000, 1}));
}

}  // namespace
}  // namespace neosl::devchain
