// The worker-thread lifecycle shared by WsSubscriber and PollingSubscriber (internal to
// src/neo): one thread started once; Stop sets `stopping` under the mutex, ends a blocking
// session through `interrupt` if one is running, wakes waiters and joins.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "core/status.h"
#include "neo/rpc_client.h"
#include "neo/ws_subscriber.h"

namespace neosl::neo {

struct SubscriberLoop {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool stopping = false;
  std::function<void()> interrupt;  // set while a blocking session runs; ends it (called under mu)
  std::thread thread;
  ChainEventHandler* handler = nullptr;
  std::atomic<int64_t> last{-1};  // the last delivered block index, -1 before the first

  // Starts the worker. An unset `next` (no start index) is first anchored at the block after
  // the node's tip now, so a block mined once Start returns is delivered however long connecting
  // and subscribing take; a node that cannot be reached now leaves it unset, and the first
  // catch-up anchors it instead.
  Status StartThread(ChainEventHandler& h, RpcClient& rpc, std::optional<uint32_t>& next, std::function<void()> run) {
    std::lock_guard lock(mu);
    if (started) return FailedPreconditionError("subscriber already started");
    started = true;
    handler = &h;
    if (!next) {
      auto count = rpc.GetBlockCount();
      if (count.ok()) next = *count;
    }
    thread = std::thread(std::move(run));
    return Status::Ok();
  }

  void StopThread() {
    {
      std::lock_guard lock(mu);
      stopping = true;
      if (interrupt) interrupt();
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }

  std::optional<uint32_t> LastDelivered() const {
    int64_t v = last.load();
    if (v < 0) return std::nullopt;
    return static_cast<uint32_t>(v);
  }
};

}  // namespace neosl::neo
