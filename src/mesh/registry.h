// Service registry: instances register their endpoint, version and health under a lease; clients
// resolve a service to its live instances and watch for changes (service-integration.md,
// "Service Discovery"). Three backends behind one interface:
//
//   memory  one process (single-binary mode, tests)
//   file    one machine, several processes: <dir>/<service>/<instance>.json, each renewed by its
//           owner; an entry whose lease has run out (expires_ms in the past) is not live and is
//           removed by the next resolve or watch poll
//   etcd    several machines: etcd v3 through its JSON gateway (/v3/kv/put, /v3/kv/range,
//           /v3/lease/grant, /v3/lease/keepalive, /v3/lease/revoke); keys
//           <prefix>/services/<service>/<instance>, the value the JSON below, attached to a lease
//           of `lease_ttl` that the registration keeps alive; a crashed instance disappears when
//           its lease expires (leases are the health check)
//
// The value, in every backend: {"service":"echo","instance":"echo-3f2a","address":"127.0.0.1:4711",
// "version":"0.1.0","healthy":true,"metadata":{"…":"…"}} (the file backend adds "expires_ms" and
// "lease", its owner's token; readers ignore fields they do not know).
//
// Service and instance names become file names and key segments, so every backend takes only
// [A-Za-z0-9._:-], at most 200 characters, not starting with '.'.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace neosl::mesh {

struct Endpoint {
  std::string service;   // identity, e.g. "echo"
  std::string instance;  // unique per process, e.g. "echo-3f2a9c"
  std::string address;   // host:port reachable by peers
  std::string version;
  bool healthy = true;
  std::map<std::string, std::string> metadata;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

std::string EndpointToJson(const Endpoint& endpoint);
// INVALID_ARGUMENT unless service, instance and address are non-empty strings, version a string,
// healthy a bool (default true) and metadata an object of strings; other fields are ignored.
StatusOr<Endpoint> EndpointFromJson(std::string_view json);

// A live registration. Destroying it (or Close) deregisters at once; while it lives the backend
// keeps its lease renewed from a background thread. If the instance is registered again (by this
// or another process), the newer registration owns the entry: the older one stops renewing,
// SetHealthy fails with FAILED_PRECONDITION and Close leaves the newer entry alone.
class Registration {
 public:
  virtual ~Registration() = default;
  // Publishes a new health state (e.g. unhealthy while draining) under the same lease.
  // FAILED_PRECONDITION after Close or once replaced; UNAVAILABLE if the backend cannot be reached.
  virtual Status SetHealthy(bool healthy) = 0;
  // Idempotent. UNAVAILABLE if the backend cannot be reached; the entry then expires with its lease.
  virtual Status Close() = 0;
};

class Registry {
 public:
  virtual ~Registry() = default;

  // Registers `endpoint` (service, instance and address must be non-empty, names as above;
  // INVALID_ARGUMENT otherwise). Re-registering an instance replaces its entry. UNAVAILABLE when
  // the backend (etcd, the directory) cannot be reached.
  virtual StatusOr<std::unique_ptr<Registration>> Register(const Endpoint& endpoint) = 0;

  // The live instances of `service`, healthy or not, sorted by instance.
  virtual StatusOr<std::vector<Endpoint>> Resolve(std::string_view service) = 0;

  // Calls `on_change` with the full live set of `service` now and after every change (an
  // instance added, removed, expired or changing health), from a background thread, until the
  // returned handle is destroyed. Changes are seen within the backend's poll interval or at once
  // (memory). The callback runs with no registry lock held (it may call Resolve, or destroy its
  // own watch); while the backend is unreachable nothing is delivered and the failure is logged.
  using WatchCallback = std::function<void(const std::vector<Endpoint>&)>;
  class Watch {
   public:
    virtual ~Watch() = default;
  };
  virtual StatusOr<std::unique_ptr<Watch>> WatchService(std::string_view service, WatchCallback on_change) = 0;

  virtual std::string_view backend() const = 0;
};

// etcd leases are whole seconds: lease_ttl is rounded up (and etcd may raise it to its minimum).
struct RegistryOptions {
  std::chrono::milliseconds lease_ttl{5000};        // an instance silent this long is gone
  std::chrono::milliseconds keepalive_interval{0};  // 0: lease_ttl / 3; must be below lease_ttl
  std::chrono::milliseconds poll_interval{200};     // file and etcd watches
};

std::unique_ptr<Registry> NewMemoryRegistry();
// `clock` decides expiry (expires_ms is its wall time) and must outlive the registry and its
// registrations; renewals are paced by real time. Creates `dir` if needed.
StatusOr<std::unique_ptr<Registry>> NewFileRegistry(std::string dir, RegistryOptions options, const Clock& clock);

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379"; tried in order (https: not yet)
  std::string prefix = "/neosl";
  std::chrono::milliseconds request_timeout{2000};
};
// Checks that an endpoint answers (POST /v3/maintenance/status) before returning; UNAVAILABLE
// naming the endpoints otherwise.
StatusOr<std::unique_ptr<Registry>> NewEtcdRegistry(EtcdOptions etcd, RegistryOptions options);

}  // namespace neosl::mesh
