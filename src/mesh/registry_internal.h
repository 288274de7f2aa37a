// Pieces the registry backends share; not part of the public interface (include registry.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "core/status.h"
#include "mesh/registry.h"

namespace neosl::mesh::internal {

// Service and instance names become file names and etcd key segments, so they are restricted to
// [A-Za-z0-9._:-], at most 200 characters, not starting with '.'. `what` names the field.
Status ValidateName(std::string_view what, std::string_view name);
// Non-empty valid service and instance, non-empty address.
Status ValidateEndpoint(const Endpoint& endpoint);

// The endpoint as a JSON object (the shape in registry.h), for backends that add fields to it.
boost::json::object EndpointToObject(const Endpoint& endpoint);
// Strict about the documented fields, ignores others (the file backend's expires_ms, …).
StatusOr<Endpoint> EndpointFromObject(const boost::json::object& object);

// Positive durations only; keepalive_interval 0 becomes lease_ttl / 3.
StatusOr<RegistryOptions> NormalizeOptions(RegistryOptions options);

// 16 random hex digits: tells one registration of an instance from the next.
std::string NewLeaseToken();

// Logs the transitions of a registration's renewal loop once each (failing, working again,
// superseded), not every failed attempt. `failing` carries the state between calls.
void LogRenewal(const Endpoint& endpoint, std::string_view backend, const Status& result, bool superseded,
                bool* failing);

// A watch driven by its own thread: it fetches the live set at start, then every `interval` and
// whenever Wake() is called, and calls the callback when the set differs from the one it last
// delivered. Fetch errors are logged (once per outage) and retried; nothing is delivered for them.
// The callback runs on the watch's thread with no lock held, so it may call back into the registry.
class PollingWatch final : public Registry::Watch {
 public:
  using Fetch = std::function<StatusOr<std::vector<Endpoint>>()>;
  PollingWatch(std::string description, Fetch fetch, std::chrono::milliseconds interval,
               Registry::WatchCallback on_change);
  // Stops the thread. Safe from inside the callback (the thread then finishes on its own).
  ~PollingWatch() override;
  PollingWatch(const PollingWatch&) = delete;
  PollingWatch& operator=(const PollingWatch&) = delete;

  // Asks for a fetch now (used by the memory backend on every change).
  void Wake();

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    bool wake = false;
  };
  static void Run(const std::shared_ptr<State>& state, const std::string& description, const Fetch& fetch,
                  std::chrono::milliseconds interval, const Registry::WatchCallback& on_change);

  std::shared_ptr<State> state_;
  std::thread thread_;
};

// A backend whose registrations renew themselves and whose watches poll: the file and etcd
// registries. `Shared` is the state a backend's registrations and resolves share; it provides
// Resolve(service), Location(service) (what log lines name: a directory, a key prefix) and
// options.poll_interval. `Reg` is its Registration, built from (shared, endpoint) and started
// with Start().
template <typename Shared, typename Reg>
class PollingRegistry final : public Registry {
 public:
  PollingRegistry(std::shared_ptr<Shared> shared, std::string_view backend)
      : shared_(std::move(shared)), backend_(backend) {}

  StatusOr<std::unique_ptr<Registration>> Register(const Endpoint& endpoint) override {
    RETURN_IF_ERROR(ValidateEndpoint(endpoint));
    auto registration = std::make_unique<Reg>(shared_, endpoint);
    RETURN_IF_ERROR(registration->Start());
    return std::unique_ptr<Registration>(std::move(registration));
  }

  StatusOr<std::vector<Endpoint>> Resolve(std::string_view service) override { return shared_->Resolve(service); }

  StatusOr<std::unique_ptr<Watch>> WatchService(std::string_view service, WatchCallback on_change) override {
    RETURN_IF_ERROR(ValidateName("service", service));
    if (!on_change) return InvalidArgumentError("watch callback must not be empty");
    return std::unique_ptr<Watch>(std::make_unique<PollingWatch>(
        std::string(backend_) + ":" + shared_->Location(service),
        [shared = shared_, service = std::string(service)] { return shared->Resolve(service); },
        shared_->options.poll_interval, std::move(on_change)));
  }

  std::string_view backend() const override { return backend_; }

 private:
  std::shared_ptr<Shared> shared_;
  std::string_view backend_;  // a literal
};

}  // namespace neosl::mesh::internal
