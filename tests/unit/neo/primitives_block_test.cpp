// Header and Block: neo-project/neo UT_Block, and block 1 of neo-go's RPC test chain
// (pkg/rpcclient/rpc_test.go: base64B1, b1Verbose, base64Header1) in binary and as getblock JSON.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "neo/account.h"
#include "neo/block.h"
#include "neo/payload_json.h"

namespace neosl::neo {
namespace {

// UT_Block.Serialize: one transaction (script PUSH2), witness verification PUSH1.
constexpr char kNeoBlock[] =
    "0000000000000000000000000000000000000000000000000000000000000000000000006c23be5d32679baa9c5c2aa0d329fd2a2441d7"
    "875d0f34d42f58f70428fbbbb9e913ff854c00000000000000000000000000000000000000000000000000000000000000000000000001"
    "00011101000000000000000000000000000000000000000000000000000100000000000000000000000000000000000000000100011201"
    "0000";

constexpr char kNeoGoBlock1[] =
    "AAAAAMSdeyVO3QCekJTbQ4D7YEEGFv2nXPd6CfO5Kn3htI8P9tVA4+VXLyyMG12BUj6qB3CZ+JIFwWCcDF+KBHH0VSjJICSkegEAAAAAAAAAAA"
    "AAAQAAAABouegejA5skHm0udEF6HinbT8iPwHGDEBg0hpK90iZlB4ZSCG7BOr7BsvPXGDax360lvqKeNFuzaGI1RYNH50/dhQLxocy90JdsIOy"
    "odd1sOJGEjZIt7ztDEAHc2avJzz6tK+FOQMIZO/FEEikJdLJX0+iZXFcsmDRpB7lo2wWMSQbcoTXNg7leuR0VeDsKJ+YdvCuTG5WbiqWDECa6Y"
    "jj+bK4te5KR5jdLF5kLt03csyozZcd/X7NPt89IsX01zpX8ec3e+B2qySJIOhEf3cK0i+5U5wyXiFcRI8xkxMMIQIQOn990BZVhZf3lg0nxRak"
    "OU/ZaLnmUVXrSwE+QEBAbgwhAqe8Vf6GhOARl2jRBLoweVvcyGYZ6GSt0mFWcj7Rhc1iDCECs2Ir9AF73+MXxYrtX0x1PyBrfbiWBG+n13S7xL"
    "9/jcIMIQPZDAffY+aQzneRLhCrUazJRLZoYCN7YIxPj4MJ5x7mmRRBntDcOgIAAgAAAMDYpwAAAAAADHlDAAAAAACwBAAAAWi56B6MDmyQebS5"
    "0QXoeKdtPyI/AQBbCwIY3fUFDBTunqIsJ+NL0BSPxBCOCPdOj1BIsgwUaLnoHowObJB5tLnRBeh4p20/Ij8UwB8MCHRyYW5zZmVyDBT1Y+pAvC"
    "g9TQ4FxI6jBbPyoHNA70FifVtSOQHGDEC8InWg8rQHWjklRojobu7kn4r0xZY2xWYs15ggVX4PQyEHpNTU6vZHT2TXRdPXAOKHhgWAttO0oTvo"
    "+9VZAjIVDEBF0qvBMlvmYJIYLqSoCjhBykcSN78UXrBjO5BKL8BpHtejWCld1VT6Z7nYrEBLgySD6HeMcp/fa6vqHzU220e/DECXtm5AA1jy9G"
    "FA7t8U6a+1uPrQFk4Ufp0UyXsun0PvN0NdhrHc37xm8k9Z0dB85V/7WLtkMaLLyjVNVIKImC76kxMMIQIQOn990BZVhZf3lg0nxRakOU/ZaLnm"
    "UVXrSwE+QEBAbgwhAqe8Vf6GhOARl2jRBLoweVvcyGYZ6GSt0mFWcj7Rhc1iDCECs2Ir9AF73+MXxYrtX0x1PyBrfbiWBG+n13S7xL9/jcIMIQ"
    "PZDAffY+aQzneRLhCrUazJRLZoYCN7YIxPj4MJ5x7mmRRBntDcOgADAAAAwNinAAAAAACsiEMAAAAAALAEAAABaLnoHowObJB5tLnRBeh4p20/"
    "Ij8BAF8LAwDodkgXAAAADBTunqIsJ+NL0BSPxBCOCPdOj1BIsgwUaLnoHowObJB5tLnRBeh4p20/Ij8UwB8MCHRyYW5zZmVyDBTPduKL0AYsSk"
    "eO41VhARMZ88+k0kFifVtSOQHGDEDgj/SQT84EbWRZ4ZKhyjJTuLwVPDgVlQO3CGmgacItvni9nziJvTxziZXBG/0Hqkv68ddS1EH94RtWlqLQ"
    "WRCjDEAWZUeSQ8KskILSvoWPN3836xpg/TYzOGiFVoePv91CFnap4fRFxdbporBgnZ/sUsjFZ74U8f+r0riqtvkdMMyGDEDx5iho79oDVYOCwI"
    "DH3K1UeDjAT6Hq9YsD9SCfJSE1rRsAdJPh2StYxdh9Jah1lwGbW0U+Wu6zpbVFf5CS6fFckxMMIQIQOn990BZVhZf3lg0nxRakOU/ZaLnmUVXr"
    "SwE+QEBAbgwhAqe8Vf6GhOARl2jRBLoweVvcyGYZ6GSt0mFWcj7Rhc1iDCECs2Ir9AF73+MXxYrtX0x1PyBrfbiWBG+n13S7xL9/jcIMIQPZDA"
    "ffY+aQzneRLhCrUazJRLZoYCN7YIxPj4MJ5x7mmRRBntDcOg==";

constexpr char kNeoGoHeader1[] =
    "AAAAAMSdeyVO3QCekJTbQ4D7YEEGFv2nXPd6CfO5Kn3htI8P9tVA4+VXLyyMG12BUj6qB3CZ+JIFwWCcDF+KBHH0VSjJICSkegEAAAAAAAAAAA"
    "AAAQAAAABouegejA5skHm0udEF6HinbT8iPwHGDEBg0hpK90iZlB4ZSCG7BOr7BsvPXGDax360lvqKeNFuzaGI1RYNH50/dhQLxocy90JdsIOy"
    "odd1sOJGEjZIt7ztDEAHc2avJzz6tK+FOQMIZO/FEEikJdLJX0+iZXFcsmDRpB7lo2wWMSQbcoTXNg7leuR0VeDsKJ+YdvCuTG5WbiqWDECa6Y"
    "jj+bK4te5KR5jdLF5kLt03csyozZcd/X7NPt89IsX01zpX8ec3e+B2qySJIOhEf3cK0i+5U5wyXiFcRI8xkxMMIQIQOn990BZVhZf3lg0nxRak"
    "OU/ZaLnmUVXrSwE+QEBAbgwhAqe8Vf6GhOARl2jRBLoweVvcyGYZ6GSt0mFWcj7Rhc1iDCECs2Ir9AF73+MXxYrtX0x1PyBrfbiWBG+n13S7xL"
    "9/jcIMIQPZDAffY+aQzneRLhCrUazJRLZoYCN7YIxPj4MJ5x7mmRRBntDcOg==";

// getblock 1 (verbose) as neo-go's RPC client test serves it; "nonce":"0" is short for
// "0000000000000000".
constexpr char kNeoGoBlock1Verbose[] =
    R"json({"size":1438,"nextblockhash":"0x34c20650683940a7af1881c2798e83acf9bf98aa226025af6c1d32b5530cc900","confirmations":15,"hash":"0x88c1cbf68695f73fb7b7d185c0037ffebdf032327488ebe65e0533d269e7de9b","version":0,"previousblockhash":"0x0f8fb4e17d2ab9f3097af75ca7fd16064160fb8043db94909e00dd4e257b9dc4","merkleroot":"0x2855f471048a5f0c9c60c10592f8997007aa3e52815d1b8c2c2f57e5e340d5f6","time":1626251469001,"nonce":"0","index":1,"nextconsensus":"NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq","primary":0,"witnesses":[{"invocation":"DEBg0hpK90iZlB4ZSCG7BOr7BsvPXGDax360lvqKeNFuzaGI1RYNH50/dhQLxocy90JdsIOyodd1sOJGEjZIt7ztDEAHc2avJzz6tK+FOQMIZO/FEEikJdLJX0+iZXFcsmDRpB7lo2wWMSQbcoTXNg7leuR0VeDsKJ+YdvCuTG5WbiqWDECa6Yjj+bK4te5KR5jdLF5kLt03csyozZcd/X7NPt89IsX01zpX8ec3e+B2qySJIOhEf3cK0i+5U5wyXiFcRI8x","verification":"EwwhAhA6f33QFlWFl/eWDSfFFqQ5T9loueZRVetLAT5AQEBuDCECp7xV/oaE4BGXaNEEujB5W9zIZhnoZK3SYVZyPtGFzWIMIQKzYiv0AXvf4xfFiu1fTHU/IGt9uJYEb6fXdLvEv3+NwgwhA9kMB99j5pDOd5EuEKtRrMlEtmhgI3tgjE+PgwnnHuaZFEGe0Nw6"}],"tx":[{"hash":"0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501a","size":488,"version":0,"nonce":2,"sender":"NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq","sysfee":"11000000","netfee":"4421900","validuntilblock":1200,"attributes":[],"signers":[{"account":"0x3f223f6da778e805d1b9b479906c0e8c1ee8b968","scopes":"CalledByEntry"}],"script":"CwIY3fUFDBTunqIsJ+NL0BSPxBCOCPdOj1BIsgwUaLnoHowObJB5tLnRBeh4p20/Ij8UwB8MCHRyYW5zZmVyDBT1Y+pAvCg9TQ4FxI6jBbPyoHNA70FifVtSOQ==","witnesses":[{"invocation":"DEC8InWg8rQHWjklRojobu7kn4r0xZY2xWYs15ggVX4PQyEHpNTU6vZHT2TXRdPXAOKHhgWAttO0oTvo+9VZAjIVDEBF0qvBMlvmYJIYLqSoCjhBykcSN78UXrBjO5BKL8BpHtejWCld1VT6Z7nYrEBLgySD6HeMcp/fa6vqHzU220e/DECXtm5AA1jy9GFA7t8U6a+1uPrQFk4Ufp0UyXsun0PvN0NdhrHc37xm8k9Z0dB85V/7WLtkMaLLyjVNVIKImC76","verification":"EwwhAhA6f33QFlWFl/eWDSfFFqQ5T9loueZRVetLAT5AQEBuDCECp7xV/oaE4BGXaNEEujB5W9zIZhnoZK3SYVZyPtGFzWIMIQKzYiv0AXvf4xfFiu1fTHU/IGt9uJYEb6fXdLvEv3+NwgwhA9kMB99j5pDOd5EuEKtRrMlEtmhgI3tgjE+PgwnnHuaZFEGe0Nw6"}]},{"hash":"0xced32af656e144f6be5d7172ed37747831456cb3eeaac4ee964d0b479b45d3a8","size":492,"version":0,"nonce":3,"sender":"NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq","sysfee":"11000000","netfee":"4425900","validuntilblock":1200,"attributes":[],"signers":[{"account":"0x3f223f6da778e805d1b9b479906c0e8c1ee8b968","scopes":"CalledByEntry"}],"script":"CwMA6HZIFwAAAAwU7p6iLCfjS9AUj8QQjgj3To9QSLIMFGi56B6MDmyQebS50QXoeKdtPyI/FMAfDAh0cmFuc2ZlcgwUz3bii9AGLEpHjuNVYQETGfPPpNJBYn1bUjk=","witnesses":[{"invocation":"DEDgj/SQT84EbWRZ4ZKhyjJTuLwVPDgVlQO3CGmgacItvni9nziJvTxziZXBG/0Hqkv68ddS1EH94RtWlqLQWRCjDEAWZUeSQ8KskILSvoWPN3836xpg/TYzOGiFVoePv91CFnap4fRFxdbporBgnZ/sUsjFZ74U8f+r0riqtvkdMMyGDEDx5iho79oDVYOCwIDH3K1UeDjAT6Hq9YsD9SCfJSE1rRsAdJPh2StYxdh9Jah1lwGbW0U+Wu6zpbVFf5CS6fFc","verification":"EwwhAhA6f33QFlWFl/eWDSfFFqQ5T9loueZRVetLAT5AQEBuDCECp7xV/oaE4BGXaNEEujB5W9zIZhnoZK3SYVZyPtGFzWIMIQKzYiv0AXvf4xfFiu1fTHU/IGt9uJYEb6fXdLvEv3+NwgwhA9kMB99j5pDOd5EuEKtRrMlEtmhgI3tgjE+PgwnnHuaZFEGe0Nw6"}]}]})json";

std::vector<uint8_t> Hex(std::string_view hex) {
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value());
  return b.value_or(std::vector<uint8_t>{});
}

std::vector<uint8_t> Base64(std::string_view text) {
  auto b = rpcjson::Base64Decode(text, "fixture");
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : std::vector<uint8_t>{};
}

UInt256 H256(std::string_view s) {
  return *UInt256::Parse(s);
}

TEST(PrimitivesBlockTest, NeoUnitTestBlock) {
  auto bytes = Hex(kNeoBlock);
  auto block = Block::Decode(bytes);
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  EXPECT_EQ(block->hash().ToString(), "0x60193a05005c433787d8a9b95da332bbeebb311e904525e9fb1bacc34ff1ead7");
  EXPECT_EQ(block->size(), 167u);
  EXPECT_EQ(block->header().merkle_root().ToString(),
            "0xb9bbfb2804f7582fd4340f5d87d741242afd29d3a02a5c9caa9b67325dbe236c");
  ASSERT_EQ(block->transactions().size(), 1u);
  EXPECT_EQ(block->transactions()[0].hash(), block->header().merkle_root());
  EXPECT_EQ(block->transactions()[0].size(), 53u);
  EXPECT_EQ(block->Encode(), bytes);
  // UT_Block.ToJson's expectations.
  auto json = BlockToJson(*block);
  const auto& o = json.as_object();
  EXPECT_EQ(o.at("hash").as_string(), "0x60193a05005c433787d8a9b95da332bbeebb311e904525e9fb1bacc34ff1ead7");
  EXPECT_EQ(o.at("size").to_number<int64_t>(), 167);
  EXPECT_EQ(o.at("nextconsensus").as_string(), "NKuyBkoGdZZSLyPbJEetheRhMjeznFZszf");
  EXPECT_EQ(o.at("nonce").as_string(), "0000000000000000");
  EXPECT_EQ(o.at("witnesses").as_array()[0].as_object().at("verification").as_string(), "EQ==");
  EXPECT_EQ(o.at("tx").as_array()[0].as_object().at("size").to_number<int64_t>(), 53);
  auto back = BlockFromJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *block);
}

TEST(PrimitivesBlockTest, NeoGoBlockOneBinary) {
  auto bytes = Base64(kNeoGoBlock1);
  auto block = Block::Decode(bytes);
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  EXPECT_EQ(block->hash().ToString(), "0x88c1cbf68695f73fb7b7d185c0037ffebdf032327488ebe65e0533d269e7de9b");
  EXPECT_EQ(block->size(), 1438u);
  EXPECT_EQ(block->header().index(), 1u);
  EXPECT_EQ(block->header().timestamp(), 1626251469001u);
  EXPECT_EQ(ToAddress(block->header().next_consensus()), "NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVq");
  ASSERT_EQ(block->transactions().size(), 2u);
  EXPECT_EQ(block->transactions()[0].hash().ToString(),
            "0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501a");
  EXPECT_EQ(block->transactions()[1].hash().ToString(),
            "0xced32af656e144f6be5d7172ed37747831456cb3eeaac4ee964d0b479b45d3a8");
  EXPECT_EQ(block->Encode(), bytes);

  auto header = Header::Decode(Base64(kNeoGoHeader1));
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(*header, block->header());
  EXPECT_EQ(header->size(), 457u);
  EXPECT_EQ(header->Encode(), Base64(kNeoGoHeader1));
}

TEST(PrimitivesBlockTest, NeoGoBlockOneVerboseJson) {
  auto parsed = BlockFromJson(boost::json::parse(kNeoGoBlock1Verbose));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Encode(), Base64(kNeoGoBlock1));
  EXPECT_EQ(parsed->hash().ToString(), "0x88c1cbf68695f73fb7b7d185c0037ffebdf032327488ebe65e0533d269e7de9b");
  // Our JSON is the node's, minus the context fields (confirmations, nextblockhash) and with
  // the nonce in Neo's 16-digit form.
  auto expected = boost::json::parse(kNeoGoBlock1Verbose).as_object();
  expected.erase("confirmations");
  expected.erase("nextblockhash");
  expected["nonce"] = "0000000000000000";
  EXPECT_EQ(BlockToJson(*parsed).as_object(), expected);
  auto again = BlockFromJson(BlockToJson(*parsed));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *parsed);

  auto header = HeaderFromJson(HeaderToJson(parsed->header()));
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(*header, parsed->header());
  EXPECT_EQ(HeaderToJson(parsed->header()).as_object().at("size").to_number<int64_t>(), 457);
}

TEST(PrimitivesBlockTest, JsonThatDisagreesIsRefused) {
  auto base = boost::json::parse(kNeoGoBlock1Verbose).as_object();
  auto with = [&](std::string_view key, boost::json::value v) {
    auto o = base;
    o[key] = std::move(v);
    return BlockFromJson(o);
  };
  auto wrong_hash = with("hash", "0x0000000000000000000000000000000000000000000000000000000000000001");
  ASSERT_FALSE(wrong_hash.ok());
  EXPECT_NE(std::string(wrong_hash.status().message()).find("does not match"), std::string::npos);
  EXPECT_FALSE(with("size", 1437).ok());
  EXPECT_FALSE(with("index", 2).ok()) << "changes the hash";
  EXPECT_FALSE(with("merkleroot", "0x0000000000000000000000000000000000000000000000000000000000000000").ok());
  EXPECT_FALSE(with("nonce", "00000000000000000").ok()) << "17 digits";
  EXPECT_FALSE(with("nonce", "xyz").ok());
  EXPECT_FALSE(with("nextconsensus", "NVTiAjNgagDkTr5HTzDmQP9kPwPHN5BgVr").ok()) << "checksum";
  EXPECT_FALSE(with("witnesses", boost::json::array{}).ok());
  EXPECT_FALSE(with("version", 1).ok());
  auto no_primary = base;
  no_primary.erase("primary");
  EXPECT_FALSE(BlockFromJson(no_primary).ok());
  // Without the stated hash and size, a consistent block still parses.
  auto bare = base;
  bare.erase("hash");
  bare.erase("size");
  EXPECT_TRUE(BlockFromJson(bare).ok());
}

TEST(PrimitivesBlockTest, MerkleRoot) {
  const UInt256 a = H256("0xf01080c50f3198f5a539c4a06d024f1b8bdc2a360a215fa7e2488f79a56d501a");
  const UInt256 b = H256("0xced32af656e144f6be5d7172ed37747831456cb3eeaac4ee964d0b479b45d3a8");
  const UInt256 c = H256("0x995584534af322ed8db94817f5f6a0cf28ce86a7c18e1123b535f12f66798f3d");
  EXPECT_TRUE(ComputeMerkleRoot({}).IsZero());
  const UInt256 one[] = {c};
  EXPECT_EQ(ComputeMerkleRoot(one), c);
  const UInt256 two[] = {a, b};  // neo-go block 1's header
  EXPECT_EQ(ComputeMerkleRoot(two).ToString(), "0x2855f471048a5f0c9c60c10592f8997007aa3e52815d1b8c2c2f57e5e340d5f6");
  // Odd counts pair the last node with itself: [a b c] and [a b c c] have the same root.
  const UInt256 three[] = {a, b, c};
  const UInt256 four[] = {a, b, c, c};
  EXPECT_EQ(ComputeMerkleRoot(three), ComputeMerkleRoot(four));
  EXPECT_EQ(ComputeMerkleRoot(three).ToString(), "0xbd0bb99694f1baf0b7733be2508c0b84cb220cac68d3f1e2d11e51d4b9391ac9");
  const UInt256 five[] = {a, b, c, a, b};
  EXPECT_EQ(ComputeMerkleRoot(five).ToString(), "0xcca807720202bc495ba26279f5c328938acb9f5ac9158c6cdc675079963514a8");
}

TEST(PrimitivesBlockTest, RejectsMalformedBlocks) {
  const std::string block = kNeoBlock;
  auto error = [](const std::string& hex) {
    auto b = Block::Decode(Hex(hex));
    return b.ok() ? std::string("decoded") : std::string(b.status().message());
  };
  EXPECT_NE(error(block + "00").find("trailing bytes"), std::string::npos);
  EXPECT_NE(error("01" + block.substr(2)).find("block version"), std::string::npos);
  // Witness count is the var-int after the 105 unsigned header bytes.
  const size_t wc = 2 * Header::kUnsignedSize;
  std::string two_witnesses = block;
  two_witnesses.replace(wc, 2, "02");
  EXPECT_NE(error(two_witnesses).find("block witnesses count: 2 exceeds"), std::string::npos);
  std::string no_witness = block;
  no_witness.replace(wc, 2, "00");
  EXPECT_NE(error(no_witness).find("exactly one"), std::string::npos);
  std::string bad_root = block;
  bad_root[size_t{2} * (4 + 32)] ^= 1;  // a hex digit of the Merkle root
  EXPECT_NE(error(bad_root).find("merkle root"), std::string::npos);
  // The same transaction twice, with the header's root made to match.
  auto one = *Block::Decode(Hex(block));
  const auto& tx = one.transactions()[0];
  HeaderFields f = one.header().fields();
  const UInt256 twice[] = {tx.hash(), tx.hash()};
  f.merkle_root = ComputeMerkleRoot(twice);
  auto header = Header::Create(f);
  ASSERT_TRUE(header.ok());
  auto dup = Block::Create(*header, {tx, tx});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(std::string(dup.status().message()).find("appears twice"), std::string::npos);
  BinaryWriter w;
  header->Encode(w);
  w.VarInt(2);
  tx.Encode(w);
  tx.Encode(w);
  auto dup_decoded = Block::Decode(w.data());
  ASSERT_FALSE(dup_decoded.ok());
  EXPECT_NE(std::string(dup_decoded.status().message()).find("appears twice"), std::string::npos);
  // A broken transaction is reported with its position.
  std::string bad_tx = block;
  bad_tx.replace(bad_tx.size() - 106, 2, "01");  // first transaction's version
  EXPECT_NE(error(bad_tx).find("block transaction 0"), std::string::npos);
  // Header::Create checks what the decoder checks.
  f.version = 1;
  EXPECT_FALSE(Header::Create(f).ok());
}

TEST(PrimitivesBlockTest, EmptyBlockHasZeroRoot) {
  HeaderFields f;
  f.index = 7;
  f.witness.verification = {0x11};
  auto header = Header::Create(f);
  ASSERT_TRUE(header.ok());
  auto block = Block::Create(*header, {});
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  auto decoded = Block::Decode(block->Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, *block);
  EXPECT_EQ(block->size(), block->Encode().size());
}

}  // namespace
}  // namespace neosl::neo
