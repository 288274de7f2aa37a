// Waiting for runs to end (run_waiter.h): one thread, woken by the engine's ends, a wait's
// deadline or its next read of the store.
#include "services/automation/run_waiter.h"

#include <algorithm>
#include <utility>

#include "core/log.h"

namespace neosl::automation {

RunWaiter::RunWaiter(store::Store& store, std::chrono::milliseconds poll)
    : runs_(store), poll_(poll), thread_([this] { Loop(); }) {}

RunWaiter::~RunWaiter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // What the thread left (it stops without answering): the service is going away.
  for (Wait& w : waits_)
    w.done(UnavailableError("the automation service is shutting down; run " + w.run_id + " goes on"));
}

void RunWaiter::Await(const std::string& run_id, std::chrono::milliseconds timeout, Done done) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      // Read at once: the run may have ended before the wait began, and then no end is told.
      waits_.push_back(Wait{run_id, timeout, now + timeout, now, std::move(done), std::nullopt});
      done = nullptr;
    }
  }
  if (done) return done(UnavailableError("the automation service is shutting down; run " + run_id + " goes on"));
  wake_.notify_all();
}

void RunWaiter::Ended(const RunRecord& run) {
  bool waited = false;
  {
    std::lock_guard lock(mu_);
    for (Wait& w : waits_) {
      if (w.run_id == run.id && !w.answer) {
        w.answer = run;
        waited = true;
      }
    }
  }
  if (waited) wake_.notify_all();
}

size_t RunWaiter::waiting() const {
  std::lock_guard lock(mu_);
  return waits_.size();
}

void RunWaiter::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<Done, StatusOr<RunRecord>>> answers;
    std::vector<std::string> reads;
    for (auto it = waits_.begin(); it != waits_.end();) {
      if (!it->answer && it->deadline <= now) {
        it->answer = DeadlineExceededError("run " + it->run_id + " has not ended within " +
                                           std::to_string(it->timeout.count() / 1000) +
                                           " s; it goes on, and the trigger's runs show how it ends");
      }
      if (it->answer) {
        answers.emplace_back(std::move(it->done), *std::move(it->answer));
        it = waits_.erase(it);
        continue;
      }
      if (it->next_read <= now) {
        reads.push_back(it->run_id);
        it->next_read = now + poll_;
      }
      ++it;
    }
    if (!answers.empty() || !reads.empty()) {
      lock.unlock();
      for (auto& [done, answer] : answers) done(std::move(answer));
      std::vector<std::pair<std::string, StatusOr<RunRecord>>> read;
      for (const std::string& id : reads) {
        StatusOr<RunRecord> run = runs_.GetRun(id);
        if (run.ok() && !IsFinal(run->status)) continue;
        if (!run.ok() && run.status().code() != StatusCode::kNotFound) {
          // The store away for a moment: the next read, or the engine's end, will tell.
          log::Warn("automation: reading a run waited for failed", {{"run", id}, {"error", run.status().ToString()}});
          continue;
        }
        if (!run.ok()) run = NotFoundError("run " + id + " is gone: its trigger was deleted");
        read.emplace_back(id, std::move(run));
      }
      lock.lock();
      for (auto& [id, answer] : read) {
        for (Wait& w : waits_) {
          if (w.run_id == id && !w.answer) w.answer = answer;
        }
      }
      continue;  // answers what was read, and looks at the clock again
    }
    auto until = std::chrono::steady_clock::time_point::max();
    for (const Wait& w : waits_) until = std::min({until, w.deadline, w.next_read});
    if (until == std::chrono::steady_clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, until);
    }
  }
}

}  // namespace neosl::automation
