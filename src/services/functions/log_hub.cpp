#include "services/functions/log_hub.h"

#include <algorithm>
#include <utility>

namespace neosl::services::functions {

namespace pb = ::neosl::functions::v1;

std::optional<pb::LogEntry> LogQueue::Pop() {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return std::nullopt;
  pb::LogEntry entry = std::move(entries_.front());
  entries_.pop_front();
  return entry;
}

std::optional<Status> LogQueue::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

size_t LogQueue::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

bool LogQueue::Push(const pb::LogEntry& entry) {
  std::lock_guard lock(mu_);
  if (closed_) return true;
  if (entries_.size() >= capacity_) {
    // What is queued is never delivered: the subscriber learns at once that it lost lines.
    entries_.clear();
    closed_ =
        ResourceExhaustedError("log stream dropped: the subscriber fell " + std::to_string(capacity_) + " lines behind")
            .WithDetail(
                ErrorDetail{"QuotaFailure", {}}.Add("limit", int64_t(capacity_)).Add("resource", "log stream queue"));
    return false;
  }
  entries_.push_back(entry);
  return true;
}

void LogQueue::Close(Status status) {
  std::lock_guard lock(mu_);
  if (!closed_) closed_ = std::move(status);
}

LogHub::LogHub(size_t queue_capacity, size_t max_subscribers)
    : queue_capacity_(std::max<size_t>(1, queue_capacity)), max_subscribers_(std::max<size_t>(1, max_subscribers)) {}

StatusOr<std::shared_ptr<LogQueue>> LogHub::Subscribe(const std::string& function_id, Notify notify) {
  std::lock_guard lock(mu_);
  auto& subs = by_function_[function_id];
  if (subs.size() >= max_subscribers_) {
    return ResourceExhaustedError("function " + function_id + " already has " + std::to_string(subs.size()) +
                                  " log streams, the most it may have")
        .WithDetail(ErrorDetail{"QuotaFailure", {}}
                        .Add("limit", int64_t(max_subscribers_))
                        .Add("resource", "log streams per function"));
  }
  auto queue = std::make_shared<LogQueue>(queue_capacity_);
  subs.push_back(Subscriber{queue, std::move(notify)});
  return queue;
}

void LogHub::Unsubscribe(const std::string& function_id, const LogQueue* queue) {
  std::lock_guard lock(mu_);
  auto it = by_function_.find(function_id);
  if (it == by_function_.end()) return;
  std::erase_if(it->second, [queue](const Subscriber& s) { return s.queue.get() == queue; });
  if (it->second.empty()) by_function_.erase(it);
}

void LogHub::Publish(const pb::LogEntry& entry) {
  std::vector<Notify> notify;
  {
    std::lock_guard lock(mu_);
    auto it = by_function_.find(entry.function_id());
    if (it == by_function_.end()) return;
    auto& subs = it->second;
    notify.reserve(subs.size());
    for (auto s = subs.begin(); s != subs.end();) {
      notify.push_back(s->notify);
      if (s->queue->Push(entry)) {
        ++s;
      } else {
        ++dropped_;
        s = subs.erase(s);
      }
    }
    if (subs.empty()) by_function_.erase(it);
  }
  // Outside the lock: a subscriber's notify starts gRPC work and may unsubscribe.
  for (auto& n : notify) {
    if (n) n();
  }
}

void LogHub::CloseFunction(const std::string& function_id, const Status& status) {
  std::vector<Subscriber> closed;
  {
    std::lock_guard lock(mu_);
    auto it = by_function_.find(function_id);
    if (it == by_function_.end()) return;
    closed = std::move(it->second);
    by_function_.erase(it);
  }
  for (auto& s : closed) {
    s.queue->Close(status);
    if (s.notify) s.notify();
  }
}

size_t LogHub::subscribers(std::string_view function_id) const {
  std::lock_guard lock(mu_);
  auto it = by_function_.find(function_id);
  return it == by_function_.end() ? 0 : it->second.size();
}

uint64_t LogHub::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

}  // namespace neosl::services::functions
