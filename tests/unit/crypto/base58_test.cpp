#include "crypto/base58.h"

#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Hex;
using testing::Unhex;

// bitcoin/bitcoin src/test/data/base58_encode_decode.json: [hex, base58] pairs, covering leading
// zero bytes, the whole alphabet and carries around 58^n.
constexpr const char* kBitcoinVectors = R"json([
["", ""],
["61", "2g"],
["626262", "a3gV"],
["636363", "aPEr"],
["73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"],
["00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"],
["516b6fcd0f", "ABnLTmg"],
["bf4f89001e670274dd", "3SEo3LWLoPntC"],
["572e4794", "3EFU7m"],
["ecac89cad93923c02321", "EJDM8drfXA6uyA"],
["10c8511e", "Rt5zm"],
["00000000000000000000", "1111111111"],
["00000000000000000000000000000000000000000000000000000000000000000000000000000000", "1111111111111111111111111111111111111111"],
["00000000000000000000000000000000000000000000000000000000000000000000000000000001", "1111111111111111111111111111111111111112"],
["0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ec39d04c37e71e5d591881f6", "111111111111111111111111111111111111111111111111111111111111111111111111111111111111115TYzLYH1udmLdzCLM"],
["000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"],
["000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", "1cWB5HCBdLjAuqGGReWE3R3CguuwSjw6RHn39s2yuDRTS5NsBgNiFpWgAnEx6VQi8csexkgYw3mdYrMHr8x9i7aEwP8kZ7vccXWqKDvGv3u1GxFKPuAkn8JCPPGDMf3vMMnbzm6Nh9zh1gcNsMvH3ZNLmP5fSG6DGbbi2tuwMWPthr4boWwCxf7ewSgNQeacyozhKDDQQ1qL5fQFUW52QKUZDZ5fw3KXNQJMcNTcaB723LchjeKun7MuGW5qyCBZYzA1KjofN1gYBV3NqyhQJ3Ns746GNuf9N2pQPmHz4xpnSrrfCvy6TVVz5d4PdrjeshsWQwpZsZGzvbdAdN8MKV5QsBDY"],
["271F359E", "zzzzy"],
["271F359F", "zzzzz"],
["271F35A0", "211111"],
["271F35A1", "211112"]
])json";

struct Vector {
  std::string hex;
  std::string base58;
};

std::vector<Vector> BitcoinVectors() {
  std::vector<Vector> out;
  const boost::json::value parsed = boost::json::parse(kBitcoinVectors);
  for (const auto& entry : parsed.as_array()) {
    const auto& pair = entry.as_array();
    out.push_back({std::string(pair.at(0).as_string()), std::string(pair.at(1).as_string())});
  }
  return out;
}

TEST(Base58Test, BitcoinVectorsEncode) {
  const auto vectors = BitcoinVectors();
  ASSERT_EQ(vectors.size(), 21u);
  for (const auto& v : vectors) EXPECT_EQ(Base58Encode(Unhex(v.hex)), v.base58) << v.hex;
}

TEST(Base58Test, BitcoinVectorsDecode) {
  for (const auto& v : BitcoinVectors()) {
    auto decoded = Base58Decode(v.base58);
    ASSERT_TRUE(decoded.ok()) << v.base58 << ": " << decoded.status().ToString();
    EXPECT_EQ(Hex(*decoded), Hex(Unhex(v.hex))) << v.base58;
  }
}

TEST(Base58Test, RejectsCharactersOutsideTheAlphabet) {
  // 0, O, I and l are left out of the alphabet because they look alike; whitespace and
  // non-ASCII bytes are not skipped either.
  for (const char* text :
       {"0", "O", "I", "l", "3SEo3LWLoPnt0", " 3SEo3", "3SEo3 ", "3SE\no3", "+", "a3g-V", "\xc3\xa9", "zzz\x7f"}) {
    auto decoded = Base58Decode(text);
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << "'" << text << "'";
  }
  EXPECT_EQ(Base58Decode(std::string_view("a3g\0V", 5)).status().code(), StatusCode::kInvalidArgument);
}

TEST(Base58Test, RejectsOverlongText) {
  EXPECT_TRUE(Base58Decode(std::string(kBase58MaxDecodeLength, 'z')).ok());
  EXPECT_EQ(Base58Decode(std::string(kBase58MaxDecodeLength + 1, 'z')).status().code(), StatusCode::kInvalidArgument);
}

// Neo's WIF: Base58Check(0x80 || key || 0x01). Keys from neo-go's keytestcases (= neon-js
// testKeys.json) and the neow3j/NeoSwift WIF test.
TEST(Base58CheckTest, DecodesNeoWifKeys) {
  struct Wif {
    const char* wif;
    const char* key;
  };
  for (const auto& w : {Wif{"L1QqQJnpBwbsPGAuutuzPTac8piqvbR1HRjrY5qHup48TBCBFe4g",
                            "7d128a6d096f0c14c3a25a2b0c41cf79661bfcb4a8cc95aaaea28bde4d732344"},
                        Wif{"L2QTooFoDFyRFTxmtiVHt5CfsXfVnexdbENGDkkrrgTTryiLsPMG",
                            "9ab7e154840daca3a2efadaf0df93cd3a5b51768c632f5433f86909d9b994a69"},
                        Wif{"KyKvWLZsNwBJx5j9nurHYRwhYfdQUu9tTEDsLCUHDbYBL8cHxMiG",
                            "3edee7036b8fd9cef91de47386b191dd76db2888a553e7736bb02808932a915b"},
                        Wif{"L25kgAQJXNHnhc7Sx9bomxxwVSMsZdkaNQ3m2VfHrnLzKWMLP13A",
                            "9117f4bf9be717c9a90994326897f4243503accd06712162267e77f18b49c3a3"}}) {
    auto payload = Base58CheckDecode(w.wif);
    ASSERT_TRUE(payload.ok()) << payload.status().ToString();
    EXPECT_EQ(Hex(*payload), std::string("80") + w.key + "01");
    EXPECT_EQ(Base58CheckEncode(*payload), w.wif);
  }
}

TEST(Base58CheckTest, AppendsTheDoubleSha256Checksum) {
  const std::vector<uint8_t> payload = {0x35, 0x01, 0x02, 0x03};
  auto raw = Base58Decode(Base58CheckEncode(payload));
  ASSERT_TRUE(raw.ok());
  ASSERT_EQ(raw->size(), payload.size() + 4);
  const Digest256 checksum = DoubleSha256(payload);
  EXPECT_EQ(Hex(std::span(*raw).last(4)), Hex(std::span(checksum).first(4)));
}

TEST(Base58CheckTest, RejectsBadChecksums) {
  const std::string good = "L1QqQJnpBwbsPGAuutuzPTac8piqvbR1HRjrY5qHup48TBCBFe4g";
  ASSERT_TRUE(Base58CheckDecode(good).ok());
  // Changing any one character breaks the checksum (or the alphabet).
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = bad[i] == 'z' ? 'y' : 'z';
    EXPECT_EQ(Base58CheckDecode(bad).status().code(), StatusCode::kInvalidArgument) << "position " << i;
  }
  EXPECT_EQ(Base58CheckDecode("NPTmAHDxo6Pkyic8Nvu3kwyXoYJCvcCB6I").status().code(), StatusCode::kInvalidArgument);
  // neo-go's keytestcases "invalid" entry: a WIF whose last character breaks the checksum.
  EXPECT_EQ(Base58CheckDecode("KyKvWLZsNwBJx5j9nurHYRwhYfdQUu9tTEDsLCUHDbYBL8cHxMiS").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(Base58CheckDecode("KyKvWLZsNwBJx5j9nurHYRwhYfdQUu9tTEDsLCUHDbYBL8cHxMiG").ok());
  EXPECT_EQ(Base58CheckDecode("L1QqQJnpBwbsPGAuutuzPTac8piqvbR1HRjrY5qHup48TBCBFe4").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Base58CheckTest, RejectsInputsShorterThanTheChecksum) {
  EXPECT_EQ(Base58CheckDecode("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Base58CheckDecode("2g").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Base58CheckDecode("3EFU7").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Base58CheckDecode("0abc").status().code(), StatusCode::kInvalidArgument);
}

TEST(Base58CheckTest, EmptyPayloadRoundTrips) {
  auto decoded = Base58CheckDecode(Base58CheckEncode({}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

}  // namespace
}  // namespace neosl::crypto
