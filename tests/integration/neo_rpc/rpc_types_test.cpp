// Parsers, error mapping, base64 and URLs, without a network.
#include "neo/rpc_types.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "neo/rpc_client.h"
#include "neo/ws_subscriber.h"

namespace neosl::neo {
namespace {
namespace json = boost::json;

TEST(Base64, RoundTripsAndRejectsNonCanonical) {
  for (std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    std::vector<uint8_t> bytes(text.begin(), text.end());
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value()) << text;
    EXPECT_EQ(*decoded, bytes);
  }
  EXPECT_EQ(Base64Encode(std::vector<uint8_t>{'f', 'o', 'o', 'b'}), "Zm9vYg==");
  for (std::string bad : {"Zm9", "Zm9vY", "Zm9vYh==", "Zm9vYmE=x===", "Zm=v", "Zm9v\n", "Zm9v Zg==", "=m9v"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(RpcErrors, MapNeoCodesToCanonical) {
  struct Case {
    int64_t code;
    std::string message;
    StatusCode want;
  };
  for (const auto& c : std::vector<Case>{
           {-32700, "Bad request", StatusCode::kInvalidArgument},
           {-32601, "Method not found", StatusCode::kUnimplemented},
           {-32602, "Invalid params", StatusCode::kInvalidArgument},
           {-32603, "Internal server RpcError", StatusCode::kInternal},
           {-100, "Unknown block", StatusCode::kNotFound},
           {-100, "RPC error", StatusCode::kUnknown},
           {-101, "Unknown block", StatusCode::kNotFound},
           {-103, "Unknown transaction", StatusCode::kNotFound},
           {-104, "Unknown storage item", StatusCode::kNotFound},
           {-300, "Insufficient funds in wallet", StatusCode::kFailedPrecondition},
           {-500, "AlreadyExists", StatusCode::kAlreadyExists},
           {-500, "OutOfMemory", StatusCode::kResourceExhausted},
           {-500, "Expired", StatusCode::kFailedPrecondition},
           {-500, "Invalid", StatusCode::kInvalidArgument},
           {-500, "PolicyFail", StatusCode::kFailedPrecondition},
           {-501, "Inventory already exists", StatusCode::kAlreadyExists},
           {-502, "Memory pool capacity reached", StatusCode::kResourceExhausted},
           {-503, "Already in pool", StatusCode::kAlreadyExists},
           {-504, "Insufficient network fee", StatusCode::kFailedPrecondition},
           {-505, "Policy check failed", StatusCode::kFailedPrecondition},
           {-508, "Invalid signature", StatusCode::kInvalidArgument},
           {-510, "Expired transaction", StatusCode::kFailedPrecondition},
           {-511, "Insufficient funds for fee", StatusCode::kFailedPrecondition},
           {-600, "Access denied", StatusCode::kPermissionDenied},
           {-2146233033, "One of the identified items was in an invalid format.", StatusCode::kUnknown},
       }) {
    Status s = RpcErrorToStatus(c.code, c.message, "");
    EXPECT_EQ(s.code(), c.want) << c.code << " " << c.message;
    EXPECT_EQ(NeoRpcErrorCode(s), c.code);
  }
  Status s = RpcErrorToStatus(-510, "Expired transaction", "Expired");
  EXPECT_EQ(s.message(), "Expired transaction - Expired (Neo RPC error -510)");
  // C# already joins message and data; they are not repeated.
  s = RpcErrorToStatus(-501, "Inventory already exists - AlreadyExists", "AlreadyExists");
  EXPECT_EQ(s.message(), "Inventory already exists - AlreadyExists (Neo RPC error -501)");
  EXPECT_FALSE(NeoRpcErrorCode(UnavailableError("down")).has_value());
}

TEST(RpcResponse, EnvelopeShapes) {
  EXPECT_EQ(ParseRpcResponse("not json").status().code(), StatusCode::kInternal);
  EXPECT_EQ(ParseRpcResponse("[1]").status().code(), StatusCode::kInternal);
  EXPECT_EQ(ParseRpcResponse(R"({"jsonrpc":"2.0","id":1})").status().code(), StatusCode::kInternal);
  EXPECT_EQ(ParseRpcResponse(R"({"id":1,"error":{"message":"x"}})").status().code(), StatusCode::kInternal);
  EXPECT_EQ(ParseRpcResponse(R"({"id":1,"error":"boom"})").status().code(), StatusCode::kInternal);
  auto r = ParseRpcResponse(R"({"jsonrpc":"2.0","id":1,"result":null,"error":null})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_null());
  auto e = ParseRpcResponse(R"({"id":1,"error":{"code":-103,"message":"Unknown transaction","data":{"k":1}}})");
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_NE(e.status().message().find(R"({"k":1})"), std::string::npos);
}

// Every real response in the fuzz corpus parses, with the expected outcome per kind.
TEST(RpcResponse, EveryCorpusSampleParses) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(NEOSL_RPC_CORPUS)) {
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    ++files;
    if (name.rfind("ws_", 0) == 0 && name != "ws_subscribe_result.json") {
      boost::system::error_code ec;
      EXPECT_FALSE(json::parse(ss.str(), ec).is_null());
      continue;
    }
    auto r = ParseRpcResponse(ss.str());
    bool is_error = name.find("error") != std::string::npos;
    EXPECT_EQ(r.ok(), !is_error) << r.status().ToString();
    if (!r.ok()) {
      EXPECT_TRUE(NeoRpcErrorCode(r.status()).has_value());
      continue;
    }
    Status typed;
    if (name.rfind("getversion", 0) == 0) typed = ParseVersion(*r).status();
    if (name.rfind("getblock_", 0) == 0 || name.rfind("getblockheader", 0) == 0) typed = ParseBlockInfo(*r).status();
    if (name.rfind("getrawtransaction", 0) == 0) typed = ParseTransactionInfo(*r).status();
    if (name.rfind("invoke", 0) == 0) typed = ParseInvocationResult(*r).status();
    if (name.rfind("getapplicationlog", 0) == 0) typed = ParseApplicationLog(*r).status();
    if (name.rfind("getnep17balances", 0) == 0) typed = ParseNep17Balances(*r).status();
    if (name.rfind("getnep17transfers", 0) == 0) typed = ParseNep17Transfers(*r).status();
    if (name == "calculatenetworkfee.json") typed = ParseNetworkFee(*r).status();
    if (name == "getstorage.json") typed = ParseBase64Result(*r).status();
    if (name == "getblockcount.json") typed = ParseBlockCount(*r).status();
    if (name == "getblockhash.json") typed = ParseHash256(*r).status();
    if (name == "sendrawtransaction.json") typed = ParseSendRawTransaction(*r).status();
    if (name == "ws_subscribe_result.json") {
      EXPECT_TRUE(r->is_string());
    }
    if (name == "getblock_verbose.json") {  // the C# sample's Merkle root is not its transaction's
      EXPECT_EQ(typed.code(), StatusCode::kInternal);
    } else {
      EXPECT_TRUE(typed.ok()) << typed.ToString();
    }
  }
  EXPECT_GE(files, 20);
}

TEST(StackItem, IntegersBeyondInt64) {
  RpcStackItem big(json::parse(R"({"type":"Integer","value":"-123456789012345678901234567890"})"));
  EXPECT_EQ(big.AsInt64().status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(*big.IntegerText(), "-123456789012345678901234567890");
  RpcStackItem not_int(json::parse(R"({"type":"Integer","value":"12a"})"));
  EXPECT_EQ(not_int.AsInt64().status().code(), StatusCode::kInternal);
  RpcStackItem error_string(json::parse(R"("error: recursive reference")"));
  EXPECT_EQ(error_string.type(), "");
  EXPECT_EQ(error_string.AsInt64().status().code(), StatusCode::kFailedPrecondition);
}

TEST(EndpointUrl, Parses) {
  auto u = ParseEndpointUrl("https://Node.example:10331/rpc?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "Node.example");
  EXPECT_EQ(u->port, "10331");
  EXPECT_EQ(u->target, "/rpc?x=1");
  u = ParseEndpointUrl("ws://[::1]:20332/ws");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "20332");
  u = ParseEndpointUrl("http://127.0.0.1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(ParseEndpointUrl("wss://seed1.neo.org").value().port, "443");
  for (std::string bad : {"127.0.0.1:10332", "tcp://x:1", "http://:80", "http://x:0", "http://x:99999",
                          "http://user:pw@x", "http://[::1"}) {
    EXPECT_FALSE(ParseEndpointUrl(bad).ok()) << bad;
  }
}

TEST(Filters, MatchLikeNeoGo) {
  BlockInfo block;
  block.index = 10;
  block.primary = 3;
  EXPECT_TRUE(Matches(BlockFilter{}, block));
  EXPECT_TRUE(Matches(BlockFilter{.primary = 3, .since = 10, .till = 10}, block));
  EXPECT_FALSE(Matches(BlockFilter{.primary = 2}, block));
  EXPECT_FALSE(Matches(BlockFilter{.since = 11}, block));
  EXPECT_FALSE(Matches(BlockFilter{.till = 9}, block));

  UInt160 a = *UInt160::Parse("0xe19de267a37a71734478f512b3e92c79fc3695fa");
  UInt160 b = *UInt160::Parse("0x8c23f196d8a1bfd103a9dcb1f9ccf0c611377d3b");
  TransactionInfo tx;
  tx.signers = {a, b};
  tx.sender = a;
  EXPECT_TRUE(Matches(TransactionFilter{.sender = a, .signer = b}, tx));
  EXPECT_FALSE(Matches(TransactionFilter{.sender = b}, tx));

  ContractNotification n{.contract = b, .event_name = "Transfer"};
  EXPECT_TRUE(Matches(NotificationFilter{.contract = b, .name = "Transfer"}, n));
  EXPECT_FALSE(Matches(NotificationFilter{.name = "transfer"}, n));

  ExecutionResult e;
  e.vm_state = VmState::kFault;
  EXPECT_TRUE(Matches(ExecutionFilter{.state = VmState::kFault}, UInt256(), e));
  EXPECT_FALSE(Matches(ExecutionFilter{.state = VmState::kHalt}, UInt256(), e));
}

}  // namespace
}  // namespace neosl::neo
