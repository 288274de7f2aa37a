#include "services/automation/timer_wheel.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <utility>

namespace neosl::automation {

// ---- TimerWheel ----

bool TimerWheel::Schedule(std::string id, int64_t due_ms) {
  std::lock_guard lock(mu_);
  const uint64_t seq = next_seq_++;
  // try_emplace leaves `id` alone when the key is already there.
  auto [it, inserted] = index_.try_emplace(std::move(id), heap_.size());
  if (inserted) {
    heap_.push_back(Node{due_ms, seq, &*it});
    SiftUp(heap_.size() - 1);
  } else {
    const size_t i = it->second;
    const bool earlier = due_ms < heap_[i].due_ms;
    heap_[i].due_ms = due_ms;
    heap_[i].seq = seq;  // a replaced timer queues behind others already due at that time
    if (earlier) {
      SiftUp(i);
    } else {
      SiftDown(i);
    }
  }
  return it->second == 0;
}

bool TimerWheel::Cancel(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  RemoveAt(it->second);
  index_.erase(it);
  return true;
}

std::vector<DueTimer> TimerWheel::PopDue(int64_t now_ms, size_t max) {
  std::vector<DueTimer> due;
  std::lock_guard lock(mu_);
  while (!heap_.empty() && heap_.front().due_ms <= now_ms && due.size() < max) {
    Index::value_type* entry = heap_.front().entry;
    due.push_back(DueTimer{entry->first, heap_.front().due_ms});
    RemoveAt(0);
    index_.erase(due.back().id);  // by a copy of the key: erasing by the node's own key is unsafe
  }
  return due;
}

std::optional<int64_t> TimerWheel::NextDue() const {
  std::lock_guard lock(mu_);
  if (heap_.empty()) return std::nullopt;
  return heap_.front().due_ms;
}

std::optional<int64_t> TimerWheel::DueOf(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return heap_[it->second].due_ms;
}

size_t TimerWheel::size() const {
  std::lock_guard lock(mu_);
  return heap_.size();
}

void TimerWheel::Place(size_t i, const Node& node) {
  heap_[i] = node;
  node.entry->second = i;
}

// Both sifts move a hole rather than swapping, so each level costs one copy.
void TimerWheel::SiftUp(size_t i) {
  const Node node = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!Before(node, heap_[parent])) break;
    Place(i, heap_[parent]);
    i = parent;
  }
  Place(i, node);
}

void TimerWheel::SiftDown(size_t i) {
  const Node node = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
    if (!Before(heap_[child], node)) break;
    Place(i, heap_[child]);
    i = child;
  }
  Place(i, node);
}

// Removes the node at `i` from the heap; the caller erases its index entry.
void TimerWheel::RemoveAt(size_t i) {
  const size_t last = heap_.size() - 1;
  if (i != last) {
    const Node moved = heap_[last];
    const bool up = Before(moved, heap_[i]);
    Place(i, moved);
    heap_.pop_back();
    if (up) {
      SiftUp(i);
    } else {
      SiftDown(i);
    }
  } else {
    heap_.pop_back();
  }
}

// ---- TimerRunner ----

TimerRunner::WaitFn TimerRunner::SleepUntilDue() {
  return [](std::unique_lock<std::mutex>& lock, std::condition_variable& wake, int64_t now_ms,
            std::optional<int64_t> next_due_ms) {
    constexpr int64_t kMaxSleepMs = 1000;
    const int64_t until_ms = next_due_ms ? std::min(*next_due_ms, now_ms + kMaxSleepMs) : now_ms + kMaxSleepMs;
    if (until_ms <= now_ms) return;
    // Until the due instant itself rather than for whole milliseconds from a truncated now, which
    // would add half a millisecond of lateness on average. libstdc++ waits on the steady clock
    // underneath and checks the wall clock again on waking.
    wake.wait_until(lock, std::chrono::system_clock::time_point(std::chrono::milliseconds(until_ms)));
  };
}

TimerRunner::TimerRunner(const Clock& clock, Callback callback, WaitFn wait)
    : clock_(clock), callback_(std::move(callback)), wait_(std::move(wait)) {}

TimerRunner::TimerRunner(const Clock& clock, Batched batched, WaitFn wait)
    : clock_(clock), batch_callback_(std::move(batched.callback)), wait_(std::move(wait)) {}

TimerRunner::~TimerRunner() {
  Stop();
}

void TimerRunner::Start() {
  assert(!thread_.joinable());
  thread_ = std::thread([this] { Run(); });
}

void TimerRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    assert(thread_.get_id() != std::this_thread::get_id());
    thread_.join();
  }
}

bool TimerRunner::Schedule(std::string id, int64_t due_ms) {
  const bool earliest = wheel_.Schedule(std::move(id), due_ms);
  // The thread reads NextDue and starts waiting under mu_, so taking mu_ here means it either
  // already sees this timer or is waiting and gets the notification: no lost wake-up.
  if (earliest) Wake();
  return earliest;
}

bool TimerRunner::Cancel(const std::string& id) {
  // Cancelling the earliest only makes the thread wake early and look again; no need to wake it.
  return wheel_.Cancel(id);
}

void TimerRunner::Wake() {
  { std::lock_guard lock(mu_); }
  wake_.notify_all();
}

void TimerRunner::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    const int64_t now_ms = clock_.NowUnixMillis();
    std::vector<DueTimer> due = wheel_.PopDue(now_ms, kBatch);
    if (!due.empty()) {
      lock.unlock();
      if (batch_callback_) {
        batch_callback_(std::move(due));
        lock.lock();
        continue;
      }
      for (const DueTimer& timer : due) {
        callback_(timer.id, timer.due_ms, clock_.NowUnixMillis() - timer.due_ms);
      }
      lock.lock();
      continue;
    }
    wait_(lock, wake_, now_ms, wheel_.NextDue());
  }
}

}  // namespace neosl::automation
