// The chain request relay against real parts: an in-process devchain (SampleConsumer built in)
// on 127.0.0.1:0, a SQLite store with the platform's migrations, real signed transactions.
// Dev wallet 0 asks (the dApp user); dev wallet 1 is the service account that answers.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chain_requests/relay.h"
#include "chain_requests/request_store.h"
#include "integration/devchain/devchain_fixture.h"
#include "schema/migrations.h"
#include "store/sqlite_store.h"
#include "support/test_store_open.h"

namespace neosl::chain_requests::testing {

inline neo::UInt160 SampleConsumerHash() {
  return *neo::UInt160::Parse("0x746adb4cfa2fa90e0f16f1d1049b201b4db209de");
}

inline std::vector<uint8_t> Bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

// Polls `predicate` until it holds or `timeout` passes (the predicate is re-read after the
// deadline, so a last-moment success counts).
inline bool WaitUntil(const std::function<bool()>& predicate,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the poll interval
  }
  return predicate();
}

// A signer that refuses to sign while `fail` is set: a relay stuck between storing an answer and
// storing its transaction.
class SwitchableSigner final : public neo::TransactionSigner {
 public:
  explicit SwitchableSigner(neo::TransactionSigner& inner) : inner_(inner) {}
  neo::UInt160 account() const override { return inner_.account(); }
  std::vector<uint8_t> verification_script() const override { return inner_.verification_script(); }
  StatusOr<std::vector<uint8_t>> SignInvocation(std::span<const uint8_t> data) override {
    if (fail) return UnavailableError("test: the enclave is away");
    return inner_.SignInvocation(data);
  }
  std::atomic<bool> fail{false};

 private:
  neo::TransactionSigner& inner_;
};

// The devchain's client, except that sendrawtransaction fails while `drop_sends` is set (as if
// the process died right after storing the transaction): counts what it did send.
class SwitchableRpc final : public neo::RpcClient {
 public:
  explicit SwitchableRpc(neo::RpcClient& inner) : in_(inner) {}
  std::atomic<bool> drop_sends{false};
  std::atomic<int> sends{0};

  StatusOr<neo::VersionInfo> GetVersion() override { return in_.GetVersion(); }
  StatusOr<uint32_t> GetBlockCount() override { return in_.GetBlockCount(); }
  StatusOr<neo::UInt256> GetBlockHash(uint32_t index) override { return in_.GetBlockHash(index); }
  StatusOr<neo::BlockInfo> GetBlock(const neo::BlockRef& b) override { return in_.GetBlock(b); }
  StatusOr<neo::BlockInfo> GetBlockHeader(const neo::BlockRef& b) override { return in_.GetBlockHeader(b); }
  StatusOr<neo::TransactionInfo> GetRawTransaction(const neo::UInt256& h) override { return in_.GetRawTransaction(h); }
  StatusOr<neo::UInt256> SendRawTransaction(std::span<const uint8_t> tx) override {
    if (drop_sends) return UnavailableError("test: the node is away");
    ++sends;
    return in_.SendRawTransaction(tx);
  }
  StatusOr<neo::InvocationResult> InvokeFunction(const neo::UInt160& c, std::string_view m, const boost::json::array& p,
                                                 std::span<const neo::RpcSigner> s) override {
    return in_.InvokeFunction(c, m, p, s);
  }
  StatusOr<neo::InvocationResult> InvokeScript(std::span<const uint8_t> script,
                                               std::span<const neo::RpcSigner> s) override {
    return in_.InvokeScript(script, s);
  }
  StatusOr<neo::ApplicationLog> GetApplicationLog(const neo::UInt256& c) override { return in_.GetApplicationLog(c); }
  StatusOr<neo::Nep17Balances> GetNep17Balances(std::string_view a) override { return in_.GetNep17Balances(a); }
  StatusOr<neo::Nep17Transfers> GetNep17Transfers(std::string_view a, std::optional<uint64_t> f,
                                                  std::optional<uint64_t> t) override {
    return in_.GetNep17Transfers(a, f, t);
  }
  StatusOr<int64_t> CalculateNetworkFee(std::span<const uint8_t> tx) override { return in_.CalculateNetworkFee(tx); }
  StatusOr<std::vector<uint8_t>> GetStorage(const neo::UInt160& c, std::span<const uint8_t> k) override {
    return in_.GetStorage(c, k);
  }

 private:
  neo::RpcClient& in_;
};

// The answer SampleConsumer stored: getResponse's [code, result, signature, responder].
struct StoredResponse {
  int64_t code = -1;
  std::vector<uint8_t> result;
  std::vector<uint8_t> signature;
  neo::UInt160 responder;
};

// A transaction of the service account on chain.
struct AnswerTx {
  neo::UInt256 hash;
  uint32_t block = 0;
  bool halted = false;
};

// A request sent from dev wallet 0: its id and the block it is in.
struct SentRequest {
  neo::BigInteger id;
  uint32_t block = 0;
  neo::UInt256 tx;
};

class ChainRequestRelayTest : public devchain::testing::DevchainTest {
 protected:
  void StartAll(std::chrono::milliseconds block_time = std::chrono::milliseconds(0)) {
    StartChain(block_time);
    ASSERT_FALSE(HasFatalFailure());
    auto store = ::neosl::testing::OpenTestStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = *std::move(store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    records_ = std::make_unique<RequestStore>(*store_, SystemClock::Instance());
    relay_rpc_ = NewClient();
    subscriber_rpc_ = NewClient();
    switchable_rpc_ = std::make_unique<SwitchableRpc>(*relay_rpc_);
    service_key_ = std::make_unique<neo::KeyTransactionSigner>(devchain::DevWalletAt(1).key);
    service_signer_ = std::make_unique<SwitchableSigner>(*service_key_);
    first_block_ = chain_->height() + 1;
  }

  void TearDown() override {
    relay_.reset();  // before the chain and the clients it uses
    DevchainTest::TearDown();
  }

  neo::UInt160 service_account() const { return devchain::DevWalletAt(1).script_hash; }

  RelayOptions DefaultOptions() const {
    RelayOptions o;
    o.start_index = first_block_;
    o.retry_interval = std::chrono::milliseconds(50);
    return o;
  }

  SubscriberFactory WsFactory() { return WsSubscriberFactory(ws_url(), *subscriber_rpc_, random_); }

  // A relay over the fixture's store, the switchable client and signer; not started.
  std::unique_ptr<Relay> MakeRelay(RelayOptions options, SubscriberFactory factory = nullptr) {
    if (!factory) factory = WsFactory();
    return std::make_unique<Relay>(std::move(options), *store_, *switchable_rpc_, *service_signer_,
                                   SecureRandom::Instance(), std::move(factory), SystemClock::Instance());
  }

  // request(service, payload) on SampleConsumer from dev wallet 0, sent and (with the chain
  // producing blocks) waited for.
  std::optional<SentRequest> Request(std::string_view service, std::string_view payload) {
    auto outcome = sender_->Execute(RequestScript(service, payload));
    EXPECT_TRUE(outcome.ok()) << outcome.status().ToString();
    if (!outcome.ok()) return std::nullopt;
    auto lookup = chain_->GetTransaction(outcome->hash);
    EXPECT_TRUE(lookup.ok() && lookup->block_index);
    if (!lookup.ok() || !lookup->block_index) return std::nullopt;
    for (const auto& n : outcome->notifications) {
      if (n.event_name != "ServiceRequest") continue;
      auto items = n.state.AsArray();
      auto id = items.ok() ? (*items)[0].IntegerText() : StatusOr<std::string>(InternalError("no state"));
      if (!id.ok()) break;
      return SentRequest{*neo::BigInteger::FromDecimal(*id), *lookup->block_index, outcome->hash};
    }
    ADD_FAILURE() << "the request emitted no ServiceRequest";
    return std::nullopt;
  }

  std::vector<uint8_t> RequestScript(std::string_view service, std::string_view payload) {
    neo::ScriptBuilder sb;
    sb.EmitContractCall(SampleConsumerHash(), "request", neo::CallFlags::All,
                        {*neo::ContractParam::String(std::string(service)), neo::ContractParam::Bytes(Bytes(payload))});
    return sb.Take();
  }

  // Block production held (chain_->Stop()): the request is submitted and mined by hand.
  std::optional<SentRequest> RequestInHeldBlock(std::string_view service, std::string_view payload) {
    auto tx = sender_->Build(RequestScript(service, payload));
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    if (!tx.ok()) return std::nullopt;
    EXPECT_TRUE(sender_->Send(*tx).ok());
    auto mined = chain_->MineBlock();
    EXPECT_TRUE(mined.ok()) << mined.status().ToString();
    if (!mined.ok()) return std::nullopt;
    EXPECT_EQ(mined->block.transactions().size(), 1u);
    auto response = rpc_->GetApplicationLog(tx->hash());
    EXPECT_TRUE(response.ok());
    if (!response.ok()) return std::nullopt;
    auto items = response->executions.at(0).notifications.at(0).state.AsArray();
    return SentRequest{*neo::BigInteger::FromDecimal(*(*items)[0].IntegerText()), mined->block.header().index(),
                       tx->hash()};
  }

  // SampleConsumer.getResponse(id): unset while unanswered.
  std::optional<StoredResponse> Response(const neo::BigInteger& id) {
    auto r = rpc_->InvokeFunction(SampleConsumerHash(), "getResponse",
                                  neo::ContractParamsJson(std::vector{neo::ContractParam::Int(id)}), {});
    if (!r.ok() || r->stack.empty()) return std::nullopt;
    auto items = r->stack[0].AsArray();
    if (!items.ok() || items->size() != 4) return std::nullopt;
    StoredResponse out;
    out.code = *(*items)[0].AsInt64();
    out.result = *(*items)[1].AsBytes();
    out.signature = *(*items)[2].AsBytes();
    out.responder = *neo::UInt160::FromBytes(*(*items)[3].AsBytes());
    return out;
  }

  RequestKey Key(const SentRequest& r) const { return RequestKey{SampleConsumerHash(), r.id}; }

  std::optional<RequestRecord> Record(const SentRequest& r) {
    auto rec = records_->Get(Key(r));
    if (!rec.ok()) return std::nullopt;
    return *std::move(rec);
  }

  bool WaitForState(const SentRequest& r, RequestState state) {
    return WaitUntil([&] {
      auto rec = Record(r);
      return rec && rec->state == state;
    });
  }

  // The service account's transactions on chain since the fixture started, with their VM state.
  std::vector<AnswerTx> AnswerTransactions() {
    std::vector<AnswerTx> out;
    for (uint32_t i = first_block_; i <= chain_->height(); ++i) {
      auto block = chain_->GetBlock(i);
      if (!block.ok()) continue;
      for (const auto& tx : block->transactions()) {
        if (tx.sender() != service_account()) continue;
        auto lookup = chain_->GetTransaction(tx.hash());
        out.push_back({tx.hash(), i, lookup.ok() && lookup->vm_state == devchain::VmState::kHalt});
      }
    }
    return out;
  }

  int64_t RowCount() {
    auto rows = store_->Query("SELECT COUNT(*) FROM chain_requests");
    return rows.ok() ? *(*rows)[0].Int(0) : -1;
  }

  std::unique_ptr<store::Store> store_;
  std::unique_ptr<RequestStore> records_;
  std::unique_ptr<neo::HttpRpcClient> relay_rpc_;
  std::unique_ptr<neo::HttpRpcClient> subscriber_rpc_;
  std::unique_ptr<SwitchableRpc> switchable_rpc_;
  std::unique_ptr<neo::KeyTransactionSigner> service_key_;
  std::unique_ptr<SwitchableSigner> service_signer_;
  std::unique_ptr<Relay> relay_;
  uint32_t first_block_ = 0;
};

// A handler answering every request with fixed bytes, counting its calls.
struct FixedHandler {
  std::vector<uint8_t> result;
  std::vector<uint8_t> signature;
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

  ServiceHandler handler() const {
    return [r = result, s = signature, c = calls](const ChainRequest&, std::function<void(ChainAnswer)> done) {
      ++*c;
      done(ChainAnswer::Success(r, s));
    };
  }
};

}  // namespace neosl::chain_requests::testing
