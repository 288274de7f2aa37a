// The live console lines of functions (StreamFunctionLogs): the runtime hands each line to
// Publish as it is written, and every subscriber of that function gets it. Memory is bounded:
// each subscriber has a queue of fixed capacity, and one that falls that far behind is dropped
// (its queue is closed with RESOURCE_EXHAUSTED) instead of making the hub hold more.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "neosl/functions/v1/functions.pb.h"

namespace neosl::services::functions {

// One subscriber's queue. Popped by the subscriber; filled and closed by the hub.
class LogQueue {
 public:
  explicit LogQueue(size_t capacity) : capacity_(capacity) {}

  // The next entry, or nullopt when none is waiting.
  std::optional<::neosl::functions::v1::LogEntry> Pop();
  // Set once the queue is closed: OK when the function went away, RESOURCE_EXHAUSTED when the
  // subscriber was dropped for falling behind. Entries still queued may be popped first.
  std::optional<Status> closed() const;
  size_t size() const;

 private:
  friend class LogHub;
  // False (and the queue closed) when it was already full.
  bool Push(const ::neosl::functions::v1::LogEntry& entry);
  void Close(Status status);

  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<::neosl::functions::v1::LogEntry> entries_;
  std::optional<Status> closed_;
};

class LogHub {
 public:
  // `queue_capacity`: entries a subscriber may lag behind; `max_subscribers`: per function.
  LogHub(size_t queue_capacity, size_t max_subscribers);

  // Called (outside the hub's lock) whenever the queue has something new: an entry or closing.
  using Notify = std::function<void()>;
  // RESOURCE_EXHAUSTED when the function has max_subscribers already.
  StatusOr<std::shared_ptr<LogQueue>> Subscribe(const std::string& function_id, Notify notify);
  void Unsubscribe(const std::string& function_id, const LogQueue* queue);

  // Hands `entry` to every subscriber of entry.function_id(); drops the ones that are full.
  void Publish(const ::neosl::functions::v1::LogEntry& entry);
  // Closes every subscription of the function with `status` (a deleted function: OK).
  void CloseFunction(const std::string& function_id, const Status& status);

  size_t subscribers(std::string_view function_id) const;
  uint64_t dropped() const;

 private:
  struct Subscriber {
    std::shared_ptr<LogQueue> queue;
    Notify notify;
  };

  const size_t queue_capacity_;
  const size_t max_subscribers_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Subscriber>, std::less<>> by_function_;
  uint64_t dropped_ = 0;
};

}  // namespace neosl::services::functions
