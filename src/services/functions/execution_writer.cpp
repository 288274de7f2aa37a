#include "services/functions/execution_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace neosl::services::functions {

ExecutionWriter::ExecutionWriter(FunctionStore& store, int64_t max_kept, size_t max_batch)
    : store_(store), max_kept_(max_kept), max_batch_(std::max<size_t>(1, max_batch)), thread_([this] { Run(); }) {}

ExecutionWriter::~ExecutionWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void ExecutionWriter::Add(ExecutionRecord record, Done done) {
  std::lock_guard lock(mu_);
  queue_.push_back(Pending{std::move(record), std::move(done)});
  cv_.notify_one();
}

uint64_t ExecutionWriter::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void ExecutionWriter::Run() {
  std::vector<Pending> batch;
  std::vector<ExecutionRecord*> records;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is stored
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++batches_;
    }
    records.clear();
    for (auto& p : batch) records.push_back(&p.record);
    std::vector<Status> results = store_.AddExecutions(records, max_kept_);
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(results[i], batch[i].record);
    batch.clear();
  }
}

}  // namespace neosl::services::functions
