// Interop ids, ScriptBuilder output and contract parameters against Neo's own test vectors
// (neo tests/Neo.UnitTests/VM/UT_Helper.cs) and scripts produced by neon-js / neo wallets.
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/p256.h"
#include "neo/contract_param.h"
#include "neo/interop.h"
#include "neo/opcode.h"
#include "neo/script_builder.h"

namespace neosl::neo {
namespace {

std::vector<uint8_t> Hex(std::string_view hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << hex;
  return bytes.value_or(std::vector<uint8_t>{});
}

UInt160 H160(std::string_view display) {
  auto h = UInt160::Parse(display);
  EXPECT_TRUE(h.ok()) << display;
  return h.ok() ? *h : UInt160();
}

std::string PushIntHex(int64_t v) {
  ScriptBuilder sb;
  sb.EmitPushInt(v);
  return HexEncode(sb.data());
}

TEST(InteropTest, IdsAreLittleEndianSha256Prefixes) {
  EXPECT_EQ(InteropId(kSysContractCall), 0x525b7d62u);   // in scripts: 41 62 7d 5b 52
  EXPECT_EQ(InteropId(kSysCheckSig), 0x27b3e756u);       // 41 56 e7 b3 27
  EXPECT_EQ(InteropId(kSysCheckMultisig), 0x3adcd09eu);  // 41 9e d0 dc 3a
  EXPECT_EQ(kContractCallId, InteropId(kSysContractCall));
  EXPECT_EQ(kCheckSigId, InteropId(kSysCheckSig));
  EXPECT_EQ(kCheckMultisigId, InteropId(kSysCheckMultisig));
  ScriptBuilder sb;
  sb.EmitSysCall("System.Contract.Call");
  EXPECT_EQ(HexEncode(sb.data()), "41627d5b52");
  EXPECT_EQ(kCheckSigPrice, 32768);
  EXPECT_EQ(CheckMultisigPrice(3), 3 * 32768);
}

TEST(OpCodeTest, SpotChecksAgainstNeoVm) {
  EXPECT_EQ(ToByte(OpCode::PUSHT), 0x08);
  EXPECT_EQ(ToByte(OpCode::PUSHF), 0x09);
  EXPECT_EQ(ToByte(OpCode::PUSHDATA1), 0x0C);
  EXPECT_EQ(ToByte(OpCode::PUSHM1), 0x0F);
  EXPECT_EQ(ToByte(OpCode::PUSH16), 0x20);
  EXPECT_EQ(ToByte(OpCode::RET), 0x40);
  EXPECT_EQ(ToByte(OpCode::SYSCALL), 0x41);
  EXPECT_EQ(ToByte(OpCode::ASSERT), 0x39);
  EXPECT_EQ(ToByte(OpCode::PACK), 0xC0);
  EXPECT_EQ(ToByte(OpCode::NEWARRAY0), 0xC2);
  EXPECT_EQ(ToByte(OpCode::CONVERT), 0xDB);
  EXPECT_EQ(ToByte(OpCode::ASSERTMSG), 0xE1);
}

TEST(ScriptBuilderTest, IntegersUseTheNarrowestPush) {
  EXPECT_EQ(PushIntHex(-1), "0f");
  EXPECT_EQ(PushIntHex(0), "10");
  EXPECT_EQ(PushIntHex(1), "11");
  EXPECT_EQ(PushIntHex(16), "20");
  EXPECT_EQ(PushIntHex(17), "0011");
  EXPECT_EQ(PushIntHex(-2), "00fe");
  EXPECT_EQ(PushIntHex(127), "007f");
  EXPECT_EQ(PushIntHex(-128), "0080");
  EXPECT_EQ(PushIntHex(128), "018000");  // needs a sign byte: PUSHINT16
  EXPECT_EQ(PushIntHex(255), "01ff00");
  EXPECT_EQ(PushIntHex(-129), "017fff");
  EXPECT_EQ(PushIntHex(32767), "01ff7f");
  EXPECT_EQ(PushIntHex(32768), "0200800000");
  EXPECT_EQ(PushIntHex(10000000), "0280969800");    // 0.1 GAS, from a OneKey NEP-17 sample
  EXPECT_EQ(PushIntHex(1000000000), "0200ca9a3b");  // 10 GAS, from a neow3j sample
  EXPECT_EQ(PushIntHex(INT64_MAX), "03ffffffffffffff7f");
  EXPECT_EQ(PushIntHex(INT64_MIN), "030000000000000080");
  EXPECT_EQ(PushIntHex(int64_t{1} << 32), "030000000001000000");
}

TEST(ScriptBuilderTest, BigIntegersUpTo256Bits) {
  // 2^64 → PUSHINT128, 2^255 - 1 → PUSHINT256, 2^255 is too wide.
  auto two64 = BigInteger::FromDecimal("18446744073709551616");
  ASSERT_TRUE(two64.ok());
  ScriptBuilder sb;
  sb.EmitPushInteger(*two64);
  EXPECT_EQ(HexEncode(sb.data()), "04" + std::string(16, '0') + "01" + std::string(14, '0'));
  auto max = BigInteger::FromDecimal("57896044618658097711785492504343953926634992332820282019728792003956564819967");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(HexEncode(max->le_bytes()), std::string(62, 'f') + "7f");
  auto min = BigInteger::FromDecimal("-57896044618658097711785492504343953926634992332820282019728792003956564819968");
  ASSERT_TRUE(min.ok());
  EXPECT_EQ(HexEncode(min->le_bytes()), std::string(62, '0') + "80");
  EXPECT_TRUE(min->negative());
  EXPECT_FALSE(
      BigInteger::FromDecimal("57896044618658097711785492504343953926634992332820282019728792003956564819968").ok());
  EXPECT_FALSE(BigInteger::FromDecimal(std::string(200, '9')).ok());

  ScriptBuilder raw;
  EXPECT_TRUE(raw.EmitPushInteger(Hex("ffffffff")).ok());  // -1, non-minimal input
  EXPECT_TRUE(raw.EmitPushInteger(Hex("80000000")).ok());  // 128 with redundant zero bytes
  EXPECT_EQ(HexEncode(raw.data()), "0f018000");
  EXPECT_FALSE(raw.EmitPushInteger(std::vector<uint8_t>(33, 0x11)).ok());
  EXPECT_EQ(raw.size(), 4u) << "a rejected push must not emit anything";
}

TEST(ScriptBuilderTest, DecimalParsingIsStrictAndCanonical) {
  auto v = BigInteger::FromDecimal("+007");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->decimal(), "7");
  auto neg_zero = BigInteger::FromDecimal("-0");
  ASSERT_TRUE(neg_zero.ok());
  EXPECT_EQ(neg_zero->decimal(), "0");
  EXPECT_TRUE(neg_zero->le_bytes().empty());
  EXPECT_EQ(*neg_zero, BigInteger());
  for (const char* bad : {"", "-", "+", "1.5", "0x10", " 1", "1 ", "1e3", "--1"}) {
    EXPECT_FALSE(BigInteger::FromDecimal(bad).ok()) << bad;
  }
  EXPECT_EQ(BigInteger::FromInt64(-300).decimal(), "-300");
  EXPECT_EQ(HexEncode(BigInteger::FromInt64(-300).le_bytes()), "d4fe");
}

TEST(ScriptBuilderTest, BoolsBytesAndStrings) {
  ScriptBuilder sb;
  sb.EmitPushBool(true).EmitPushBool(false).EmitPushNull().EmitPushBytes({}).EmitPushString("abc");
  EXPECT_EQ(HexEncode(sb.data()), "08090b0c000c03616263");

  ScriptBuilder big;
  big.EmitPushBytes(std::vector<uint8_t>(0xFF, 1));
  EXPECT_EQ(HexEncode(std::span(big.data()).first(2)), "0cff");
  ScriptBuilder big2;
  big2.EmitPushBytes(std::vector<uint8_t>(0x100, 1));
  EXPECT_EQ(HexEncode(std::span(big2.data()).first(3)), "0d0001");
  EXPECT_EQ(big2.size(), 3u + 0x100);
  ScriptBuilder big4;
  big4.EmitPushBytes(std::vector<uint8_t>(0x10000, 1));
  EXPECT_EQ(HexEncode(std::span(big4.data()).first(5)), "0e00000100");

  ScriptBuilder hashes;
  hashes.EmitPush(UInt160()).EmitPush(UInt256());
  EXPECT_EQ(HexEncode(hashes.data()), "0c14" + std::string(40, '0') + "0c20" + std::string(64, '0'));
}

// UT_Helper.TestEmitAppCall1: no arguments → NEWARRAY0.
TEST(ScriptBuilderTest, ContractCallWithoutArgumentsUsesNewArray0) {
  ScriptBuilder sb;
  sb.EmitContractCall(UInt160(), "AAAAA", CallFlags::All, {});
  EXPECT_EQ(HexEncode(sb.data()),
            "c21f0c054141414141"
            "0c14" +
                std::string(40, '0') + "41627d5b52");
}

// UT_Helper.TestEmitAppCall2 / 3: one argument → arg, PUSH1, PACK.
TEST(ScriptBuilderTest, ContractCallPacksArgumentsInReverse) {
  const std::string tail =
      "1f0c054141414141"
      "0c14" +
      std::string(40, '0') + "41627d5b52";
  ScriptBuilder zero;
  zero.EmitContractCall(UInt160(), "AAAAA", CallFlags::All, {ContractParam::Int(0)});
  EXPECT_EQ(HexEncode(zero.data()), "1011c0" + tail);
  ScriptBuilder yes;
  yes.EmitContractCall(UInt160(), "AAAAA", CallFlags::All, {ContractParam::Bool(true)});
  EXPECT_EQ(HexEncode(yes.data()), "0811c0" + tail);

  // UT_Helper.TestMakeScript: balanceOf(UInt160.Zero) on a native token (hash as in that test).
  ScriptBuilder balance;
  balance.EmitContractCall(H160("0x4e9b1caa13eee5ee852b97e2881bae076417aa1a"), "balanceOf", CallFlags::All,
                           {ContractParam::Hash160(UInt160())});
  EXPECT_EQ(HexEncode(balance.data()),
            "0c14000000000000000000000000000000000000000011c01f0c0962616c616e63654f660c141aaa176407ae1b88e2972b85eee5"
            "ee13aa1c9b4e41627d5b52");

  ScriptBuilder read_only;
  read_only.EmitContractCall(UInt160(), "AAAAA", CallFlags::ReadOnly, {});
  EXPECT_EQ(read_only.data()[1], ToByte(OpCode::PUSH5));
  EXPECT_EQ(static_cast<int>(CallFlags::States), 3);
  EXPECT_EQ(static_cast<int>(CallFlags::All), 15);
}

// A GAS self-transfer of 1 datoshi with null data, as a NeoLine dAPI test signs it.
TEST(ScriptBuilderTest, Nep17TransferMatchesWalletScripts) {
  const UInt160 gas = H160("0xd2a4cff31913016155e38e474a2c06d08be276cf");
  auto from = UInt160::FromBytes(Hex("17b1e20e3bbc773326a499c3f6b76a0950c4cdfb"));
  ASSERT_TRUE(from.ok());
  ScriptBuilder sb;
  ASSERT_TRUE(sb.Nep17Transfer(gas, *from, *from, ContractParam::Int(1)).ok());
  EXPECT_EQ(HexEncode(sb.data()),
            "0b110c1417b1e20e3bbc773326a499c3f6b76a0950c4cdfb0c1417b1e20e3bbc773326a499c3f6b76a0950c4cdfb14c01f0c0874"
            "72616e736665720c14cf76e28bd0062c4a478ee35561011319f3cfa4d241627d5b52");

  ScriptBuilder bad;
  EXPECT_EQ(bad.Nep17Transfer(gas, *from, *from, ContractParam::Int(-1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.Nep17Transfer(gas, *from, *from, ContractParam::Bool(true)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.Nep17Transfer(gas, *from, *from, ContractParam::Null(ContractParamType::Integer)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.size(), 0u);
}

// UT_Helper.TestEmitPush2*: arrays pack their items; a value-less parameter pushes null.
TEST(ScriptBuilderTest, ContractParamPushes) {
  ScriptBuilder arr;
  arr.EmitPush(ContractParam::Array({ContractParam::Int(0), ContractParam::Int(0)}));
  EXPECT_EQ(HexEncode(arr.data()), "101012c0");
  ScriptBuilder empty;
  empty.EmitPush(ContractParam::Array({}));
  EXPECT_EQ(HexEncode(empty.data()), "10c0");
  ScriptBuilder nulls;
  nulls.EmitPush(ContractParam::Null(ContractParamType::String)).EmitPush(ContractParam());
  EXPECT_EQ(HexEncode(nulls.data()), "0b0b");
  auto sig = ContractParam::Signature(std::vector<uint8_t>(64, 0));
  ASSERT_TRUE(sig.ok());
  ScriptBuilder sig_push;
  sig_push.EmitPush(*sig);
  EXPECT_EQ(HexEncode(sig_push.data()), "0c40" + std::string(128, '0'));

  auto key = crypto::PublicKey::FromHex("02f9ec1fd0a98796cf75b586772a4ddd41a0af07a1dbdf86a7238f74fb72503575");
  ASSERT_TRUE(key.ok());
  ScriptBuilder by_param, by_key;
  by_param.EmitPush(ContractParam::PublicKey(*key));
  by_key.EmitPush(*key);
  EXPECT_EQ(HexEncode(by_param.data()), "0c2102f9ec1fd0a98796cf75b586772a4ddd41a0af07a1dbdf86a7238f74fb72503575");
  EXPECT_EQ(by_param.data(), by_key.data());
}

boost::json::value Json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 64;  // the default (32) is below what kMaxContractParamDepth needs
  boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()), ec, {}, options);
  EXPECT_FALSE(ec) << text;
  return v;
}

// Each accepted form re-serialises to Neo's canonical ToJson output.
TEST(ContractParamTest, JsonRoundTripsInNeoForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"type":"Integer","value":"5"})", R"({"type":"Integer","value":"5"})"},
      {R"({"type":"Integer","value":5})", R"({"type":"Integer","value":"5"})"},
      {R"({"type":"Integer","value":18446744073709551615})", R"({"type":"Integer","value":"18446744073709551615"})"},
      {R"({"type":"Integer","value":"-0012"})", R"({"type":"Integer","value":"-12"})"},
      {R"({"type":"ByteArray","value":"aGVsbG8gd29ybGQ="})", R"({"type":"ByteArray","value":"aGVsbG8gd29ybGQ="})"},
      {R"({"type":"Boolean","value":true})", R"({"type":"Boolean","value":true})"},
      {R"({"type":"String","value":"hello"})", R"({"type":"String","value":"hello"})"},
      {R"({"type":"Hash160","value":"d2a4cff31913016155e38e474a2c06d08be276cf"})",
       R"({"type":"Hash160","value":"0xd2a4cff31913016155e38e474a2c06d08be276cf"})"},
      {R"({"type":"Hash256","value":"0x)" + std::string(63, '0') + R"(1"})",
       R"({"type":"Hash256","value":"0x)" + std::string(63, '0') + R"(1"})"},
      {R"({"type":"PublicKey","value":"02f9ec1fd0a98796cf75b586772a4ddd41a0af07a1dbdf86a7238f74fb72503575"})",
       R"({"type":"PublicKey","value":"02f9ec1fd0a98796cf75b586772a4ddd41a0af07a1dbdf86a7238f74fb72503575"})"},
      {R"({"type":"Any"})", R"({"type":"Any"})"},
      {R"({"type":"Any","value":null})", R"({"type":"Any"})"},
      {R"({"type":"Hash160"})", R"({"type":"Hash160"})"},
      {R"({"type":"Array","value":[{"type":"Integer","value":"1"},{"type":"Array","value":[]}]})",
       R"({"type":"Array","value":[{"type":"Integer","value":"1"},{"type":"Array","value":[]}]})"},
  };
  for (const auto& [in, out] : cases) {
    auto p = ContractParamFromJson(Json(in));
    ASSERT_TRUE(p.ok()) << in << ": " << p.status().ToString();
    EXPECT_EQ(boost::json::serialize(ContractParamToJson(*p)), out) << in;
    auto again = ContractParamFromJson(ContractParamToJson(*p));
    ASSERT_TRUE(again.ok()) << out;
    EXPECT_EQ(*again, *p) << out;
  }
  auto sig = ContractParamFromJson(
      Json(R"({"type":"Signature","value":")" + std::string(84, 'A') + R"(AA=="})"));  // 64 zero bytes
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->type(), ContractParamType::Signature);
}

TEST(ContractParamTest, JsonRejectsWhatNeoWouldMisread) {
  std::string deep = R"({"type":"Integer","value":"1"})";
  for (int i = 0; i <= kMaxContractParamDepth; ++i) deep = R"({"type":"Array","value":[)" + deep + "]}";
  for (const std::string& bad : std::vector<std::string>{
           R"({"type":"Boolean","value":"true"})",  // Neo reads any non-empty string as true
           R"({"type":"Boolean","value":1})",
           R"({"type":"integer","value":"1"})",  // type names are case-sensitive
           R"({"type":"Integer","value":1.5})",
           R"({"type":"Integer","value":1e30})",
           R"({"type":"Integer","value":"12a"})",
           R"({"type":"Integer","value":true})",
           R"({"type":"ByteArray","value":"AQI"})",                               // missing padding
           R"({"type":"ByteArray","value":"AQJ="})",                              // non-zero unused bits
           R"({"type":"Signature","value":"AQID"})",                              // not 64 bytes
           R"({"type":"Hash160","value":"NdtB8RXRmJ7Nhw1FPTm7E6HoDZGnDw37nf"})",  // addresses are not Hash160
           R"({"type":"Hash256","value":"0xd2a4cff31913016155e38e474a2c06d08be276cf"})",
           R"({"type":"PublicKey","value":"04"})",
           R"({"type":"PublicKey","value":"02ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"})",
           R"({"type":"String","value":5})",
           R"({"type":"Array","value":{}})",
           R"({"type":"Map","value":[]})",
           R"({"type":"Map"})",
           R"({"type":"Any","value":1})",
           R"({"value":"1"})",
           R"(["Integer","1"])",
           deep,
       }) {
    auto p = ContractParamFromJson(Json(bad));
    EXPECT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ContractParam::String("\xC0\xAF").ok());
  EXPECT_FALSE(ContractParam::String("\xED\xA0\x80").ok());  // a UTF-16 surrogate
  EXPECT_TRUE(ContractParam::String("test\xF0\x9F\x98\x82").ok());
}

TEST(ContractParamTest, TypeNamesMatchNeo) {
  EXPECT_EQ(ContractParamTypeName(ContractParamType::Hash160), "Hash160");
  EXPECT_EQ(ContractParamTypeFromName("InteropInterface"), ContractParamType::InteropInterface);
  EXPECT_EQ(static_cast<int>(*ContractParamTypeFromName("Signature")), 0x17);
  EXPECT_EQ(static_cast<int>(*ContractParamTypeFromName("Array")), 0x20);
  EXPECT_FALSE(ContractParamTypeFromName("signature").has_value());
}

}  // namespace
}  // namespace neosl::neo
