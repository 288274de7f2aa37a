// The runtime as the host runs it: real `neosl enclave --function-worker` processes (sandboxed,
// seccomp, JIT on), a real main enclave that made the keys and seals the secrets, the pool's
// queue, its limits and its recovery.
#include "runtime/worker_pool.h"

#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "crypto/p256.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "tee/host.h"

namespace neosl::runtime {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("sealed"));
    args_ = {"enclave",       "--sealed-dir", dir_.File("sealed"), "--platform-secret", dir_.File("platform.secret"),
             "--seal-policy", "measurement",  "--test-commands"};
    tee::EnclaveHostOptions o;
    o.binary = testing::NeoslBinary();
    o.args = args_;
    auto host = tee::EnclaveHost::Start(std::move(o));
    ASSERT_TRUE(host.ok()) << host.status().ToString();
    enclave_ = std::move(*host);
    ASSERT_TRUE(enclave_->WaitReady(milliseconds(20'000)));
    tee::v1::EcallRequest keys;
    keys.mutable_get_public_keys();
    auto r = enclave_->Call(keys, milliseconds(10'000));
    ASSERT_TRUE(r.ok());
    const std::string& report = r->public_keys().report();
    auto key = crypto::PublicKey::FromBytes(std::span(reinterpret_cast<const uint8_t*>(report.data()), report.size()));
    ASSERT_TRUE(key.ok());
    report_key_ = std::make_unique<crypto::PublicKey>(*key);
  }

  std::unique_ptr<WorkerPool> StartPool(int workers, size_t capacity = 0, std::shared_future<void> neo_gate = {}) {
    WorkerPoolOptions o;
    o.binary = testing::NeoslBinary();
    o.enclave_args = args_;
    o.workers = workers;
    o.queue_capacity = capacity;
    o.grace = milliseconds(1'000);
    o.neo_read = [neo_gate](const std::string& contract, const std::string& method, const std::string& args) {
      if (method == "block" && neo_gate.valid()) neo_gate.wait();  // a chain that does not answer
      return StatusOr<std::string>(R"({"state":"HALT","stack":[{"type":"Integer","value":"7"}],"m":")" + method +
                                   R"(","c":")" + contract + R"(","a":)" + args + "}");
    };
    auto pool = WorkerPool::Start(std::move(o));
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  static Invocation Inv(const std::string& source, const std::string& args = "null") {
    Invocation inv;
    inv.account = "acc_aaaaaaaaaaaaaaaaaaaa";
    inv.function_id = "fn_aaaaaaaaaaaaaaaaaaaa";
    inv.version = 1;
    inv.execution_id = "ex_aaaaaaaaaaaaaaaaaaaa";
    inv.source = source;
    auto h = crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(source.data()), source.size()));
    std::copy(h.begin(), h.end(), inv.source_hash.begin());
    inv.args_json = args;
    return inv;
  }

  SealedSecret Seal(const std::string& name, const std::string& value) {
    tee::v1::EcallRequest req;
    auto* s = req.mutable_secret_seal();
    s->set_account("acc_aaaaaaaaaaaaaaaaaaaa");
    s->set_name(name);
    s->set_version(1);
    s->set_plaintext(value);
    auto r = enclave_->Call(req, milliseconds(10'000));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    SealedSecret out{name, 1, {}};
    if (r.ok()) out.ciphertext.assign(r->secret_ciphertext().begin(), r->secret_ciphertext().end());
    return out;
  }

  testing::TempDir dir_;
  std::vector<std::string> args_;
  std::unique_ptr<tee::EnclaveHost> enclave_;
  std::unique_ptr<crypto::PublicKey> report_key_;
};

TEST_F(WorkerPoolTest, RunsInAWorkerReadsSealedSecretsAndSignsTheOutcome) {
  auto pool = StartPool(2);
  ASSERT_NE(pool, nullptr);
  Invocation inv = Inv(R"js(
    function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
    export default async function (request, context) {
      console.log('reading', request.args.name);
      const neo = await context.neo.invokeRead('0xabc', 'balanceOf', [1]);
      return {secret: context.secrets.get(request.args.name), fib: fib(22), neo: neo.stack[0].value};
    })js",
                       R"({"name":"API_KEY"})");
  inv.secrets.push_back(Seal("API_KEY", "k-123"));
  std::mutex mu;
  std::vector<std::string> live;
  auto out = pool->Run(inv, [&](const LogLine& l) {
    std::lock_guard lock(mu);
    live.push_back(l.message);
  });
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(out->status.ok()) << out->status.ToString() << " " << out->error.stack;
  EXPECT_EQ(out->result_json, R"({"secret":"k-123","fib":17711,"neo":"7"})");
  EXPECT_TRUE(out->cold);
  ASSERT_EQ(out->logs.size(), 1u);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(live, std::vector<std::string>{"reading API_KEY"});
  }
  // The proof verifies with the enclave's report key, and binds every part.
  auto args_hash =
      crypto::Sha256(std::span(reinterpret_cast<const uint8_t*>(inv.args_json.data()), inv.args_json.size()));
  EXPECT_TRUE(std::equal(args_hash.begin(), args_hash.end(), out->args_hash.begin()));
  auto message = ResultSigningMessage(inv.function_id, inv.version, inv.source_hash, out->args_hash, out->result_hash);
  EXPECT_TRUE(report_key_->Verify(message, out->signature));
  auto other =
      ResultSigningMessage(inv.function_id, inv.version + 1, inv.source_hash, out->args_hash, out->result_hash);
  EXPECT_FALSE(report_key_->Verify(other, out->signature));

  // Another account's invocation cannot open the secret.
  Invocation foreign = inv;
  foreign.account = "acc_bbbbbbbbbbbbbbbbbbbb";
  out = pool->Run(foreign);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status.code(), StatusCode::kUnknown) << out->status.ToString();
}

TEST_F(WorkerPoolTest, TimeAndMemoryLimitsStopTheFunctionNotThePool) {
  auto pool = StartPool(1);
  ASSERT_NE(pool, nullptr);
  Invocation busy = Inv("export default () => { for (;;) {} };");
  busy.limits.timeout = milliseconds(300);
  auto out = pool->Run(busy);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->status.code(), StatusCode::kDeadlineExceeded);
  Invocation bomb =
      Inv("export default () => { const k = []; for (let i = 0; i < 64; i++) { const b = new Uint8Array(16 << 20); "
          "b.fill(1); k.push(b); } return k.length; };");
  bomb.limits.memory_bytes = kMinMemoryBytes;
  out = pool->Run(bomb);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->status.code(), StatusCode::kResourceExhausted) << out->status.ToString();
  out = pool->Run(Inv("export default () => 'alive';"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->result_json, "\"alive\"");
  EXPECT_EQ(pool->stats().restarts, 0u);  // stopped by the engine, not by killing the worker
}

TEST_F(WorkerPoolTest, AWorkerStuckPastItsDeadlineIsReplaced) {
  std::promise<void> release;
  auto pool = StartPool(1, 0, release.get_future().share());
  ASSERT_NE(pool, nullptr);
  // Blocked in a host call, where the engine's interrupt cannot reach it.
  Invocation stuck = Inv("export default async (r, c) => c.neo.invokeRead('0x1', 'block', []);");
  stuck.limits.timeout = milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  auto out = pool->Run(stuck);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5'000));
  release.set_value();
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDeadlineExceeded) << out.status().ToString();
  EXPECT_EQ(pool->stats().killed, 1u);
  out = pool->Run(Inv("export default () => 'replaced';"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->result_json, "\"replaced\"");
  EXPECT_GE(pool->stats().restarts, 1u);
}

TEST_F(WorkerPoolTest, AFullQueueIsRefusedAtOnce) {
  auto pool = StartPool(1, 2);
  ASSERT_NE(pool, nullptr);
  Invocation slow =
      Inv("export default () => { const end = Date.now() + 400; while (Date.now() < end) {} return 1; };");
  std::vector<std::future<StatusOr<Outcome>>> results;
  std::vector<std::shared_ptr<std::promise<StatusOr<Outcome>>>> promises;
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto p = std::make_shared<std::promise<StatusOr<Outcome>>>();
    results.push_back(p->get_future());
    pool->RunAsync(slow, nullptr, [p](StatusOr<Outcome> o) { p->set_value(std::move(o)); });
    promises.push_back(p);
  }
  int ok = 0;
  for (auto& f : results) {
    auto r = f.get();
    if (r.ok() && r->status.ok()) ++ok;
    if (!r.ok() && r.status().code() == StatusCode::kResourceExhausted) ++refused;
  }
  // One running, two queued at most: the rest are refused, none is lost.
  EXPECT_GE(refused, 3);
  EXPECT_EQ(ok + refused, 6);
  EXPECT_GE(pool->stats().rejected, 3u);
}

TEST_F(WorkerPoolTest, ChecksReportSyntaxErrorsWithTheirPlace) {
  auto pool = StartPool(1);
  ASSERT_NE(pool, nullptr);
  ScriptError e;
  EXPECT_TRUE(pool->Check("export default async () => 1;", &e).ok());
  Status s = pool->Check("export default () => {\n  return 1 +;\n};", &e);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(e.line, 2);
  EXPECT_THAT(e.message, HasSubstr("SyntaxError"));
}

}  // namespace
}  // namespace neosl::runtime
