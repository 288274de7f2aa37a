// Network fees against neo's UT_Transaction (FeeIsSignatureContractDetailed, FeeIsMultiSigContract)
// and neo-go's calculatenetworkfee RPC tests, which compute the same transactions.
#include <vector>

#include <gtest/gtest.h>

#include "crypto/p256.h"
#include "neo/account.h"
#include "neo/fee.h"
#include "neo/script_builder.h"

namespace neosl::neo {
namespace {

constexpr int64_t kFeePerByte = 1000;   // Policy default
constexpr int64_t kExecFeeFactor = 30;  // Policy default

crypto::PublicKey Key(std::string_view hex) {
  auto key = crypto::PublicKey::FromHex(hex);
  EXPECT_TRUE(key.ok()) << hex;
  return *std::move(key);
}

const crypto::PublicKey& KeyA() {
  static const crypto::PublicKey k = Key("02028a99826edc0c97d18e22b6932373d908d323aa7f92656a77ec26e8861699ef");
  return k;
}
const crypto::PublicKey& KeyB() {
  static const crypto::PublicKey k = Key("031d8e1630ce640966967bc6d95223d21f44304133003140c3b52004dc981349c9");
  return k;
}

// GAS transfer(from, to, 1, null) followed by ASSERT, as neo-go's CreateCallWithAssertScript
// builds it: 87 bytes.
std::vector<uint8_t> TransferScript(const UInt160& from, const UInt160& to) {
  ScriptBuilder sb;
  auto gas = UInt160::Parse("0xd2a4cff31913016155e38e474a2c06d08be276cf");
  EXPECT_TRUE(sb.Nep17Transfer(*gas, from, to, ContractParam::Int(1)).ok());
  sb.Emit(OpCode::ASSERT);
  return sb.Take();
}

// Header (25) + one signer with CalledByEntry (var-int 1 + 20 + 1) + no attributes (1)
// + script as var-bytes + one witness (var-int 1 + its size).
size_t SignedSize(const std::vector<uint8_t>& script, const std::vector<uint8_t>& verification) {
  auto witness = WitnessSize(verification);
  EXPECT_TRUE(witness.ok());
  return 25 + 22 + 1 + (1 + script.size()) + 1 + (witness.ok() ? *witness : 0);
}

TEST(FeeTest, OpCodePricesMatchNeo) {
  EXPECT_EQ(OpCodePrice(OpCode::PUSHINT8), 1);
  EXPECT_EQ(OpCodePrice(OpCode::PUSH16), 1);
  EXPECT_EQ(OpCodePrice(OpCode::PUSHDATA1), 8);
  EXPECT_EQ(OpCodePrice(OpCode::PUSHDATA2), 512);
  EXPECT_EQ(OpCodePrice(OpCode::PUSHDATA4), 4096);
  EXPECT_EQ(OpCodePrice(OpCode::PUSHINT256), 4);
  EXPECT_EQ(OpCodePrice(OpCode::SYSCALL), 0);
  EXPECT_EQ(OpCodePrice(OpCode::RET), 0);
  EXPECT_EQ(OpCodePrice(OpCode::NEWARRAY0), 16);
  EXPECT_EQ(OpCodePrice(OpCode::PACK), 2048);
  EXPECT_EQ(OpCodePrice(OpCode::CALLT), 32768);
  EXPECT_EQ(OpCodePrice(OpCode::CONVERT), 8192);
  EXPECT_EQ(OpCodePrice(static_cast<OpCode>(0xFF)), 0);  // undefined
}

TEST(FeeTest, VerificationCostsMatchNeo) {
  // FeeIsSignatureContractDetailed: verificationGas 983520 = 30 × (8 + 8 + 0 + 32768).
  auto single = NetworkFeeForWitness(SingleSigScript(KeyA()), kExecFeeFactor);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_EQ(*single, 983520);
  // FeeIsMultiSigContract (2-of-2): verificationGas 1967100 = 30 × (8 × 4 + 1 + 1 + 2 × 32768).
  auto multi = NetworkFeeForWitness(*MultiSigScript(2, {KeyA(), KeyB()}), kExecFeeFactor);
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(*multi, 1967100);
  // CheckMultisig charges per public key, not per signature: 1-of-2 still pays for 2 keys.
  auto one_of_two = NetworkFeeForWitness(*MultiSigScript(1, {KeyA(), KeyB()}), 1);
  ASSERT_TRUE(one_of_two.ok());
  EXPECT_EQ(*one_of_two, 8 * 3 + 1 + 1 + 2 * 32768);
}

TEST(FeeTest, WitnessSizes) {
  EXPECT_EQ(*WitnessSize(SingleSigScript(KeyA())), 67u + 41u);
  EXPECT_EQ(*WitnessSize(*MultiSigScript(2, {KeyA(), KeyB()})), (1u + 132u) + (1u + 77u));
  // 4 signatures are 264 bytes of invocation: a 3-byte var-int.
  std::vector<crypto::PublicKey> keys;
  for (const char* hex : {"02103a7f7dd016558597f7960d27c516a4394fd968b9e65155eb4b013e4040406e",
                          "02a7bc55fe8684e0119768d104ba30795bdcc86619e864add26156723ed185cd62",
                          "02b3622bf4017bdfe317c58aed5f4c753f206b7db896046fa7d774bbc4bf7f8dc2",
                          "03d90c07df63e690ce77912e10ab51acc944b66860237b608c4f8f8309e71ee699"}) {
    keys.push_back(Key(hex));
  }
  auto four = MultiSigScript(4, keys);
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(*WitnessSize(*four), (3u + 264u) + (1u + four->size()));
}

// neo-go server_test "calculatenetworkfee / simple GAS transfer": 1228520, which its comment says
// "perfectly matches FeeIsSignatureContractDetailed() C# test" (a 245-byte transaction).
TEST(FeeTest, SingleSigTransferMatchesNeoAndNeoGo) {
  const std::vector<uint8_t> verification = SingleSigScript(KeyA());
  const UInt160 account = ScriptHash(verification);
  const std::vector<uint8_t> script = TransferScript(account, account);
  ASSERT_EQ(script.size(), 87u);
  const size_t size = SignedSize(script, verification);
  EXPECT_EQ(size, 245u);
  auto fee = CalculateNetworkFee(size, {verification}, kFeePerByte, kExecFeeFactor);
  ASSERT_TRUE(fee.ok()) << fee.status().ToString();
  EXPECT_EQ(*fee, 1228520);
  // neo's development branch (UT_Transaction) signs a 267-byte transfer for such an account: 1250520.
  EXPECT_EQ(*CalculateNetworkFee(267, {verification}, kFeePerByte, kExecFeeFactor), 1250520);
}

// neo-go "multisignature tx": 2-of-2 default multisig sends GAS; 2315100 (FeeIsMultiSigContract).
TEST(FeeTest, MultiSigTransferMatchesNeoAndNeoGo) {
  auto verification = MultiSigScript(2, {KeyA(), KeyB()});
  ASSERT_TRUE(verification.ok());
  const std::vector<uint8_t> script = TransferScript(ScriptHash(*verification), ScriptHash(SingleSigScript(KeyA())));
  const size_t size = SignedSize(script, *verification);
  EXPECT_EQ(size, 348u);
  auto fee = CalculateNetworkFee(size, {*verification}, kFeePerByte, kExecFeeFactor);
  ASSERT_TRUE(fee.ok());
  EXPECT_EQ(*fee, 2315100);
}

TEST(FeeTest, SumsWitnessesAndRejectsWhatItCannotPrice) {
  const std::vector<uint8_t> single = SingleSigScript(KeyA());
  auto two = CalculateNetworkFee(400, {single, SingleSigScript(KeyB())}, kFeePerByte, kExecFeeFactor);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, 400 * 1000 + 2 * 983520);
  EXPECT_EQ(*CalculateNetworkFee(100, {}, 0, kExecFeeFactor), 0);

  EXPECT_EQ(NetworkFeeForWitness({}, kExecFeeFactor).status().code(), StatusCode::kUnimplemented);
  const std::vector<uint8_t> ret = {0x40};
  EXPECT_EQ(NetworkFeeForWitness(ret, kExecFeeFactor).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(WitnessSize(ret).status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(CalculateNetworkFee(100, {single, ret}, kFeePerByte, kExecFeeFactor).status().code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(NetworkFeeForWitness(single, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CalculateNetworkFee(100, {single}, -1, kExecFeeFactor).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CalculateNetworkFee(100, {single}, INT64_MAX, kExecFeeFactor).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(NetworkFeeForWitness(single, INT64_MAX / 2).status().code(), StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace neosl::neo
