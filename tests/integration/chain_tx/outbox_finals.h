// The final records an outbox told its listeners of, for tests to wait on (a bounded wait on a
// condition variable, not a sleep).
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chain_tx/outbox.h"

namespace neosl::chain_tx::testing {

class Finals {
 public:
  void Add(const OutboxRecord& r) {
    std::lock_guard lock(mu_);
    told_[r.key].push_back(r);
    cv_.notify_all();
  }
  Outbox::Listener listener() {
    return [this](const OutboxRecord& r) { Add(r); };
  }
  // The first record of `key` told, or nullopt after 30 s (an outcome comes in well under one).
  std::optional<OutboxRecord> WaitFor(const std::string& key) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return told_.contains(key); })) return std::nullopt;
    return told_[key].front();
  }
  size_t Count(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = told_.find(key);
    return it == told_.end() ? 0 : it->second.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<OutboxRecord>> told_;
};

}  // namespace neosl::chain_tx::testing
