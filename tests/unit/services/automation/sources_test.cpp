// The pure rules of the chain and price sources (sources.h): block heights, notification
// arguments read in a filter's type (with real Neo byte-order vectors), event filters, the
// context JSON, and price crossings and changes in exact arithmetic.
#include "services/automation/sources.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "neo/account.h"

namespace neosl::automation {
namespace {

namespace json = boost::json;

// The native GAS contract, as Neo prints it, and its bytes as a notification carries them
// (little-endian: UInt160.ToArray(), base64 in the node's JSON).
constexpr char kGasHash[] = "0xd2a4cff31913016155e38e474a2c06d08be276cf";
constexpr char kGasBytesBase64[] = "z3bii9AGLEpHjuNVYQETGfPPpNI=";

neo::RpcStackItem Item(std::string_view type, json::value value) {
  json::object o;
  o["type"] = type;
  o["value"] = std::move(value);
  return neo::RpcStackItem(json::value(std::move(o)));
}
neo::RpcStackItem Bytes(const std::vector<uint8_t>& bytes) {
  return Item("ByteString", json::value(Base64Encode(bytes)));
}
neo::RpcStackItem Int(std::string_view decimal) {
  return Item("Integer", json::value(decimal));
}
neo::RpcStackItem Bool(bool b) {
  return Item("Boolean", json::value(b));
}
neo::RpcStackItem Any() {
  return neo::RpcStackItem(json::parse(R"({"type":"Any"})"));
}
std::vector<uint8_t> Hex(std::string_view hex) {
  return *HexDecode(hex);
}

// ---- blocks ----------------------------------------------------------------------------------

TEST(BlockFiresTest, AtFiresOnlyAtItsHeight) {
  const BlockCondition at{.at = 100};
  EXPECT_TRUE(BlockFires(at, 100));
  EXPECT_FALSE(BlockFires(at, 99));
  EXPECT_FALSE(BlockFires(at, 101));
  EXPECT_FALSE(BlockFires(at, 200));
  const BlockCondition genesis{.at = 0};
  EXPECT_TRUE(BlockFires(genesis, 0));
}

TEST(BlockFiresTest, EveryFiresOnMultiplesButNeverAtZero) {
  const BlockCondition every{.every = 10};
  EXPECT_FALSE(BlockFires(every, 0));
  EXPECT_FALSE(BlockFires(every, 5));
  EXPECT_TRUE(BlockFires(every, 10));
  EXPECT_FALSE(BlockFires(every, 11));
  EXPECT_TRUE(BlockFires(every, 4'000'000'000u));
  const BlockCondition each{.every = 1};
  EXPECT_FALSE(BlockFires(each, 0));
  EXPECT_TRUE(BlockFires(each, 1));
  EXPECT_TRUE(BlockFires(each, 7));
  const BlockCondition none{};  // neither: never (the spec refuses it)
  EXPECT_FALSE(BlockFires(none, 0));
  EXPECT_FALSE(BlockFires(none, 10));
}

// ---- stack items -----------------------------------------------------------------------------

TEST(StackItemTextTest, Hash160IsTheReversedBytesAsNeoPrintsThem) {
  const neo::RpcStackItem gas = Item("ByteString", json::value(kGasBytesBase64));
  EXPECT_EQ(StackItemText("Hash160", gas), kGasHash);
  // An address's script hash: NfKA6zAixybBHHpmaPYPDywoqDaKzfMPf9 prints as 0xe4b0…cdd4, and
  // the VM holds d4cd…b0e4.
  const neo::RpcStackItem account = Bytes(Hex("d4cd1219ce8e172b50273823d799a365fab6b0e4"));
  const auto text = StackItemText("Hash160", account);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "0xe4b0b6fa65a399d7233827502b178ece1912cdd4");
  EXPECT_EQ(neo::ToAddress(*neo::UInt160::Parse(*text)), "NfKA6zAixybBHHpmaPYPDywoqDaKzfMPf9");
  // A Buffer reads the same.
  EXPECT_EQ(StackItemText("Hash160", Item("Buffer", json::value(kGasBytesBase64))), kGasHash);
  // Not 20 bytes, or not bytes at all.
  EXPECT_EQ(StackItemText("Hash160", Bytes(std::vector<uint8_t>(19, 1))), std::nullopt);
  EXPECT_EQ(StackItemText("Hash160", Bytes(std::vector<uint8_t>(21, 1))), std::nullopt);
  EXPECT_EQ(StackItemText("Hash160", Int("5")), std::nullopt);
  EXPECT_EQ(StackItemText("Hash160", Any()), std::nullopt);
}

TEST(StackItemTextTest, Hash256IsReversedToo) {
  std::vector<uint8_t> le(32);
  for (size_t i = 0; i < le.size(); ++i) le[i] = static_cast<uint8_t>(i + 1);
  EXPECT_EQ(StackItemText("Hash256", Bytes(le)), "0x201f1e1d1c1b1a191817161514131211100f0e0d0c0b0a090807060504030201");
  EXPECT_EQ(StackItemText("Hash256", Bytes(std::vector<uint8_t>(20, 1))), std::nullopt);
  EXPECT_EQ(StackItemText("Hash256", Bool(true)), std::nullopt);
}

TEST(StackItemTextTest, IntegerIsCanonicalDecimal) {
  EXPECT_EQ(StackItemText("Integer", Int("42")), "42");
  EXPECT_EQ(StackItemText("Integer", Int("-7")), "-7");
  EXPECT_EQ(StackItemText("Integer", Int("0")), "0");
  EXPECT_EQ(StackItemText("Integer", Int("007")), "7");
  const std::string big = "57896044618658097711785492504343953926634992332820282019728792003956564819967";  // 2^255−1
  EXPECT_EQ(StackItemText("Integer", Int(big)), big);
  // NeoVM's conversions: a ByteString of at most 32 bytes (little-endian two's complement) and
  // a Boolean.
  EXPECT_EQ(StackItemText("Integer", Bytes({})), "0");
  EXPECT_EQ(StackItemText("Integer", Bytes({0xff})), "-1");
  EXPECT_EQ(StackItemText("Integer", Bytes({0x80, 0x00})), "128");
  EXPECT_EQ(StackItemText("Integer", Bytes({0x00, 0x80})), "-32768");
  EXPECT_EQ(StackItemText("Integer", Bytes({0x00, 0xe1, 0xf5, 0x05})), "100000000");
  EXPECT_EQ(StackItemText("Integer", Bytes(std::vector<uint8_t>(32, 0xff))), "-1");
  EXPECT_EQ(StackItemText("Integer", Bool(true)), "1");
  EXPECT_EQ(StackItemText("Integer", Bool(false)), "0");
  // Too long to be an integer (the header's example: 40 bytes), and not numbers at all.
  EXPECT_EQ(StackItemText("Integer", Bytes(std::vector<uint8_t>(33, 1))), std::nullopt);
  EXPECT_EQ(StackItemText("Integer", Bytes(std::vector<uint8_t>(40, 1))), std::nullopt);
  EXPECT_EQ(StackItemText("Integer", Any()), std::nullopt);
  EXPECT_EQ(StackItemText("Integer", Int("12a")), std::nullopt);
}

TEST(StackItemTextTest, Boolean) {
  EXPECT_EQ(StackItemText("Boolean", Bool(true)), "true");
  EXPECT_EQ(StackItemText("Boolean", Bool(false)), "false");
  EXPECT_EQ(StackItemText("Boolean", Int("0")), "false");
  EXPECT_EQ(StackItemText("Boolean", Int("-3")), "true");
  EXPECT_EQ(StackItemText("Boolean", Bytes({0, 0})), "false");
  EXPECT_EQ(StackItemText("Boolean", Bytes({0, 1})), "true");
  EXPECT_EQ(StackItemText("Boolean", Bytes(std::vector<uint8_t>(33, 0))), std::nullopt);
  EXPECT_EQ(StackItemText("Boolean", Any()), std::nullopt);
}

TEST(StackItemTextTest, StringIsUtf8Only) {
  EXPECT_EQ(StackItemText("String", Bytes({'h', 'i'})), "hi");
  EXPECT_EQ(StackItemText("String", Bytes({0xc3, 0xa9})), "\xc3\xa9");  // é
  EXPECT_EQ(StackItemText("String", Bytes({})), "");
  EXPECT_EQ(StackItemText("String", Bytes({0xff})), std::nullopt);
  EXPECT_EQ(StackItemText("String", Bytes({0xc3})), std::nullopt);        // truncated
  EXPECT_EQ(StackItemText("String", Bytes({0xc0, 0xaf})), std::nullopt);  // overlong '/'
  EXPECT_EQ(StackItemText("String", Int("1")), std::nullopt);
}

TEST(StackItemTextTest, ByteStringIsLowerHex) {
  EXPECT_EQ(StackItemText("ByteString", Bytes({0xde, 0xAD, 0x01})), "dead01");
  EXPECT_EQ(StackItemText("ByteArray", Bytes({0xde, 0xad})), "dead");
  EXPECT_EQ(StackItemText("ByteString", Bytes({})), "");
  EXPECT_EQ(StackItemText("ByteString", Int("1")), std::nullopt);
}

TEST(StackItemTextTest, PublicKeyIsACompressedPoint) {
  const std::string key = "02b3622bf4017bdfe317c58aed5f4c753f206b7db896046fa7d774bbc4bf7f8dc2";
  EXPECT_EQ(StackItemText("PublicKey", Bytes(Hex(key))), key);
  EXPECT_EQ(StackItemText("PublicKey", Bytes(Hex("04" + key.substr(2)))), std::nullopt);
  EXPECT_EQ(StackItemText("PublicKey", Bytes(Hex(key.substr(0, 64)))), std::nullopt);
}

TEST(StackItemTextTest, UnknownTypeReadsNothing) {
  EXPECT_EQ(StackItemText("Signature", Bytes({1})), std::nullopt);
  EXPECT_EQ(StackItemText("", Int("1")), std::nullopt);
}

// ---- notifications ---------------------------------------------------------------------------

// A GAS Transfer of `amount` from the GAS contract's own hash (any 20 bytes would do) to `to`.
neo::NotificationEvent Transfer(const std::vector<uint8_t>& to_le, std::string_view amount) {
  neo::NotificationEvent n;
  n.block_index = 7;
  n.container = *neo::UInt256::Parse("0x" + std::string(64, 'a'));
  n.index = 2;
  n.notification.contract = *neo::UInt160::Parse(kGasHash);
  n.notification.event_name = "Transfer";
  json::array args;
  args.push_back(Item("ByteString", json::value(kGasBytesBase64)).json());
  args.push_back(Bytes(to_le).json());
  args.push_back(Int(amount).json());
  n.notification.state = Item("Array", json::value(std::move(args)));
  return n;
}

TEST(EventFiresTest, ContractEventAndFilters) {
  const std::vector<uint8_t> to = Hex("d4cd1219ce8e172b50273823d799a365fab6b0e4");
  const neo::NotificationEvent n = Transfer(to, "100");
  EventCondition c{.contract = kGasHash, .event = "Transfer"};
  EXPECT_TRUE(EventFires(c, n));

  c.filters = {{.param = 1, .type = "Hash160", .equals = "0xe4b0b6fa65a399d7233827502b178ece1912cdd4"},
               {.param = 2, .type = "Integer", .equals = "100"}};
  EXPECT_TRUE(EventFires(c, n));
  EXPECT_FALSE(EventFires(c, Transfer(to, "101")));
  // The bytes as hex, not reversed, are not the hash.
  c.filters = {{.param = 1, .type = "Hash160", .equals = "0xd4cd1219ce8e172b50273823d799a365fab6b0e4"}};
  EXPECT_FALSE(EventFires(c, n));
  c.filters = {{.param = 1, .type = "ByteString", .equals = "d4cd1219ce8e172b50273823d799a365fab6b0e4"}};
  EXPECT_TRUE(EventFires(c, n));
  c.filters = {{.param = 0, .type = "Hash160", .equals = kGasHash}};
  EXPECT_TRUE(EventFires(c, n));
}

TEST(EventFiresTest, OtherContractNameMissingParamOrWrongTypeDoNotFire) {
  const neo::NotificationEvent n = Transfer(Hex("d4cd1219ce8e172b50273823d799a365fab6b0e4"), "100");
  EXPECT_FALSE(EventFires({.contract = "0xef4073a0f2b305a38ec4050e4d3d28bc40ea63f5", .event = "Transfer"}, n));
  EXPECT_FALSE(EventFires({.contract = kGasHash, .event = "transfer"}, n));  // names are case-sensitive
  EXPECT_FALSE(EventFires({.contract = "not a hash", .event = "Transfer"}, n));
  EventCondition c{.contract = kGasHash, .event = "Transfer"};
  c.filters = {{.param = 3, .type = "Integer", .equals = "100"}};  // only 3 arguments
  EXPECT_FALSE(EventFires(c, n));
  c.filters = {{.param = 2, .type = "Hash160", .equals = kGasHash}};  // an Integer is no hash
  EXPECT_FALSE(EventFires(c, n));
  c.filters = {{.param = 2, .type = "Integer", .equals = "100"}, {.param = 0, .type = "String", .equals = "x"}};
  EXPECT_FALSE(EventFires(c, n));  // every filter must hold

  neo::NotificationEvent no_state = n;
  no_state.notification.state = Any();
  EXPECT_TRUE(EventFires({.contract = kGasHash, .event = "Transfer"}, no_state));
  c.filters = {{.param = 0, .type = "Hash160", .equals = kGasHash}};
  EXPECT_FALSE(EventFires(c, no_state));
}

// ---- contexts --------------------------------------------------------------------------------

TEST(ContextJsonTest, Block) {
  neo::BlockInfo b;
  b.index = 1234;
  b.hash = *neo::UInt256::Parse("0x" + std::string(62, '0') + "ff");
  b.time_ms = 1'700'000'000'123;
  const json::value v = json::parse(BlockContextJson(b));
  EXPECT_EQ(v.at("height").to_number<int64_t>(), 1234);
  EXPECT_EQ(v.at("hash").as_string(), "0x" + std::string(62, '0') + "ff");
  EXPECT_EQ(v.at("time").as_string(), "2023-11-14T22:13:20.123Z");
}

TEST(ContextJsonTest, EventKeepsTheNodesStackItems) {
  const neo::NotificationEvent n = Transfer(Hex("d4cd1219ce8e172b50273823d799a365fab6b0e4"), "100");
  const json::value v = json::parse(EventContextJson(n));
  EXPECT_EQ(v.at("height").to_number<int64_t>(), 7);
  EXPECT_EQ(v.at("tx").as_string(), "0x" + std::string(64, 'a'));
  EXPECT_EQ(v.at("index").to_number<int64_t>(), 2);
  EXPECT_EQ(v.at("contract").as_string(), kGasHash);
  EXPECT_EQ(v.at("event").as_string(), "Transfer");
  EXPECT_EQ(v.at("state"), n.notification.state.json());
  EXPECT_EQ(v.at("state").at("value").at(2).at("value").as_string(), "100");
}

// ---- prices ----------------------------------------------------------------------------------

PriceTick Tick(int64_t price, uint32_t decimals, uint64_t round, std::string pair = "NEO/USD") {
  return PriceTick{.pair = std::move(pair),
                   .price = price,
                   .decimals = decimals,
                   .round = round,
                   .timestamp_ms = 1'700'000'000'000 + static_cast<int64_t>(round)};
}

// Feeds `ticks` through EvaluatePrice from a fresh state; which of them fired.
std::vector<bool> Feed(const PriceCondition& c, const std::vector<PriceTick>& ticks, PriceState* end = nullptr) {
  PriceState s;
  std::vector<bool> fired;
  for (const PriceTick& t : ticks) {
    PriceDecision d = EvaluatePrice(c, s, t);
    fired.push_back(d.fire);
    EXPECT_EQ(d.fire, !d.context_json.empty());
    s = d.next;
  }
  if (end) *end = s;
  return fired;
}

TEST(EvaluatePriceTest, AboveFiresOnCrossingOnlyAndNotOnTheFirstReport) {
  const PriceCondition above{.pair = "NEO/USD", .mode = PriceCondition::Mode::kAbove, .value = "12.5"};
  // 2 decimals: 13.00 first (already above: no), 12.00 (below), 12.50 (equal: at-or-below),
  // 12.51 (crosses), 13.00 (still above), 12.00, 14.00 (crosses again).
  EXPECT_EQ(Feed(above, {Tick(1300, 2, 1), Tick(1200, 2, 2), Tick(1250, 2, 3), Tick(1251, 2, 4), Tick(1300, 2, 5),
                         Tick(1200, 2, 6), Tick(1400, 2, 7)}),
            (std::vector<bool>{false, false, false, true, false, false, true}));
}

TEST(EvaluatePriceTest, BelowIsTheMirror) {
  const PriceCondition below{.pair = "NEO/USD", .mode = PriceCondition::Mode::kBelow, .value = "12.5"};
  // 12.00 first (already below: no), 13.00, 12.50 (equal counts as at-or-below: crosses),
  // 12.40 (still), 12.51, 12.49 (crosses).
  EXPECT_EQ(Feed(below, {Tick(1200, 2, 1), Tick(1300, 2, 2), Tick(1250, 2, 3), Tick(1240, 2, 4), Tick(1251, 2, 5),
                         Tick(1249, 2, 6)}),
            (std::vector<bool>{false, false, true, false, false, true}));
}

TEST(EvaluatePriceTest, OldOrRepeatedRoundsAndOtherPairsChangeNothing) {
  const PriceCondition above{.pair = "NEO/USD", .mode = PriceCondition::Mode::kAbove, .value = "10"};
  PriceState s;
  PriceDecision d = EvaluatePrice(above, s, Tick(900, 2, 5));
  EXPECT_FALSE(d.fire);
  EXPECT_EQ(d.next.round, 5u);
  EXPECT_EQ(d.next.side, -1);
  s = d.next;
  // The same round again above the threshold, and an older one: ignored, state unchanged.
  for (uint64_t round : {5u, 4u}) {
    d = EvaluatePrice(above, s, Tick(1100, 2, round));
    EXPECT_FALSE(d.fire);
    EXPECT_EQ(PriceStateToJson(d.next), PriceStateToJson(s));
  }
  // Another pair: not this trigger's.
  d = EvaluatePrice(above, s, Tick(1100, 2, 6, "GAS/USD"));
  EXPECT_FALSE(d.fire);
  EXPECT_EQ(PriceStateToJson(d.next), PriceStateToJson(s));
  // The pair in another spelling is the same pair.
  d = EvaluatePrice(above, s, Tick(1100, 2, 6, "neo-usd"));
  EXPECT_TRUE(d.fire);
}

TEST(EvaluatePriceTest, DifferentDecimalsCompareExactly) {
  const PriceCondition above{.pair = "NEO/USD", .mode = PriceCondition::Mode::kAbove, .value = "1.50000001"};
  // 1.5 at 1 decimal is below; 1.500000010 at 9 decimals is equal (not above); one unit more at
  // 18 decimals is above.
  EXPECT_EQ(Feed(above, {Tick(15, 1, 1), Tick(1'500'000'010, 9, 2), Tick(1'500'000'010'000'000'001, 18, 3)}),
            (std::vector<bool>{false, false, true}));
  const PriceCondition tiny{.pair = "NEO/USD", .mode = PriceCondition::Mode::kAbove, .value = "0.0000000000000000001"};
  EXPECT_EQ(Feed(tiny, {Tick(0, 18, 1), Tick(1, 18, 2)}), (std::vector<bool>{false, true}));
  const PriceCondition huge{.pair = "NEO/USD", .mode = PriceCondition::Mode::kBelow, .value = "9223372036854775806"};
  EXPECT_EQ(Feed(huge, {Tick(INT64_MAX, 0, 1), Tick(INT64_MAX - 1, 0, 2)}), (std::vector<bool>{false, true}));
}

TEST(EvaluatePriceTest, ChangeFiresOnTheBoundaryBothWaysAndMovesTheReference) {
  const PriceCondition change{.pair = "NEO/USD", .mode = PriceCondition::Mode::kChange, .change_bps = 100};  // 1 %
  PriceState end;
  // 100.00 sets the reference; 100.99 (0.99 %) no; 101.00 (exactly 1 %) fires and is the new
  // reference; 100.00 (1.00 below 101.00: under 1 %) no; 99.99 (1.01 below: exactly 1 %) fires.
  EXPECT_EQ(Feed(change, {Tick(10000, 2, 1), Tick(10099, 2, 2), Tick(10100, 2, 3), Tick(10000, 2, 4), Tick(9999, 2, 5)},
                 &end),
            (std::vector<bool>{false, false, true, false, true}));
  EXPECT_EQ(end.reference, "99.99");
  // Down by exactly the threshold from a fresh reference.
  EXPECT_EQ(Feed(change, {Tick(20000, 2, 1), Tick(19800, 2, 2), Tick(19603, 2, 3)}),
            (std::vector<bool>{false, true, false}));
}

TEST(EvaluatePriceTest, ChangeAcrossDecimals) {
  const PriceCondition change{.pair = "NEO/USD", .mode = PriceCondition::Mode::kChange, .change_bps = 1};  // 0.01 %
  // Reference 10 (0 decimals); 10.000999 (8 decimals) is 0.00999 %: no; 10.001 is exactly 1 bp.
  EXPECT_EQ(Feed(change, {Tick(10, 0, 1), Tick(1'000'099'900, 8, 2), Tick(1'000'100'000, 8, 3)}),
            (std::vector<bool>{false, false, true}));
}

TEST(EvaluatePriceTest, FiringContext) {
  const PriceCondition above{.pair = "NEO/USD", .mode = PriceCondition::Mode::kAbove, .value = "11.1"};
  PriceState s;
  s = EvaluatePrice(above, s, Tick(1100, 2, 41)).next;
  PriceDecision d = EvaluatePrice(above, s, Tick(1123, 2, 42));
  ASSERT_TRUE(d.fire);
  const json::value v = json::parse(d.context_json);
  EXPECT_EQ(v.at("pair").as_string(), "NEO/USD");
  EXPECT_EQ(v.at("price").as_string(), "11.23");
  EXPECT_EQ(v.at("round").to_number<int64_t>(), 42);
  EXPECT_EQ(v.at("time").as_string(), FormatRfc3339Millis(1'700'000'000'042));
  EXPECT_EQ(v.at("previous").as_string(), "11.00");
}

TEST(PriceStateJsonTest, RoundTripsAndRefusesWhatItDidNotWrite) {
  auto fresh = PriceStateFromJson("");
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->side.has_value());
  EXPECT_EQ(fresh->reference, "");
  EXPECT_EQ(fresh->round, 0u);

  const PriceState s{.side = -1, .reference = "11.23000000", .round = UINT64_MAX};
  auto back = PriceStateFromJson(PriceStateToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->side, -1);
  EXPECT_EQ(back->reference, "11.23000000");
  EXPECT_EQ(back->round, UINT64_MAX);

  const PriceState no_side{.reference = "5", .round = 3};
  back = PriceStateFromJson(PriceStateToJson(no_side));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->side.has_value());

  for (const char* bad : {"nope", "[]", R"({"side":2})", R"({"reference":12})", R"({"reference":"1.2.3"})",
                          R"({"round":5})", R"({"round":"-1"})", R"({"round":"18446744073709551616"})"}) {
    auto r = PriceStateFromJson(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace neosl::automation
