// The relay end to end on a devchain: SampleConsumer's requests answered by handlers through
// real callback transactions, unknown services, malformed and foreign notifications.
#include <chrono>
#include <cstdio>

#include "integration/chain_requests/relay_fixture.h"
#include "neo/account.h"

namespace neosl::chain_requests::testing {
namespace {

using std::chrono::milliseconds;

TEST_F(ChainRequestRelayTest, AnswersARandomRequestWithinOneBlock) {
  StartAll();  // blocks mined as soon as a transaction arrives
  FixedHandler random{Bytes("four"), {0x5A, 0x5B}};
  std::vector<ChainRequest> seen;
  std::mutex seen_mu;
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", [&](const ChainRequest& r, std::function<void(ChainAnswer)> done) {
    {
      std::lock_guard lock(seen_mu);
      seen.push_back(r);
    }
    random.handler()(r, std::move(done));
  });
  ASSERT_TRUE(relay_->Start().ok());

  auto req = Request("random", R"({"bytes":4})");
  ASSERT_TRUE(req);
  const auto included = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitUntil([&] { return Response(req->id).has_value(); }));
  const auto answered_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - included).count();

  auto response = Response(req->id);
  EXPECT_EQ(response->code, 0);
  EXPECT_EQ(response->result, Bytes("four"));
  EXPECT_EQ(response->signature, (std::vector<uint8_t>{0x5A, 0x5B}));
  EXPECT_EQ(response->responder, service_account());

  {
    std::lock_guard lock(seen_mu);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].requester, devchain::DevWalletAt(0).script_hash);
    EXPECT_EQ(seen[0].payload, Bytes(R"({"bytes":4})"));
    EXPECT_EQ(seen[0].callback, "onServiceResponse");
    EXPECT_EQ(seen[0].block_index, req->block);
    EXPECT_EQ(seen[0].tx_hash, req->tx);
  }
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  auto rec = Record(*req);
  ASSERT_TRUE(rec->answer_block_index);
  EXPECT_EQ(*rec->answer_block_index, req->block + 1) << "answered in the block after the request";
  EXPECT_EQ(rec->attempts, 1);
  auto txs = AnswerTransactions();
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].hash, *rec->answer_tx_hash);
  EXPECT_TRUE(txs[0].halted);
  {
    std::lock_guard lock(seen_mu);
    seen.clear();
  }

  auto request_block = chain_->GetBlock(req->block);
  auto answer_block = chain_->GetBlock(*rec->answer_block_index);
  std::printf(
      "[latency] first request (the relay just started) in block %u, answer in block %u: %lld ms between their "
      "blocks, answer readable on chain %lld ms after the request was seen included\n",
      req->block, *rec->answer_block_index,
      static_cast<long long>(answer_block->header().timestamp() - request_block->header().timestamp()),
      static_cast<long long>(answered_ms));

  // Once following: the devchain mines on arrival, so the gap between the two blocks is the
  // relay's time from the request's block to the answer in the mempool (plus one block's mining).
  for (int i = 0; i < 3; ++i) {
    auto next = Request("random", "{}");
    ASSERT_TRUE(next);
    ASSERT_TRUE(WaitForState(*next, RequestState::kAnswered));
    auto next_rec = Record(*next);
    EXPECT_EQ(*next_rec->answer_block_index, next->block + 1);
    std::printf("[latency] request in block %u, answer in block %u: %lld ms between their blocks\n", next->block,
                *next_rec->answer_block_index,
                static_cast<long long>(chain_->GetBlock(*next_rec->answer_block_index)->header().timestamp() -
                                       chain_->GetBlock(next->block)->header().timestamp()));
  }

  auto stats = relay_->stats();
  EXPECT_EQ(stats.received, 4u);
  EXPECT_EQ(stats.transactions, 4u);
  ASSERT_TRUE(WaitUntil([&] { return relay_->stats().answered == 4; }));
  EXPECT_EQ(relay_->stats().pending, 0u);
  EXPECT_EQ(relay_->stats().failed, 0u);
}

TEST_F(ChainRequestRelayTest, AnswersWithinOneBlockOnATimedChain) {
  StartAll(milliseconds(500));
  FixedHandler random{Bytes("r"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", random.handler());
  ASSERT_TRUE(relay_->Start().ok());
  // Twice: the first answer also warms up the relay's connection.
  for (int i = 0; i < 2; ++i) {
    auto req = Request("random", "{}");
    ASSERT_TRUE(req);
    ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
    auto rec = Record(*req);
    EXPECT_EQ(*rec->answer_block_index, req->block + 1);
    std::printf("[latency] 500 ms blocks: request in block %u, answer in block %u\n", req->block,
                *rec->answer_block_index);
  }
}

TEST_F(ChainRequestRelayTest, UnknownServiceIsAnsweredUnimplemented) {
  StartAll();
  // Followed by polling this time (neo-cli nodes have no WebSocket).
  relay_ = MakeRelay(DefaultOptions(), PollingSubscriberFactory(*subscriber_rpc_, random_, milliseconds(20)));
  FixedHandler random{Bytes("x"), {}};
  relay_->Register("random", random.handler());
  ASSERT_TRUE(relay_->Start().ok());

  auto req = Request("weather", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitUntil([&] { return Response(req->id).has_value(); }));
  auto response = Response(req->id);
  EXPECT_EQ(response->code, 12) << "UNIMPLEMENTED";
  std::string message(response->result.begin(), response->result.end());
  EXPECT_NE(message.find("weather"), std::string::npos) << message;
  EXPECT_TRUE(response->signature.empty());
  EXPECT_EQ(*random.calls, 0);
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
}

// Where each service runs in processes of its own, each runs a relay for its service on the
// shared store: every request is recorded and answered by its service's relay alone, and a
// request for a service no relay takes is left alone rather than answered 12.
TEST_F(ChainRequestRelayTest, RelaysOfOneServiceEachShareTheChain) {
  StartAll();
  RelayOptions random_options = DefaultOptions();
  random_options.name = "chain_requests.random";
  random_options.services = {"random"};
  RelayOptions oracle_options = DefaultOptions();
  oracle_options.name = "chain_requests.oracle";
  oracle_options.services = {"oracle"};
  FixedHandler random{Bytes("r"), {}};
  FixedHandler oracle{Bytes("o"), {}};
  FixedHandler stray{Bytes("x"), {}};
  relay_ = MakeRelay(random_options);
  relay_->Register("random", random.handler());
  relay_->Register("oracle", stray.handler());  // registered, but not this relay's service
  auto oracle_relay = MakeRelay(oracle_options);
  oracle_relay->Register("oracle", oracle.handler());
  ASSERT_TRUE(relay_->Start().ok());
  ASSERT_TRUE(oracle_relay->Start().ok());

  auto for_random = Request("random", "{}");
  auto for_oracle = Request("oracle", "{}");
  auto for_nobody = Request("weather", "{}");
  ASSERT_TRUE(for_random && for_oracle && for_nobody);
  ASSERT_TRUE(WaitForState(*for_random, RequestState::kAnswered));
  ASSERT_TRUE(WaitForState(*for_oracle, RequestState::kAnswered));
  EXPECT_EQ(Response(for_random->id)->result, Bytes("r"));
  EXPECT_EQ(Response(for_oracle->id)->result, Bytes("o"));
  EXPECT_EQ(*random.calls, 1);
  EXPECT_EQ(*oracle.calls, 1);
  EXPECT_EQ(*stray.calls, 0);
  EXPECT_EQ(relay_->stats().received, 1u);
  EXPECT_EQ(oracle_relay->stats().received, 1u);
  ASSERT_TRUE(WaitUntil([&] {
    return relay_->stats().last_block >= for_nobody->block && oracle_relay->stats().last_block >= for_nobody->block;
  }));
  EXPECT_EQ(RowCount(), 2) << "the request for a service no relay takes is not recorded";
  EXPECT_FALSE(Response(for_nobody->id));
  EXPECT_EQ(AnswerTransactions().size(), 2u);

  // An unfinished request of another service, loaded at start, is not this relay's either.
  oracle_relay.reset();
  relay_.reset();
  ASSERT_TRUE(store::RunInTransaction(*store_, store::TxMode::kWrite, [](store::Transaction& tx) {
                return tx.Exec("UPDATE chain_requests SET status = 'received' WHERE service = 'oracle'").status();
              }).ok());
  relay_ = MakeRelay(random_options);
  relay_->Register("random", random.handler());
  relay_->Register("oracle", stray.handler());
  ASSERT_TRUE(relay_->Start().ok());
  auto again = Request("random", "{}");
  ASSERT_TRUE(again);
  ASSERT_TRUE(WaitForState(*again, RequestState::kAnswered));
  EXPECT_EQ(*stray.calls, 0);
}

// The ServiceRequest notification of an entry script (the devchain lets a transaction's own
// script notify, as Neo does): its contract hash is the script's hash.
std::vector<uint8_t> NotifyScript(std::vector<neo::ContractParam> fields) {
  neo::ScriptBuilder sb;
  sb.EmitPush(neo::ContractParam::Array(std::move(fields)));
  sb.EmitPushString("ServiceRequest");
  sb.EmitSysCall("System.Runtime.Notify");
  return sb.Take();
}

TEST_F(ChainRequestRelayTest, MalformedNotificationsAreIgnored) {
  StartAll();
  FixedHandler random{Bytes("ok"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", random.handler());
  ASSERT_TRUE(relay_->Start().ok());

  const auto requester = neo::ContractParam::Hash160(devchain::DevWalletAt(0).script_hash);
  const auto service = *neo::ContractParam::String("random");
  const auto payload = neo::ContractParam::Bytes(Bytes("{}"));
  const auto callback = *neo::ContractParam::String("onServiceResponse");
  const std::vector<std::vector<neo::ContractParam>> malformed = {
      {neo::ContractParam::Int(1), requester, service, payload},                         // 4 fields
      {neo::ContractParam::Int(2), neo::ContractParam::Bytes(std::vector<uint8_t>(19)),  // short requester
       service, payload, callback},
      {neo::ContractParam::Int(3), requester, *neo::ContractParam::String(""), payload, callback},  // no service
      {neo::ContractParam::Int(4), requester, service, neo::ContractParam::Int(4), callback},       // payload Integer
      {neo::ContractParam::Int(5), requester, service, payload, *neo::ContractParam::String("_private")},
      {*neo::ContractParam::String("6"), requester, service, payload, callback},  // id not an Integer
  };
  for (const auto& fields : malformed) {
    auto outcome = sender_->Execute(NotifyScript(fields));
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    ASSERT_EQ(outcome->notifications.size(), 1u);
  }
  // A good request after them: once it is answered the relay has read past all of them.
  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  EXPECT_EQ(relay_->stats().rejected, malformed.size());
  EXPECT_EQ(RowCount(), 1);
  EXPECT_EQ(AnswerTransactions().size(), 1u);
  EXPECT_EQ(*random.calls, 1);
}

TEST_F(ChainRequestRelayTest, ACallbackThatCannotRunFailsWithoutATransaction) {
  StartAll();
  FixedHandler random{Bytes("ok"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", random.handler());
  ASSERT_TRUE(relay_->Start().ok());

  // Well formed, but from a script that is no contract: calling it back FAULTs in the test run.
  const auto script =
      NotifyScript({neo::ContractParam::Int(77), neo::ContractParam::Hash160(devchain::DevWalletAt(0).script_hash),
                    *neo::ContractParam::String("random"), neo::ContractParam::Bytes(Bytes("{}")),
                    *neo::ContractParam::String("onServiceResponse")});
  auto outcome = sender_->Execute(script);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  const RequestKey key{neo::ScriptHash(script), neo::BigInteger::FromInt64(77)};
  ASSERT_TRUE(WaitUntil([&] {
    auto rec = records_->Get(key);
    return rec.ok() && rec->state == RequestState::kFailed;
  }));
  auto rec = records_->Get(key);
  EXPECT_NE(rec->error.find("cannot be sent"), std::string::npos) << rec->error;
  EXPECT_EQ(rec->answer->result, Bytes("ok")) << "the answer is kept for the operator";
  EXPECT_FALSE(rec->answer_tx_hash);
  EXPECT_TRUE(AnswerTransactions().empty());
  EXPECT_EQ(relay_->stats().failed, 1u);
}

TEST_F(ChainRequestRelayTest, AllowListIgnoresOtherContracts) {
  StartAll();
  RelayOptions options = DefaultOptions();
  options.contracts = {devchain::testing::GasHash()};
  relay_ = MakeRelay(options);
  FixedHandler random{Bytes("x"), {}};
  relay_->Register("random", random.handler());
  ASSERT_TRUE(relay_->Start().ok());

  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitUntil([&] { return relay_->stats().last_block >= req->block; }));
  EXPECT_EQ(RowCount(), 0);
  EXPECT_EQ(relay_->stats().received, 0u);
  EXPECT_FALSE(Response(req->id));
  EXPECT_EQ(*random.calls, 0);
}

TEST_F(ChainRequestRelayTest, AsynchronousAnswersAndConfirmations) {
  StartAll();
  RelayOptions options = DefaultOptions();
  options.confirmations = 2;
  relay_ = MakeRelay(options);
  std::mutex mu;
  std::vector<std::function<void(ChainAnswer)>> waiting;
  relay_->Register("random", [&](const ChainRequest&, std::function<void(ChainAnswer)> done) {
    std::lock_guard lock(mu);
    waiting.push_back(std::move(done));
  });
  ASSERT_TRUE(relay_->Start().ok());

  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kReceived));
  // Not asked before two more blocks.
  ASSERT_TRUE(WaitUntil([&] { return relay_->stats().last_block >= req->block; }));
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(waiting.empty());
  }
  ASSERT_TRUE(SendGasTransfer(devchain::DevWalletAt(5).script_hash, 1));
  ASSERT_TRUE(SendGasTransfer(devchain::DevWalletAt(5).script_hash, 1));
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard lock(mu);
    return waiting.size() == 1;
  }));
  EXPECT_EQ(Record(*req)->state, RequestState::kReceived);
  // Answered from another thread; a second call of `done` is dropped.
  std::thread answerer([&] {
    std::lock_guard lock(mu);
    waiting[0](ChainAnswer::Success(Bytes("late"), {}));
    waiting[0](ChainAnswer::Success(Bytes("twice"), {}));
  });
  answerer.join();
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  EXPECT_EQ(Response(req->id)->result, Bytes("late"));
  EXPECT_EQ(AnswerTransactions().size(), 1u);
}

TEST_F(ChainRequestRelayTest, AHandlerThatNeverAnswersTimesOut) {
  StartAll();
  RelayOptions options = DefaultOptions();
  options.handler_timeout = milliseconds(200);
  relay_ = MakeRelay(options);
  relay_->Register("random", [](const ChainRequest&, const std::function<void(ChainAnswer)>&) {});
  ASSERT_TRUE(relay_->Start().ok());
  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  EXPECT_EQ(Response(req->id)->code, 4) << "DEADLINE_EXCEEDED";
}

}  // namespace
}  // namespace neosl::chain_requests::testing
