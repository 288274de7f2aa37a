// The devchain's JSON-RPC methods through the project's own HttpRpcClient and TransactionSender:
// every answer must parse with src/neo/rpc_types.h, agree with the chain, and fail with Neo's
// NEP-23 codes.
#include <boost/json.hpp>

#include "core/encoding.h"
#include "integration/devchain/devchain_fixture.h"
#include "neo/account.h"
#include "neo/block.h"
#include "neo/fee.h"
#include "support/http_client.h"

namespace neosl::devchain::testing {
namespace {
namespace json = boost::json;

TEST_F(DevchainTest, GetVersionParsesAndNamesTheNetwork) {
  StartChain();
  auto v = rpc_->GetVersion();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->protocol.network, kDefaultNetwork);
  EXPECT_EQ(v->protocol.address_version, 53);
  EXPECT_EQ(v->protocol.ms_per_block, 0u);
  EXPECT_EQ(v->protocol.max_valid_until_block_increment, kMaxValidUntilBlockIncrement);
  EXPECT_EQ(v->protocol.validators_count, 1u);
  EXPECT_EQ(v->protocol.initial_gas_distribution, 5'200'000'000'000'000LL);
  EXPECT_EQ(v->user_agent, kUserAgent);
  EXPECT_EQ(v->max_iterator_result_items, 100u);
  EXPECT_EQ(v->session_enabled, false);
  auto again = rpc_->GetVersion();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->nonce, v->nonce);  // fixed for the process
}

TEST_F(DevchainTest, BlocksFollowN3Rules) {
  StartChain();
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(chain_->MineBlock().ok());
  auto count = rpc_->GetBlockCount();
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, chain_->height() + 1);
  ASSERT_GE(*count, 3u);
  std::optional<neo::BlockInfo> previous;
  for (uint32_t i = 0; i < *count; ++i) {
    auto hash = rpc_->GetBlockHash(i);
    ASSERT_TRUE(hash.ok()) << hash.status().ToString();
    // ParseBlockInfo decodes the payload and recomputes the header hash; it refuses a mismatch.
    auto by_index = rpc_->GetBlock(i);
    ASSERT_TRUE(by_index.ok()) << by_index.status().ToString();
    auto by_hash = rpc_->GetBlock(*hash);
    ASSERT_TRUE(by_hash.ok()) << by_hash.status().ToString();
    auto header = rpc_->GetBlockHeader(*hash);
    ASSERT_TRUE(header.ok()) << header.status().ToString();
    EXPECT_EQ(by_index->hash, *hash);
    EXPECT_EQ(by_hash->hash, *hash);
    EXPECT_EQ(header->hash, *hash);
    EXPECT_EQ(by_index->index, i);
    EXPECT_EQ(by_index->confirmations, *count - i);
    EXPECT_EQ(by_index->header->merkle_root(), neo::ComputeMerkleRoot(by_index->tx_hashes));
    if (i + 1 < *count) {
      EXPECT_TRUE(by_index->next_block_hash.has_value());
    } else {
      EXPECT_FALSE(by_index->next_block_hash.has_value());
    }
    if (previous) {
      EXPECT_EQ(by_index->previous_hash, previous->hash);
      EXPECT_EQ(previous->next_block_hash, by_index->hash);
      EXPECT_GT(by_index->time_ms, previous->time_ms);
    } else {
      EXPECT_EQ(by_index->previous_hash, neo::UInt256());
    }
    // The non-verbose forms are the same bytes.
    auto raw = rpc_->Call("getblock", json::array{i});
    ASSERT_TRUE(raw.ok());
    auto bytes = neo::ParseBase64Result(*raw);
    ASSERT_TRUE(bytes.ok());
    auto decoded = neo::Block::Decode(*bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->hash(), *hash);
    auto raw_header = rpc_->Call("getblockheader", json::array{hash->ToString(), false});
    ASSERT_TRUE(raw_header.ok());
    auto header_bytes = neo::ParseBase64Result(*raw_header);
    ASSERT_TRUE(header_bytes.ok());
    auto decoded_header = neo::Header::Decode(*header_bytes);
    ASSERT_TRUE(decoded_header.ok()) << decoded_header.status().ToString();
    EXPECT_EQ(decoded_header->hash(), *hash);
    previous = *std::move(by_index);
  }
  auto best = rpc_->Call("getbestblockhash", {});
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(*neo::ParseHash256(*best), chain_->tip_hash());
}

TEST_F(DevchainTest, GasTransferIsIncludedLoggedAndCounted) {
  StartChain();
  const DevWallet to = DevWalletAt(1);
  const int64_t before_to = chain_->GasBalance(to.script_hash);
  const int64_t amount = 123'456'789;
  auto outcome = SendGasTransfer(to.script_hash, amount);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->state, neo::VmState::kHalt);

  auto tx = rpc_->GetRawTransaction(outcome->hash);
  ASSERT_TRUE(tx.ok()) << tx.status().ToString();
  EXPECT_EQ(tx->hash, outcome->hash);
  EXPECT_EQ(tx->block_hash, outcome->block_hash);
  EXPECT_GE(tx->confirmations.value_or(0), 1u);
  auto block = rpc_->GetBlock(outcome->block_hash);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(tx->block_time_ms, block->time_ms);
  EXPECT_NE(std::find(block->tx_hashes.begin(), block->tx_hashes.end(), outcome->hash), block->tx_hashes.end());

  auto log = rpc_->GetApplicationLog(outcome->hash);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(log->container, outcome->hash);
  ASSERT_EQ(log->executions.size(), 1u);
  const auto& exec = log->executions[0];
  EXPECT_EQ(exec.trigger, "Application");
  EXPECT_EQ(exec.vm_state, neo::VmState::kHalt);
  ASSERT_EQ(exec.notifications.size(), 1u);
  const auto& transfer = exec.notifications[0];
  EXPECT_EQ(transfer.contract, GasHash());
  EXPECT_EQ(transfer.event_name, "Transfer");
  auto args = transfer.state.AsArray();
  ASSERT_TRUE(args.ok());
  ASSERT_EQ(args->size(), 3u);
  EXPECT_EQ(*(*args)[2].AsInt64(), amount);
  auto block_log = rpc_->GetApplicationLog(outcome->block_hash);
  ASSERT_TRUE(block_log.ok()) << block_log.status().ToString();
  ASSERT_EQ(block_log->executions.size(), 2u);
  EXPECT_EQ(block_log->executions[0].trigger, "OnPersist");
  EXPECT_EQ(block_log->executions[1].trigger, "PostPersist");

  // Balances: the receiver got exactly the amount; RPC, invokefunction and the chain agree.
  const int64_t after_to = chain_->GasBalance(to.script_hash);
  EXPECT_EQ(after_to - before_to, amount);
  for (const std::string& account : {to.address, to.script_hash.ToString()}) {
    auto balances = rpc_->GetNep17Balances(account);
    ASSERT_TRUE(balances.ok()) << balances.status().ToString();
    EXPECT_EQ(balances->address, to.address);
    bool found = false;
    for (const auto& b : balances->balances) {
      if (b.asset_hash != GasHash()) continue;
      found = true;
      EXPECT_EQ(b.amount, std::to_string(after_to));
      EXPECT_EQ(b.symbol, "GAS");
      EXPECT_EQ(b.name, "GasToken");
      EXPECT_EQ(b.decimals, 8u);
    }
    EXPECT_TRUE(found);
  }
  auto balance_of = rpc_->InvokeFunction(
      GasHash(), "balanceOf", neo::ContractParamsJson(std::vector{neo::ContractParam::Hash160(to.script_hash)}), {});
  ASSERT_TRUE(balance_of.ok()) << balance_of.status().ToString();
  EXPECT_EQ(balance_of->state, neo::VmState::kHalt);
  ASSERT_EQ(balance_of->stack.size(), 1u);
  EXPECT_EQ(*balance_of->stack[0].AsInt64(), after_to);

  // Transfers: this one on both sides; all of the receiver's GAS history adds up to its balance.
  auto received = rpc_->GetNep17Transfers(to.address, 0, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  int64_t net = 0;
  bool seen = false;
  for (const auto& t : received->received) {
    if (t.asset_hash != GasHash()) continue;
    net += std::stoll(t.amount);
    if (t.tx_hash == outcome->hash) {
      seen = true;
      EXPECT_EQ(t.amount, std::to_string(amount));
      EXPECT_EQ(t.transfer_address, DevWalletAt(0).address);
      EXPECT_EQ(t.block_index, block->index);
    }
  }
  for (const auto& t : received->sent) {
    if (t.asset_hash == GasHash()) net -= std::stoll(t.amount);
  }
  EXPECT_TRUE(seen);
  EXPECT_EQ(net, after_to);
  auto sent = rpc_->GetNep17Transfers(DevWalletAt(0).address, std::nullopt, std::nullopt);  // the last week
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  bool seen_sent = false;
  for (const auto& t : sent->sent)
    seen_sent = seen_sent || (t.tx_hash == outcome->hash && t.transfer_address == to.address);
  EXPECT_TRUE(seen_sent);
}

TEST_F(DevchainTest, CalculateNetworkFeeMatchesTheLibrary) {
  StartChain();
  neo::Transaction tx = BuildGasTransfer(DevWalletAt(2).script_hash, 1);
  auto params = sender_->Params();
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  auto expected = neo::CalculateNetworkFee(tx.size(), {signer_->verification_script()}, params->fee_per_byte,
                                           params->exec_fee_factor);
  ASSERT_TRUE(expected.ok());
  auto fee = rpc_->CalculateNetworkFee(tx.Encode());
  ASSERT_TRUE(fee.ok()) << fee.status().ToString();
  EXPECT_EQ(*fee, *expected);
  EXPECT_EQ(*fee, tx.network_fee());
  auto bad = rpc_->Call("calculatenetworkfee", json::array{"not base64!"});
  EXPECT_EQ(NeoCode(bad.status()), -32602);
}

TEST_F(DevchainTest, ErrorsCarryNeoCodes) {
  StartChain();
  auto block = rpc_->GetBlock(chain_->height() + 5);
  EXPECT_EQ(block.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(NeoCode(block.status()), -101);
  EXPECT_NE(block.status().message().find("Unknown block"), std::string_view::npos);
  auto hash = rpc_->GetBlockHash(chain_->height() + 1);
  EXPECT_EQ(NeoCode(hash.status()), -109);
  auto tx = rpc_->GetRawTransaction(neo::UInt256());
  EXPECT_EQ(tx.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(NeoCode(tx.status()), -103);
  auto garbage = rpc_->SendRawTransaction(std::vector<uint8_t>{1, 2, 3});
  EXPECT_EQ(NeoCode(garbage.status()), -32602);  // Neo decodes first: invalid params
  auto method = rpc_->Call("nosuchmethod", {});
  EXPECT_EQ(method.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(NeoCode(method.status()), -32601);
  auto params = rpc_->Call("getblock", json::array{"not a hash"});
  EXPECT_EQ(NeoCode(params.status()), -32602);
  auto contract = rpc_->Call("getcontractstate", json::array{"0x" + std::string(40, 'a')});
  EXPECT_EQ(NeoCode(contract.status()), -102);
  auto storage = rpc_->GetStorage(GasHash(), std::vector<uint8_t>{0xEE, 0xEE, 0xEE});
  EXPECT_EQ(NeoCode(storage.status()), -104);
}

TEST_F(DevchainTest, ReplaysAreRefused) {
  StartChain(std::chrono::hours(1));  // nothing is mined unless the test asks
  neo::Transaction tx = BuildGasTransfer(DevWalletAt(3).script_hash, 5);
  auto sent = rpc_->SendRawTransaction(tx.Encode());
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, tx.hash());
  auto pool = rpc_->Call("getrawmempool", {});
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(*pool, json::value(json::array{tx.hash().ToString()}));
  auto pool_full = rpc_->Call("getrawmempool", json::array{true});
  ASSERT_TRUE(pool_full.ok());
  EXPECT_EQ(pool_full->at("verified"), json::value(json::array{tx.hash().ToString()}));
  auto in_pool = rpc_->SendRawTransaction(tx.Encode());
  EXPECT_EQ(in_pool.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(NeoCode(in_pool.status()), -503);
  auto mempool_tx = rpc_->GetRawTransaction(tx.hash());
  ASSERT_TRUE(mempool_tx.ok()) << mempool_tx.status().ToString();
  EXPECT_FALSE(mempool_tx->block_hash.has_value());
  ASSERT_TRUE(chain_->MineBlock().ok());
  auto on_chain = rpc_->SendRawTransaction(tx.Encode());
  EXPECT_EQ(on_chain.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(NeoCode(on_chain.status()), -501);
}

TEST_F(DevchainTest, ContractStatesByHashNameAndId) {
  StartChain();
  for (json::value key : {json::value(kGasHash), json::value("GasToken"), json::value(-6)}) {
    auto state = rpc_->Call("getcontractstate", json::array{key});
    ASSERT_TRUE(state.ok()) << json::serialize(key) << ": " << state.status().ToString();
    EXPECT_EQ(state->at("hash"), json::value(kGasHash));
    EXPECT_EQ(state->at("id"), json::value(-6));
  }
  auto natives = rpc_->Call("getnativecontracts", {});
  ASSERT_TRUE(natives.ok()) << natives.status().ToString();
  bool gas = false;
  for (const auto& n : natives->as_array()) gas = gas || n.at("hash") == json::value(kGasHash);
  EXPECT_TRUE(gas);
  auto valid = rpc_->Call("validateaddress", json::array{DevWalletAt(0).address});
  ASSERT_TRUE(valid.ok());
  EXPECT_EQ(valid->at("isvalid"), json::value(true));
  auto invalid = rpc_->Call("validateaddress", json::array{"NotAnAddress"});
  ASSERT_TRUE(invalid.ok());
  EXPECT_EQ(invalid->at("isvalid"), json::value(false));
  auto peers = rpc_->Call("getpeers", {});
  ASSERT_TRUE(peers.ok());
  EXPECT_TRUE(peers->at("connected").as_array().empty());
  auto connections = rpc_->Call("getconnectioncount", {});
  ASSERT_TRUE(connections.ok());
  EXPECT_EQ(*connections, json::value(0));
}

TEST_F(DevchainTest, EnvelopeHandlesBatchesNotificationsAndBadJson) {
  StartChain();
  neosl::testing::HttpClient http("127.0.0.1:" + std::to_string(server_->port()));
  auto batch = http.Post("/", R"([{"jsonrpc":"2.0","method":"getblockcount","params":[],"id":1},
                                  {"jsonrpc":"2.0","method":"nosuch","params":[],"id":"two"},
                                  {"jsonrpc":"2.0","method":"getblockcount","params":[]},
                                  {"jsonrpc":"2.0","method":"getblockhash","params":[0],"id":3}])");
  ASSERT_EQ(batch.status, 200) << batch.error;
  json::value b = json::parse(batch.body);
  ASSERT_TRUE(b.is_array());
  ASSERT_EQ(b.as_array().size(), 3u);  // the notification is not answered
  EXPECT_EQ(b.at(0).at("id"), json::value(1));
  EXPECT_EQ(b.at(0).at("result"), json::value(chain_->height() + 1));
  EXPECT_EQ(b.at(1).at("id"), json::value("two"));
  EXPECT_EQ(ErrorCodeOf(b.at(1)), -32601);
  EXPECT_EQ(b.at(2).at("id"), json::value(3));
  EXPECT_TRUE(b.at(2).at("result").is_string());

  auto bad = http.Post("/", "{not json");
  ASSERT_EQ(bad.status, 200);
  json::value e = json::parse(bad.body);
  EXPECT_EQ(ErrorCodeOf(e), -32700);
  EXPECT_TRUE(e.at("id").is_null());
  auto empty = http.Post("/", "[]");
  EXPECT_EQ(ErrorCodeOf(json::parse(empty.body)), -32600);
  auto invalid = http.Post("/", R"({"jsonrpc":"2.0","params":"x","id":9})");
  EXPECT_EQ(ErrorCodeOf(json::parse(invalid.body)), -32600);
  auto notification = http.Post("/", R"({"jsonrpc":"2.0","method":"getblockcount","params":[]})");
  EXPECT_EQ(notification.status, 200);
  EXPECT_TRUE(notification.body.empty());
  // neo-cli's GET form, params as base64 of the JSON array.
  auto get =
      http.Get("/?jsonrpc=2.0&id=5&method=getblockhash&params=" + Base64Encode(std::vector<uint8_t>{'[', '0', ']'}));
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(json::parse(get.body).at("result"), json::value(chain_->GetBlock(0u)->hash().ToString()));
}

}  // namespace
}  // namespace neosl::devchain::testing
