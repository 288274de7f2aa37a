// InvokeFunction through the service: what reaches the runtime (resolved sealed secrets, args,
// limits), what is stored and answered (results, failures, proofs), what is refused, the bound
// on stored executions, and live log streams.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "unit/services/functions/service_fixture.h"
#include <grpcpp/support/sync_stream.h>

namespace neosl::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::array<uint8_t, 32> Hash32(const std::string& hex) {
  auto bytes = HexDecode(hex);
  std::array<uint8_t, 32> out{};
  if (bytes && bytes->size() == 32) std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// Whether the execution's signature holds under `key`, over what it says.
bool SignatureHolds(const fpb::Execution& e, const crypto::PublicKey& key) {
  auto sig = HexDecode(e.enclave_signature());
  if (!sig || sig->size() != 64) return false;
  crypto::Signature s{};
  std::copy(sig->begin(), sig->end(), s.begin());
  auto message = runtime::ResultSigningMessage(e.function_id(), e.version(), Hash32(e.source_hash()),
                                               Hash32(e.args_hash()), Hash32(e.result_hash()));
  return key.Verify(message, s);
}

TEST_F(FunctionsServiceTest, InvokePassesSealedSecretsAndArgsAndStoresTheExecution) {
  Start();
  ASSERT_TRUE(PutSecret("api_key", "k-1").ok());
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("echo", {"api_key"}));
  runner_->Script({.result_json = "{\"ok\":1.5}",
                   .logs = {{1'700'000'000'123, "log", "hello"}, {1'700'000'000'124, "warn", "careful"}},
                   .cold = true});
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id(), "{\"x\": [1, 2]}"));

  auto invocations = runner_->invocations();
  ASSERT_EQ(invocations.size(), 1u);
  const runtime::Invocation& inv = invocations[0];
  EXPECT_EQ(inv.account, kAccountA);
  EXPECT_EQ(inv.function_id, f.id());
  EXPECT_EQ(inv.version, 1u);
  EXPECT_EQ(inv.execution_id, e.id());
  EXPECT_EQ(inv.source, kSource);
  EXPECT_EQ(inv.source_hash, FakeRunner::Sha(kSource));
  EXPECT_EQ(inv.args_json, "{\"x\": [1, 2]}");  // exactly as sent
  EXPECT_EQ(inv.trigger, runtime::Trigger::kApi);
  EXPECT_EQ(inv.limits.timeout, runtime::kDefaultTimeout);
  ASSERT_EQ(inv.secrets.size(), 1u);
  EXPECT_EQ(inv.secrets[0].name, "api_key");
  EXPECT_EQ(inv.secrets[0].version, 1u);
  const std::string sealed(inv.secrets[0].ciphertext.begin(), inv.secrets[0].ciphertext.end());
  EXPECT_EQ(sealed, std::string("sealed:") + kAccountA + ":api_key:1:k-1");  // still as the vault sealed it

  EXPECT_TRUE(ExecutionId::IsWellFormed(e.id()));
  EXPECT_EQ(e.status(), "succeeded");
  EXPECT_EQ(e.result_json(), "{\"ok\":1.5}");
  EXPECT_FALSE(e.has_error());
  EXPECT_EQ(e.args_json(), "{\"x\": [1, 2]}");
  EXPECT_EQ(e.trigger(), "api");
  ASSERT_EQ(e.logs_size(), 2);
  EXPECT_EQ(e.logs(0).message(), "hello");
  EXPECT_EQ(e.logs(1).level(), "warn");
  EXPECT_EQ(e.logs(0).at(), "2023-11-14T22:13:20.123Z");
  EXPECT_DOUBLE_EQ(e.duration_ms(), 1.5);
  EXPECT_TRUE(e.cold());
  EXPECT_EQ(e.source_hash(), f.source_hash());
  EXPECT_EQ(e.args_hash(), HexEncode(FakeRunner::Sha(e.args_json())));
  EXPECT_EQ(e.result_hash(), HexEncode(FakeRunner::Sha(e.result_json())));
  EXPECT_EQ(e.signing_key(), HexEncode(report_key_.public_key().Compressed()));
  EXPECT_TRUE(SignatureHolds(e, report_key_.public_key()));

  // Stored as answered.
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution stored, GetExecution(e.id()));
  EXPECT_EQ(stored.SerializeAsString(), e.SerializeAsString());

  // The secret was handed out as a read by the function, for this execution.
  EXPECT_THAT(Audit(), Contains("read api_key function:" + f.id()));
}

TEST_F(FunctionsServiceTest, ArgsDefaultToNullAndMustBeJson) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("args"));
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id()));
  EXPECT_EQ(e.args_json(), "null");
  EXPECT_EQ(e.result_json(), "null");

  Status bad = Invoke(f.id(), "{not json").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("not JSON"));
  Status big = Invoke(f.id(), "\"" + std::string(runtime::kMaxArgsBytes, 'a') + "\"").status();
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(big.message()), HasSubstr("30720"));
  EXPECT_EQ(runner_->invocations().size(), 1u);
}

TEST_F(FunctionsServiceTest, AGrantedSecretThatIsNotStoredIsAClearPreconditionFailure) {
  Start();
  ASSERT_TRUE(PutSecret("present", "v").ok());
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("needs", {"present", "absent"}));
  Status s = Invoke(f.id(), "1").status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("'absent'"));
  EXPECT_TRUE(runner_->invocations().empty());
  ASSERT_TRUE(PutSecret("absent", "now").ok());
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id(), "1"));
  EXPECT_EQ(runner_->invocations().at(0).secrets.size(), 2u);
  EXPECT_EQ(e.status(), "succeeded");
}

TEST_F(FunctionsServiceTest, AFunctionThatFailsIsAStoredFailedExecution) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("slow"));
  runner_->Script(
      {.status = DeadlineExceededError("the function ran past its 10000 ms limit"), .logs = {{1, "log", "started"}}});
  runner_->Script({.status = UnknownError("TypeError: x is undefined"),
                   .error = {"TypeError: x is undefined", "default@function.js:2:9", 2, 9}});
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution timeout, Invoke(f.id(), "1"));
  EXPECT_EQ(timeout.status(), "failed");
  EXPECT_EQ(timeout.error().code(), "DEADLINE_EXCEEDED");
  EXPECT_THAT(timeout.error().message(), HasSubstr("10000 ms"));
  EXPECT_EQ(timeout.result_json(), "");
  EXPECT_THAT(timeout.error_json(), HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_EQ(timeout.result_hash(), HexEncode(FakeRunner::Sha(timeout.error_json())));
  EXPECT_TRUE(SignatureHolds(timeout, report_key_.public_key()));
  ASSERT_EQ(timeout.logs_size(), 1);

  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution thrown, Invoke(f.id(), "2"));
  EXPECT_EQ(thrown.error().code(), "UNKNOWN");
  EXPECT_EQ(thrown.error().line(), 2);
  EXPECT_EQ(thrown.error().column(), 9);
  EXPECT_EQ(thrown.error().stack(), "default@function.js:2:9");

  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution stored, GetExecution(thrown.id()));
  EXPECT_EQ(stored.status(), "failed");
  EXPECT_EQ(stored.error().stack(), "default@function.js:2:9");
  FN_ASSERT_OK_AND_ASSIGN(fpb::ListExecutionsResponse list, Executions(f.id()));
  ASSERT_EQ(list.executions_size(), 2);
  EXPECT_EQ(list.executions(0).id(), thrown.id());  // newest first
  EXPECT_EQ(list.executions(0).error().code(), "UNKNOWN");
  EXPECT_EQ(list.executions(0).error().stack(), "");  // summaries leave out texts
  EXPECT_EQ(list.executions(0).args_json(), "");
  EXPECT_EQ(list.executions(1).id(), timeout.id());
}

TEST_F(FunctionsServiceTest, ARuntimeThatCannotRunItIsAnRpcErrorAndNothingIsStored) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("busy"));
  runner_->Script({.refuse = ResourceExhaustedError("the runtime's queue is full")});
  runner_->Script({.refuse = UnavailableError("no worker")});
  Status full = Invoke(f.id(), "1").status();
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(full.message()), HasSubstr("queue is full"));
  EXPECT_EQ(Invoke(f.id(), "1").status().code(), StatusCode::kUnavailable);
  FN_ASSERT_OK_AND_ASSIGN(fpb::ListExecutionsResponse list, Executions(f.id()));
  EXPECT_EQ(list.executions_size(), 0);
}

TEST_F(FunctionsServiceTest, ExecutionsPageNewestFirstAndOnlyTheNewestAreKept) {
  options_.max_executions_kept = 5;
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("many"));
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function other, Create("other"));
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id(), std::to_string(i)));
    ids.push_back(e.id());
  }
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution lone, Invoke(other.id(), "0"));

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    FN_ASSERT_OK_AND_ASSIGN(fpb::ListExecutionsResponse page, Executions(f.id(), 2, token));
    for (const auto& e : page.executions()) seen.push_back(e.id());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_THAT(seen, ElementsAre(ids[7], ids[6], ids[5], ids[4], ids[3]));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(GetExecution(ids[2]).status().code(), StatusCode::kNotFound);  // the oldest are gone
  EXPECT_TRUE(GetExecution(ids[3]).ok());
  FN_ASSERT_OK_AND_ASSIGN(fpb::ListExecutionsResponse others, Executions(other.id()));
  ASSERT_EQ(others.executions_size(), 1);  // per function
  EXPECT_EQ(others.executions(0).id(), lone.id());
  EXPECT_EQ(Executions(f.id(), 0, "00").status().code(), StatusCode::kInvalidArgument);

  // Deleting the function deletes its executions.
  ASSERT_TRUE(Delete(f.id()).ok());
  EXPECT_EQ(GetExecution(ids[7]).status().code(), StatusCode::kNotFound);
}

TEST_F(FunctionsServiceTest, InvocationsRunOnTheNewestVersionAndNameIt) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("versions"));
  fpb::UpdateFunctionRequest u;
  u.set_id(f.id());
  u.set_source("export default async function () { return 2; }");
  u.mutable_limits()->set_memory_mb(64);
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function v2, Update(u));
  FN_ASSERT_OK_AND_ASSIGN(fpb::Execution e, Invoke(f.id(), "1"));
  EXPECT_EQ(e.version(), 2u);
  EXPECT_EQ(e.source_hash(), v2.source_hash());
  EXPECT_EQ(runner_->invocations().at(0).limits.memory_bytes, size_t{64} << 20);
  EXPECT_TRUE(SignatureHolds(e, report_key_.public_key()));
}

TEST_F(FunctionsServiceTest, TheGatewayCannotChooseTheTrigger) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("triggered"));
  fpb::InvokeFunctionRequest req;
  req.set_id(f.id());
  req.set_trigger("schedule");
  fpb::Execution e;
  ASSERT_TRUE(Call([&](grpc::ClientContext* c) { return functions_->InvokeFunction(c, req, &e); }).ok());
  EXPECT_EQ(e.trigger(), "api");
}

// Reads a log stream on its own thread.
struct StreamReader {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<fpb::LogEntry>> reader;
  std::mutex mu;
  std::vector<fpb::LogEntry> entries;  // read after Join, or through size()
  Status end;
  std::thread thread;

  StreamReader(fpb::Functions::Stub& stub, const std::string& function_id, const std::string& account) {
    ctx.AddMetadata("x-account-id", account);
    fpb::StreamFunctionLogsRequest req;
    req.set_function_id(function_id);
    reader = stub.StreamFunctionLogs(&ctx, req);
    thread = std::thread([this] {
      fpb::LogEntry entry;
      while (reader->Read(&entry)) {
        std::lock_guard lock(mu);
        entries.push_back(entry);
      }
      end = mesh::FromGrpcStatus(reader->Finish());
    });
  }
  ~StreamReader() {
    ctx.TryCancel();
    if (thread.joinable()) thread.join();
  }
  void Join() { thread.join(); }
  size_t size() {
    std::lock_guard lock(mu);
    return entries.size();
  }
};

bool WaitFor(const std::function<bool()>& condition) {
  for (int i = 0; i < 500 && !condition(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return condition();
}

TEST_F(FunctionsServiceTest, LogStreamsGetEveryLineOfEveryInvocationLive) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("chatty"));
  StreamReader a(*functions_, f.id(), kAccountA);
  StreamReader b(*functions_, f.id(), kAccountA);
  ASSERT_TRUE(WaitFor([&] { return service_->log_hub().subscribers(f.id()) == 2; }));

  // Held after its logs: the lines reach the streams while the invocation still runs.
  runner_->Script({.logs = {{1, "log", "one"}, {2, "info", "two"}, {3, "error", "three"}}, .hold = true});
  std::thread invoke([&] { EXPECT_TRUE(Invoke(f.id(), "1").ok()); });
  EXPECT_TRUE(WaitFor([&] { return a.size() == 3 && b.size() == 3; }));
  runner_->Release();
  invoke.join();

  ASSERT_TRUE(Delete(f.id()).ok());  // ends the streams, OK
  a.Join();
  b.Join();
  for (StreamReader* r : {&a, &b}) {
    EXPECT_TRUE(r->end.ok()) << r->end.ToString();
    ASSERT_EQ(r->entries.size(), 3u);
    EXPECT_EQ(r->entries[0].message(), "one");
    EXPECT_EQ(r->entries[1].level(), "info");
    EXPECT_EQ(r->entries[2].message(), "three");
    EXPECT_EQ(r->entries[0].function_id(), f.id());
    EXPECT_EQ(r->entries[0].version(), 1u);
    EXPECT_TRUE(ExecutionId::IsWellFormed(r->entries[0].execution_id()));
  }
}

TEST_F(FunctionsServiceTest, LogStreamsOfAnotherAccountsFunctionAreNotFound) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("private"));
  StreamReader other(*functions_, f.id(), kAccountB);
  other.Join();
  EXPECT_EQ(other.end.code(), StatusCode::kNotFound);
  StreamReader bad(*functions_, "fn_x", kAccountA);
  bad.Join();
  EXPECT_EQ(bad.end.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->log_hub().subscribers(f.id()), 0u);
}

TEST_F(FunctionsServiceTest, ACancelledLogStreamUnsubscribes) {
  Start();
  FN_ASSERT_OK_AND_ASSIGN(fpb::Function f, Create("cancel"));
  {
    StreamReader r(*functions_, f.id(), kAccountA);
    ASSERT_TRUE(WaitFor([&] { return service_->log_hub().subscribers(f.id()) == 1; }));
  }  // cancels
  EXPECT_TRUE(WaitFor([&] { return service_->log_hub().subscribers(f.id()) == 0; }));
}

}  // namespace
}  // namespace neosl::testing
