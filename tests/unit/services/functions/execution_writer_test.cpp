// Executions stored in batches (FunctionStore::AddExecutions, ExecutionWriter) on real SQLite:
// one status per execution, consecutive sequence numbers, the bound on kept executions, and a
// deleted function failing only its own executions.
#include "services/functions/execution_writer.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "schema/migrations.h"
#include "services/functions/function_store.h"
#include "store/sqlite_store.h"
#include "support/temp_dir.h"

namespace neosl::services::functions {
namespace {

constexpr char kAccount[] = "acc_aaaaaaaaaaaaaaaaaaaa";

class ExecutionBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::OpenSqliteStore({.path = dir_.File("neosl.db")});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Migrate(schema::Migrations()).ok());
    functions_ = std::make_unique<FunctionStore>(*store_);
  }

  void AddFunction(const std::string& id) {
    FunctionRecord f;
    f.id = id;
    f.account = kAccount;
    f.name = "name-" + id;
    f.current_version = 1;
    f.version.version = 1;
    f.version.source = "export default () => 1;";
    ASSERT_TRUE(functions_->Create(f, 100).ok());
  }

  static ExecutionRecord Execution(const std::string& id, const std::string& function_id) {
    ExecutionRecord e;
    e.id = id;
    e.account = kAccount;
    e.function_id = function_id;
    e.version = 1;
    e.trigger = "api";
    e.succeeded = true;
    e.result_json = "1";
    e.args_json = "[]";
    e.signing_key.assign(33, 2);
    return e;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<FunctionStore> functions_;
};

TEST_F(ExecutionBatchTest, OneTransactionOneStatusEachAndADeletedFunctionFailsAlone) {
  AddFunction("fn_aaaaaaaaaaaaaaaaaaaa");
  AddFunction("fn_bbbbbbbbbbbbbbbbbbbb");
  ASSERT_TRUE(functions_->Delete(kAccount, "fn_bbbbbbbbbbbbbbbbbbbb").ok());

  std::vector<ExecutionRecord> records = {Execution("ex_1", "fn_aaaaaaaaaaaaaaaaaaaa"),
                                          Execution("ex_2", "fn_bbbbbbbbbbbbbbbbbbbb"),
                                          Execution("ex_3", "fn_aaaaaaaaaaaaaaaaaaaa")};
  std::vector<ExecutionRecord*> batch = {&records[0], &records[1], &records[2]};
  auto results = functions_->AddExecutions(batch, 1000);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_EQ(results[1].code(), StatusCode::kNotFound);
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();
  EXPECT_EQ(records[0].seq, 1);
  EXPECT_EQ(records[2].seq, 2);

  EXPECT_TRUE(functions_->GetExecution(kAccount, "ex_1").ok());
  EXPECT_EQ(functions_->GetExecution(kAccount, "ex_2").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(functions_->GetExecution(kAccount, "ex_3").ok());
}

TEST_F(ExecutionBatchTest, ABatchKeepsOnlyTheNewestMaxKept) {
  AddFunction("fn_aaaaaaaaaaaaaaaaaaaa");
  std::vector<ExecutionRecord> records;
  std::vector<ExecutionRecord*> batch;
  records.reserve(7);
  batch.reserve(7);
  for (int i = 0; i < 7; ++i) records.push_back(Execution("ex_" + std::to_string(i), "fn_aaaaaaaaaaaaaaaaaaaa"));
  for (auto& r : records) batch.push_back(&r);
  for (const auto& s : functions_->AddExecutions(batch, 3)) EXPECT_TRUE(s.ok()) << s.ToString();
  auto kept = functions_->ListExecutions(kAccount, "fn_aaaaaaaaaaaaaaaaaaaa", 0, 100);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ASSERT_EQ(kept->size(), 3u);
  EXPECT_EQ((*kept)[0].id, "ex_6");
  EXPECT_EQ((*kept)[2].id, "ex_4");
}

TEST_F(ExecutionBatchTest, AFailingBatchIsRetriedOneByOneSoOnlyTheBadRecordFails) {
  AddFunction("fn_aaaaaaaaaaaaaaaaaaaa");
  // Two executions with one id: the second breaks the batch's transaction (primary key).
  std::vector<ExecutionRecord> records = {Execution("ex_1", "fn_aaaaaaaaaaaaaaaaaaaa"),
                                          Execution("ex_1", "fn_aaaaaaaaaaaaaaaaaaaa"),
                                          Execution("ex_3", "fn_aaaaaaaaaaaaaaaaaaaa")};
  std::vector<ExecutionRecord*> batch = {&records[0], &records[1], &records[2]};
  auto results = functions_->AddExecutions(batch, 1000);
  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_FALSE(results[1].ok());
  EXPECT_TRUE(results[2].ok()) << results[2].ToString();
  EXPECT_TRUE(functions_->GetExecution(kAccount, "ex_3").ok());
}

TEST_F(ExecutionBatchTest, TheWriterStoresEveryExecutionAndAnswersEach) {
  AddFunction("fn_aaaaaaaaaaaaaaaaaaaa");
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, ok = 0;
  std::vector<int64_t> seqs;
  constexpr int kCount = 200;
  {
    ExecutionWriter writer(*functions_, 1000, /*max_batch=*/16);
    for (int i = 0; i < kCount; ++i) {
      writer.Add(Execution("ex_" + std::to_string(i), "fn_aaaaaaaaaaaaaaaaaaaa"),
                 [&](const Status& s, ExecutionRecord& stored) {
                   std::lock_guard lock(mu);
                   ++answered;
                   if (s.ok()) ++ok;
                   seqs.push_back(stored.seq);
                   cv.notify_all();
                 });
    }
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return answered == kCount; }));
    EXPECT_LE(writer.batches(), uint64_t(kCount));
    EXPECT_GE(writer.batches(), uint64_t(kCount / 16));
  }
  EXPECT_EQ(ok, kCount);
  std::sort(seqs.begin(), seqs.end());
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(seqs[size_t(i)], i + 1);
}

TEST_F(ExecutionBatchTest, TheWriterStoresWhatIsQueuedBeforeItStops) {
  AddFunction("fn_aaaaaaaaaaaaaaaaaaaa");
  int answered = 0;  // the writer's thread only; read after it is joined
  {
    ExecutionWriter writer(*functions_, 1000);
    for (int i = 0; i < 50; ++i) {
      writer.Add(Execution("ex_" + std::to_string(i), "fn_aaaaaaaaaaaaaaaaaaaa"),
                 [&answered](const Status& s, ExecutionRecord&) {
                   if (s.ok()) ++answered;
                 });
    }
  }
  EXPECT_EQ(answered, 50);
  auto kept = functions_->ListExecutions(kAccount, "fn_aaaaaaaaaaaaaaaaaaaa", 0, 100);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->size(), 50u);
}

}  // namespace
}  // namespace neosl::services::functions
