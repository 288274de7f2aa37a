#include "crypto/hash.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/crypto/test_util.h"

namespace neosl::crypto {
namespace {

using testing::Hex;
using testing::Unhex;

// FIPS 180-2 / NIST CSRC examples.
TEST(Sha256Test, NistExamples) {
  EXPECT_EQ(Hex(Sha256(AsBytes(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256(AsBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million_a(1000000, 'a');
  EXPECT_EQ(Hex(Sha256(AsBytes(million_a))), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, DoubleIsShaOfSha) {
  EXPECT_EQ(Hex(DoubleSha256(AsBytes("abc"))), "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358");
  const Digest256 once = Sha256(AsBytes("neo"));
  EXPECT_EQ(DoubleSha256(AsBytes("neo")), Sha256(once));
}

// The RIPEMD-160 authors' published examples (Dobbertin, Bosselaers, Preneel).
TEST(Ripemd160Test, OfficialExamples) {
  EXPECT_EQ(Hex(Ripemd160(AsBytes(""))), "9c1185a5c5e9fc54612808977ee8f548b2258d31");
  EXPECT_EQ(Hex(Ripemd160(AsBytes("abc"))), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
  EXPECT_EQ(Hex(Ripemd160(AsBytes("message digest"))), "5d0689ef49d2fae572b881b123a85ffa21595f36");
  EXPECT_EQ(Hex(Ripemd160(AsBytes("abcdefghijklmnopqrstuvwxyz"))), "f71c27109c692c1b56bbdceb5b9d2865b3708dbc");
}

// The public key and hash from the Bitcoin wiki's "Technical background of version 1 addresses".
TEST(Hash160Test, BitcoinWikiPublicKey) {
  const auto key = Unhex("0250863ad64a87ae8a2fe83c1af1a8403cb53f53e486d8511dad8a04887e5b2352");
  EXPECT_EQ(Hex(Hash160(key)), "f54a5851e9372b87810a8e60cdd2e7cfd80b6e31");
}

struct HmacCase {
  const char* name;
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  const char* mac;
};

// RFC 4231 §4 test cases 1-4, 6 and 7 (case 5 is a truncated MAC, which we do not offer).
TEST(HmacSha256Test, Rfc4231) {
  const std::vector<HmacCase> cases = {
      {"1", std::vector<uint8_t>(20, 0x0b), testing::Bytes("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", testing::Bytes("Jefe"), testing::Bytes("what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", std::vector<uint8_t>(20, 0xaa), std::vector<uint8_t>(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", Unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::vector<uint8_t>(50, 0xcd),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"6", std::vector<uint8_t>(131, 0xaa), testing::Bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7", std::vector<uint8_t>(131, 0xaa),
       testing::Bytes("This is a test using a larger than block-size key and a larger than block-size data. The key "
                      "needs to be hashed before being used by the HMAC algorithm."),
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Hex(HmacSha256(c.key, c.data)), c.mac) << "RFC 4231 test case " << c.name;
  }
}

}  // namespace
}  // namespace neosl::crypto
