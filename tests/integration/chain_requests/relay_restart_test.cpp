// Exactly once across restarts: a relay destroyed at each point of a request's life and created
// again on the same store answers it once, with the first answer, and a subscription replayed
// from an earlier height answers nothing again. Checked on SampleConsumer, in the store, and by
// counting the service account's transactions on chain (none FAULTed).
#include <chrono>

#include "integration/chain_requests/relay_fixture.h"

namespace neosl::chain_requests::testing {
namespace {

using std::chrono::milliseconds;

// Exactly one callback transaction, HALTed, the one the store names, carrying `result`.
void ExpectAnsweredOnce(const std::vector<AnswerTx>& txs, const RequestRecord& rec,
                        const std::optional<StoredResponse>& response, const std::vector<uint8_t>& result) {
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_TRUE(txs[0].halted);
  EXPECT_EQ(rec.state, RequestState::kAnswered);
  EXPECT_EQ(rec.answer_tx_hash, txs[0].hash);
  EXPECT_EQ(rec.answer_block_index, txs[0].block);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->code, 0);
  EXPECT_EQ(response->result, result);
}

TEST_F(ChainRequestRelayTest, RestartAfterRecordingBeforeAnswering) {
  StartAll();
  // The first relay's handler holds on to `done` and never calls it while the relay lives.
  std::function<void(ChainAnswer)> held;
  std::mutex mu;
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", [&](const ChainRequest&, std::function<void(ChainAnswer)> done) {
    std::lock_guard lock(mu);
    held = std::move(done);
  });
  ASSERT_TRUE(relay_->Start().ok());
  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard lock(mu);
    return static_cast<bool>(held);
  }));
  EXPECT_EQ(Record(*req)->state, RequestState::kReceived);
  relay_.reset();
  // Answering after the relay is gone is harmless and changes nothing.
  held(ChainAnswer::Success(Bytes("too late"), {}));
  EXPECT_EQ(Record(*req)->state, RequestState::kReceived);

  FixedHandler second{Bytes("second run"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", second.handler());
  ASSERT_TRUE(relay_->Start().ok());
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  EXPECT_EQ(*second.calls, 1);
  ExpectAnsweredOnce(AnswerTransactions(), *Record(*req), Response(req->id), Bytes("second run"));
  EXPECT_EQ(Record(*req)->attempts, 1);
}

TEST_F(ChainRequestRelayTest, RestartAfterAnsweringBeforeTheTransactionIsStored) {
  StartAll();
  service_signer_->fail = true;  // the answer is stored, the transaction cannot be signed
  FixedHandler first{Bytes("first answer"), {1}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", first.handler());
  ASSERT_TRUE(relay_->Start().ok());
  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswering));
  relay_.reset();
  EXPECT_EQ(Record(*req)->state, RequestState::kAnswering);
  EXPECT_TRUE(AnswerTransactions().empty());

  service_signer_->fail = false;
  FixedHandler second{Bytes("a different answer"), {2}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", second.handler());
  ASSERT_TRUE(relay_->Start().ok());
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  EXPECT_EQ(*second.calls, 0) << "a stored answer is never asked for again";
  ExpectAnsweredOnce(AnswerTransactions(), *Record(*req), Response(req->id), Bytes("first answer"));
  EXPECT_EQ(Response(req->id)->signature, std::vector<uint8_t>{1});
}

TEST_F(ChainRequestRelayTest, RestartAfterRelayingBeforeInclusion) {
  StartAll();
  chain_->Stop();  // blocks only when the test mines them
  FixedHandler first{Bytes("in the pool"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", first.handler());
  ASSERT_TRUE(relay_->Start().ok());
  auto req = RequestInHeldBlock("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kSent));
  const neo::UInt256 sent = *Record(*req)->answer_tx_hash;
  ASSERT_TRUE(WaitUntil([&] {
    auto pool = chain_->MempoolHashes();
    return std::find(pool.begin(), pool.end(), sent) != pool.end();
  }));
  relay_.reset();

  FixedHandler second{Bytes("never"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", second.handler());
  ASSERT_TRUE(relay_->Start().ok());
  // The new relay has looked at the pending transaction (it is in the pool) before the block.
  ASSERT_TRUE(WaitUntil([&] { return relay_->stats().last_block >= req->block; }));
  auto mined = chain_->MineBlock();
  ASSERT_TRUE(mined.ok()) << mined.status().ToString();
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  EXPECT_EQ(Record(*req)->answer_tx_hash, sent);
  EXPECT_EQ(relay_->stats().transactions, 0u) << "the second relay built no transaction";
  EXPECT_EQ(*second.calls, 0);
  ExpectAnsweredOnce(AnswerTransactions(), *Record(*req), Response(req->id), Bytes("in the pool"));
}

TEST_F(ChainRequestRelayTest, RestartAfterStoringBeforeRelayingSendsTheSameBytes) {
  StartAll();
  switchable_rpc_->drop_sends = true;  // stored, then "crashed" before the node got it
  FixedHandler first{Bytes("stored"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", first.handler());
  ASSERT_TRUE(relay_->Start().ok());
  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kSent));
  const auto stored = *Record(*req);
  relay_.reset();
  EXPECT_TRUE(AnswerTransactions().empty());

  switchable_rpc_->drop_sends = false;
  relay_ = MakeRelay(DefaultOptions());
  FixedHandler second{Bytes("never"), {}};
  relay_->Register("random", second.handler());
  ASSERT_TRUE(relay_->Start().ok());
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  const auto rec = *Record(*req);
  EXPECT_EQ(rec.answer_tx_hash, stored.answer_tx_hash);
  EXPECT_EQ(rec.answer_tx, stored.answer_tx) << "the very bytes stored before the crash";
  EXPECT_EQ(rec.attempts, 1);
  EXPECT_EQ(relay_->stats().transactions, 0u);
  ExpectAnsweredOnce(AnswerTransactions(), rec, Response(req->id), Bytes("stored"));
}

TEST_F(ChainRequestRelayTest, AnExpiredTransactionIsReplacedWithTheSameAnswer) {
  StartAll();
  switchable_rpc_->drop_sends = true;
  RelayOptions options = DefaultOptions();
  options.valid_for_blocks = 2;
  FixedHandler first{Bytes("kept"), {}};
  relay_ = MakeRelay(options);
  relay_->Register("random", first.handler());
  ASSERT_TRUE(relay_->Start().ok());
  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kSent));
  const auto stale = *Record(*req);
  relay_.reset();

  // Past its validUntilBlock: it can never be included now.
  auto decoded = neo::Transaction::Decode(stale.answer_tx);
  ASSERT_TRUE(decoded.ok());
  while (chain_->height() < decoded->valid_until_block()) ASSERT_TRUE(chain_->MineBlock().ok());

  switchable_rpc_->drop_sends = false;
  relay_ = MakeRelay(options);
  FixedHandler second{Bytes("never"), {}};
  relay_->Register("random", second.handler());
  ASSERT_TRUE(relay_->Start().ok());
  ASSERT_TRUE(WaitForState(*req, RequestState::kAnswered));
  const auto rec = *Record(*req);
  EXPECT_NE(rec.answer_tx_hash, stale.answer_tx_hash);
  EXPECT_EQ(rec.attempts, 2);
  EXPECT_EQ(relay_->stats().transactions, 1u);
  EXPECT_EQ(chain_->GetTransaction(*stale.answer_tx_hash).status().code(), StatusCode::kNotFound);
  ExpectAnsweredOnce(AnswerTransactions(), rec, Response(req->id), Bytes("kept"));
}

TEST_F(ChainRequestRelayTest, AReplayFromAnEarlierHeightDoesNotAnswerAgain) {
  StartAll();
  FixedHandler first{Bytes("once"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", first.handler());
  ASSERT_TRUE(relay_->Start().ok());
  auto a = Request("random", "{}");
  auto b = Request("random", "[]");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WaitForState(*a, RequestState::kAnswered));
  ASSERT_TRUE(WaitForState(*b, RequestState::kAnswered));
  relay_.reset();
  const uint32_t tip = chain_->height();

  // The factory ignores the stored cursor and replays everything from the first block.
  SubscriberFactory replay = [this](const neo::Subscriptions& subs,
                                    std::optional<uint32_t>) -> StatusOr<std::unique_ptr<neo::ChainSubscriber>> {
    return WsFactory()(subs, first_block_);
  };
  FixedHandler second{Bytes("again"), {}};
  relay_ = MakeRelay(DefaultOptions(), replay);
  relay_->Register("random", second.handler());
  ASSERT_TRUE(relay_->Start().ok());
  ASSERT_TRUE(WaitUntil([&] { return relay_->stats().last_block >= tip; }));
  // One more request through the replaying relay, answered: it is past the old ones.
  auto c = Request("random", "{}");
  ASSERT_TRUE(c);
  ASSERT_TRUE(WaitForState(*c, RequestState::kAnswered));

  EXPECT_EQ(*second.calls, 1);
  EXPECT_EQ(relay_->stats().received, 1u);
  EXPECT_EQ(relay_->stats().transactions, 1u);
  EXPECT_EQ(Response(a->id)->result, Bytes("once"));
  EXPECT_EQ(Response(b->id)->result, Bytes("once"));
  EXPECT_EQ(Response(c->id)->result, Bytes("again"));
  auto txs = AnswerTransactions();
  EXPECT_EQ(txs.size(), 3u);
  for (const auto& tx : txs) EXPECT_TRUE(tx.halted);
  EXPECT_EQ(RowCount(), 3);
  EXPECT_EQ(*records_->Cursor("chain_requests"), chain_->height());
}

TEST_F(ChainRequestRelayTest, AnAnswerAlreadyOnChainIsRecordedFailedNotSentTwice) {
  StartAll();
  switchable_rpc_->drop_sends = true;
  FixedHandler first{Bytes("ours"), {}};
  relay_ = MakeRelay(DefaultOptions());
  relay_->Register("random", first.handler());
  ASSERT_TRUE(relay_->Start().ok());
  auto req = Request("random", "{}");
  ASSERT_TRUE(req);
  ASSERT_TRUE(WaitForState(*req, RequestState::kSent));
  relay_.reset();
  // Meanwhile someone else answers it (another responder the contract trusts less).
  neo::ScriptBuilder sb;
  sb.EmitContractCall(SampleConsumerHash(), "onServiceResponse", neo::CallFlags::All,
                      {neo::ContractParam::Int(req->id), neo::ContractParam::Int(0),
                       neo::ContractParam::Bytes(Bytes("theirs")), neo::ContractParam::Bytes({})});
  ASSERT_TRUE(sender_->Execute(sb.data()).ok());

  // Our stored transaction is still valid, so it is relayed as is; it FAULTs on chain.
  switchable_rpc_->drop_sends = false;
  relay_ = MakeRelay(DefaultOptions());
  ASSERT_TRUE(relay_->Start().ok());
  ASSERT_TRUE(WaitForState(*req, RequestState::kFailed));
  auto rec = *Record(*req);
  EXPECT_NE(rec.error.find("FAULT"), std::string::npos) << rec.error;
  EXPECT_NE(rec.error.find("already answered"), std::string::npos) << rec.error;
  EXPECT_EQ(Response(req->id)->result, Bytes("theirs"));
  auto txs = AnswerTransactions();
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_FALSE(txs[0].halted);
  EXPECT_EQ(relay_->stats().failed, 1u);
}

}  // namespace
}  // namespace neosl::chain_requests::testing
