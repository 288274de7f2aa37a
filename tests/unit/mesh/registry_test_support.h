// Helpers shared by the registry tests: bounded waits and a watch callback that records.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mesh/registry.h"

namespace neosl::mesh::testing {

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // bounded poll for a condition
  }
  return true;
}

inline std::vector<std::string> Instances(const std::vector<Endpoint>& endpoints) {
  std::vector<std::string> out;
  out.reserve(endpoints.size());
  for (const auto& e : endpoints) out.push_back(e.instance);
  return out;
}

// Records every set a watch delivers.
class WatchRecorder {
 public:
  Registry::WatchCallback Callback() {
    return [this](const std::vector<Endpoint>& live) {
      std::lock_guard lock(mu_);
      sets_.push_back(live);
      cv_.notify_all();
    };
  }

  // Waits until the latest delivered set satisfies `pred`.
  bool WaitLatest(const std::function<bool(const std::vector<Endpoint>&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return !sets_.empty() && pred(sets_.back()); });
  }
  bool WaitInstances(const std::vector<std::string>& instances,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return WaitLatest([&](const std::vector<Endpoint>& live) { return Instances(live) == instances; }, timeout);
  }

  size_t count() {
    std::lock_guard lock(mu_);
    return sets_.size();
  }
  std::vector<std::vector<Endpoint>> sets() {
    std::lock_guard lock(mu_);
    return sets_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::vector<Endpoint>> sets_;
};

inline Endpoint MakeEndpoint(std::string service, std::string instance, std::string address = "127.0.0.1:4711") {
  Endpoint e;
  e.service = std::move(service);
  e.instance = std::move(instance);
  e.address = std::move(address);
  e.version = "0.1.0";
  return e;
}

}  // namespace neosl::mesh::testing
