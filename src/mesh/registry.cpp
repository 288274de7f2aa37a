// Endpoint JSON, what the backends share, and the in-process (memory) backend.
#include "mesh/registry.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "core/log.h"
#include "core/random.h"
#include "mesh/registry_internal.h"

namespace neosl::mesh {
namespace json = boost::json;

std::string EndpointToJson(const Endpoint& endpoint) {
  return json::serialize(internal::EndpointToObject(endpoint));
}

StatusOr<Endpoint> EndpointFromJson(std::string_view text) {
  json::error_code ec;
  json::value value = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return InvalidArgumentError("endpoint: not JSON: " + ec.message());
  if (!value.is_object()) return InvalidArgumentError("endpoint: not a JSON object");
  return internal::EndpointFromObject(value.get_object());
}

namespace internal {

Status ValidateName(std::string_view what, std::string_view name) {
  constexpr size_t kMaxName = 200;
  if (name.empty()) return InvalidArgumentError(std::string(what) + " must not be empty");
  if (name.size() > kMaxName) {
    return InvalidArgumentError(std::string(what) + " is longer than " + std::to_string(kMaxName) + " characters");
  }
  if (name.front() == '.') return InvalidArgumentError(std::string(what) + " must not start with '.'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == ':';
    if (!ok) {
      return InvalidArgumentError(std::string(what) + " \"" + std::string(name) +
                                  "\" may contain only letters, digits and . _ - :");
    }
  }
  return Status::Ok();
}

Status ValidateEndpoint(const Endpoint& endpoint) {
  RETURN_IF_ERROR(ValidateName("service", endpoint.service));
  RETURN_IF_ERROR(ValidateName("instance", endpoint.instance));
  if (endpoint.address.empty()) return InvalidArgumentError("address must not be empty");
  return Status::Ok();
}

json::object EndpointToObject(const Endpoint& endpoint) {
  json::object metadata;
  for (const auto& [key, value] : endpoint.metadata) metadata[key] = value;
  json::object out;
  out["service"] = endpoint.service;
  out["instance"] = endpoint.instance;
  out["address"] = endpoint.address;
  out["version"] = endpoint.version;
  out["healthy"] = endpoint.healthy;
  out["metadata"] = std::move(metadata);
  return out;
}

namespace {

Status RequiredString(const json::object& object, std::string_view key, std::string& out) {
  const json::value* v = object.if_contains(key);
  if (!v || !v->is_string() || v->get_string().empty()) {
    return InvalidArgumentError("endpoint: \"" + std::string(key) + "\" must be a non-empty string");
  }
  out = std::string(v->get_string());
  return Status::Ok();
}

}  // namespace

StatusOr<Endpoint> EndpointFromObject(const json::object& object) {
  Endpoint e;
  RETURN_IF_ERROR(RequiredString(object, "service", e.service));
  RETURN_IF_ERROR(RequiredString(object, "instance", e.instance));
  RETURN_IF_ERROR(RequiredString(object, "address", e.address));
  if (const json::value* v = object.if_contains("version")) {
    if (!v->is_string()) return InvalidArgumentError("endpoint: \"version\" must be a string");
    e.version = std::string(v->get_string());
  }
  if (const json::value* v = object.if_contains("healthy")) {
    if (!v->is_bool()) return InvalidArgumentError("endpoint: \"healthy\" must be a boolean");
    e.healthy = v->get_bool();
  }
  if (const json::value* v = object.if_contains("metadata")) {
    if (!v->is_object()) return InvalidArgumentError("endpoint: \"metadata\" must be an object");
    for (const auto& entry : v->get_object()) {
      if (!entry.value().is_string()) {
        return InvalidArgumentError("endpoint: metadata \"" + std::string(entry.key()) + "\" must be a string");
      }
      e.metadata[std::string(entry.key())] = std::string(entry.value().get_string());
    }
  }
  return e;
}

StatusOr<RegistryOptions> NormalizeOptions(RegistryOptions options) {
  using std::chrono::milliseconds;
  if (options.lease_ttl <= milliseconds(0)) return InvalidArgumentError("lease_ttl must be positive");
  if (options.poll_interval <= milliseconds(0)) return InvalidArgumentError("poll_interval must be positive");
  if (options.keepalive_interval < milliseconds(0)) return InvalidArgumentError("keepalive_interval is negative");
  if (options.keepalive_interval == milliseconds(0)) {
    options.keepalive_interval = std::max(milliseconds(1), options.lease_ttl / 3);
  }
  if (options.keepalive_interval >= options.lease_ttl) {
    return InvalidArgumentError("keepalive_interval must be shorter than lease_ttl");
  }
  return options;
}

std::string NewLeaseToken() {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(SecureRandom::Instance().NextU64()));
  return buf;
}

PollingWatch::PollingWatch(std::string description, Fetch fetch, std::chrono::milliseconds interval,
                           Registry::WatchCallback on_change)
    : state_(std::make_shared<State>()) {
  // The thread owns copies of everything it uses, so it can outlive this object (see the destructor).
  thread_ = std::thread([state = state_, description = std::move(description), fetch = std::move(fetch), interval,
                         on_change = std::move(on_change)] { Run(state, description, fetch, interval, on_change); });
}

PollingWatch::~PollingWatch() {
  {
    std::lock_guard lock(state_->mu);
    state_->stop = true;
  }
  state_->cv.notify_all();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // destroyed from its own callback: the loop sees `stop` once the callback returns
  } else {
    thread_.join();
  }
}

void PollingWatch::Wake() {
  {
    std::lock_guard lock(state_->mu);
    state_->wake = true;
  }
  state_->cv.notify_all();
}

void PollingWatch::Run(const std::shared_ptr<State>& state, const std::string& description, const Fetch& fetch,
                       std::chrono::milliseconds interval, const Registry::WatchCallback& on_change) {
  std::optional<std::vector<Endpoint>> delivered;
  bool failing = false;
  while (true) {
    {
      std::lock_guard lock(state->mu);
      if (state->stop) return;
      state->wake = false;
    }
    StatusOr<std::vector<Endpoint>> live = fetch();
    if (!live.ok()) {
      if (!failing) log::Warn("registry watch failing", {{"watch", description}, {"error", live.status().ToString()}});
      failing = true;
    } else {
      if (failing) log::Info("registry watch recovered", {{"watch", description}});
      failing = false;
      if (!delivered || *delivered != *live) {
        delivered = std::move(*live);
        on_change(*delivered);
      }
    }
    std::unique_lock lock(state->mu);
    state->cv.wait_for(lock, interval, [&] { return state->stop || state->wake; });
  }
}

}  // namespace internal

namespace {

// The memory backend: one map, watchers woken on every change.
struct MemoryState {
  struct Entry {
    Endpoint endpoint;
    uint64_t owner = 0;  // which Register call wrote it, so a replaced registration cannot remove its successor
  };
  std::mutex mu;
  std::map<std::string, std::map<std::string, Entry>, std::less<>> services;
  std::multimap<std::string, internal::PollingWatch*, std::less<>> watchers;
  uint64_t next_owner = 1;

  // Requires mu.
  void WakeWatchers(const std::string& service) {
    auto [begin, end] = watchers.equal_range(service);
    for (auto it = begin; it != end; ++it) it->second->Wake();
  }

  std::vector<Endpoint> Snapshot(std::string_view service) {
    std::vector<Endpoint> out;
    std::lock_guard lock(mu);
    auto it = services.find(service);
    if (it == services.end()) return out;
    for (const auto& [instance, entry] : it->second) out.push_back(entry.endpoint);  // std::map: sorted
    return out;
  }
};

class MemoryRegistration final : public Registration {
 public:
  MemoryRegistration(std::shared_ptr<MemoryState> state, std::string service, std::string instance, uint64_t owner)
      : state_(std::move(state)), service_(std::move(service)), instance_(std::move(instance)), owner_(owner) {}
  ~MemoryRegistration() override { (void)Close(); }
  MemoryRegistration(const MemoryRegistration&) = delete;
  MemoryRegistration& operator=(const MemoryRegistration&) = delete;

  Status SetHealthy(bool healthy) override {
    std::lock_guard lock(state_->mu);
    MemoryState::Entry* entry = FindOwnLocked();
    if (!entry) return FailedPreconditionError("registration of " + instance_ + " is closed or was replaced");
    if (entry->endpoint.healthy != healthy) {
      entry->endpoint.healthy = healthy;
      state_->WakeWatchers(service_);
    }
    return Status::Ok();
  }

  Status Close() override {
    std::lock_guard lock(state_->mu);
    if (FindOwnLocked()) {
      state_->services[service_].erase(instance_);
      state_->WakeWatchers(service_);
    }
    owner_ = 0;
    return Status::Ok();
  }

 private:
  MemoryState::Entry* FindOwnLocked() {
    auto s = state_->services.find(service_);
    if (s == state_->services.end()) return nullptr;
    auto e = s->second.find(instance_);
    if (e == s->second.end() || e->second.owner != owner_) return nullptr;
    return &e->second;
  }

  std::shared_ptr<MemoryState> state_;
  std::string service_, instance_;
  uint64_t owner_;
};

class MemoryWatch final : public Registry::Watch {
 public:
  MemoryWatch(std::shared_ptr<MemoryState> state, std::string service, Registry::WatchCallback on_change)
      : state_(std::move(state)), service_(std::move(service)) {
    // Wakes come with every change; the timer is only a backstop. Holding the lock while the
    // thread starts means its first snapshot comes after it is registered for wakes.
    std::lock_guard lock(state_->mu);
    poll_ = std::make_unique<internal::PollingWatch>(
        "memory:" + service_, [state = state_, service = service_] { return state->Snapshot(service); },
        std::chrono::minutes(1), std::move(on_change));
    state_->watchers.emplace(service_, poll_.get());
  }
  ~MemoryWatch() override {
    {
      std::lock_guard lock(state_->mu);
      auto [begin, end] = state_->watchers.equal_range(service_);
      for (auto it = begin; it != end; ++it) {
        if (it->second == poll_.get()) {
          state_->watchers.erase(it);
          break;
        }
      }
    }
    poll_.reset();
  }
  MemoryWatch(const MemoryWatch&) = delete;
  MemoryWatch& operator=(const MemoryWatch&) = delete;

 private:
  std::shared_ptr<MemoryState> state_;
  std::string service_;
  std::unique_ptr<internal::PollingWatch> poll_;
};

class MemoryRegistry final : public Registry {
 public:
  StatusOr<std::unique_ptr<Registration>> Register(const Endpoint& endpoint) override {
    RETURN_IF_ERROR(internal::ValidateEndpoint(endpoint));
    std::lock_guard lock(state_->mu);
    uint64_t owner = state_->next_owner++;
    state_->services[endpoint.service][endpoint.instance] = MemoryState::Entry{endpoint, owner};
    state_->WakeWatchers(endpoint.service);
    return std::unique_ptr<Registration>(
        std::make_unique<MemoryRegistration>(state_, endpoint.service, endpoint.instance, owner));
  }

  StatusOr<std::vector<Endpoint>> Resolve(std::string_view service) override {
    RETURN_IF_ERROR(internal::ValidateName("service", service));
    return state_->Snapshot(service);
  }

  StatusOr<std::unique_ptr<Watch>> WatchService(std::string_view service, WatchCallback on_change) override {
    RETURN_IF_ERROR(internal::ValidateName("service", service));
    if (!on_change) return InvalidArgumentError("watch callback must not be empty");
    return std::unique_ptr<Watch>(std::make_unique<MemoryWatch>(state_, std::string(service), std::move(on_change)));
  }

  std::string_view backend() const override { return "memory"; }

 private:
  std::shared_ptr<MemoryState> state_ = std::make_shared<MemoryState>();
};

}  // namespace

std::unique_ptr<Registry> NewMemoryRegistry() {
  return std::make_unique<MemoryRegistry>();
}

namespace internal {

void LogRenewal(const Endpoint& endpoint, std::string_view backend, const Status& result, bool superseded,
                bool* failing) {
  if (superseded) {
    log::Info("registry: instance registered again elsewhere; stopping renewal",
              {{"backend", backend}, {"service", endpoint.service}, {"instance", endpoint.instance}});
  } else if (!result.ok() && !*failing) {
    log::Warn("registry: renewing the registration failed; retrying", {{"backend", backend},
                                                                       {"service", endpoint.service},
                                                                       {"instance", endpoint.instance},
                                                                       {"error", result.ToString()}});
  } else if (result.ok() && *failing) {
    log::Info("registry: renewing the registration works again",
              {{"backend", backend}, {"service", endpoint.service}, {"instance", endpoint.instance}});
  }
  *failing = !result.ok();
}

}  // namespace internal
}  // namespace neosl::mesh
