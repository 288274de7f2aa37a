// The etcd backend: keys <prefix>/services/<service>/<instance> holding the endpoint JSON, each
// attached to a lease of its registration (see registry.h). A registration keeps its lease alive
// every keepalive interval; when etcd says the lease is gone (it expired while this process or
// etcd was stalled), the registration grants a new one and writes its key again. Watches poll a
// range read every poll_interval.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "core/encoding.h"
#include "core/log.h"
#include "mesh/registry.h"
#include "mesh/registry_etcd_http.h"
#include "mesh/registry_internal.h"

namespace neosl::mesh {
namespace {
namespace json = boost::json;
using internal::EtcdHttp;
using internal::JsonInt64;

std::string B64(std::string_view s) {
  return Base64Encode(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::optional<std::string> UnB64(const json::value* v) {
  if (!v || !v->is_string()) return std::nullopt;
  auto bytes = Base64Decode(v->get_string());
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

struct EtcdShared {
  EtcdShared(const EtcdHttp& h, std::string p, RegistryOptions o) : http(h), prefix(std::move(p)), options(o) {}

  EtcdHttp http;
  std::string prefix;
  RegistryOptions options;
  std::mutex warned_mu;
  std::set<std::string> warned;  // malformed values already reported, by key and revision

  std::string ServicePrefix(std::string_view service) const {
    return prefix + "/services/" + std::string(service) + "/";
  }
  std::string Key(const Endpoint& e) const { return ServicePrefix(e.service) + e.instance; }
  std::string Location(std::string_view service) const { return ServicePrefix(service); }

  // Lease TTLs are whole seconds: round up, at least 1.
  int64_t LeaseSeconds() const { return std::max<int64_t>(1, (options.lease_ttl.count() + 999) / 1000); }

  StatusOr<std::vector<Endpoint>> Resolve(std::string_view service) {
    RETURN_IF_ERROR(internal::ValidateName("service", service));
    std::string begin = ServicePrefix(service);
    std::string end = begin;
    end.back() = static_cast<char>(end.back() + 1);  // '/' + 1: every key under the prefix
    json::object req;
    req["key"] = B64(begin);
    req["range_end"] = B64(end);
    ASSIGN_OR_RETURN(json::object res, http.Call("/v3/kv/range", req));
    std::vector<Endpoint> live;
    const json::value* kvs = res.if_contains("kvs");  // absent when empty
    if (!kvs) return live;
    if (!kvs->is_array()) return InternalError("etcd /v3/kv/range: \"kvs\" is not an array");
    for (const json::value& kv : kvs->get_array()) {
      if (!kv.is_object()) continue;
      const json::object& o = kv.get_object();
      std::optional<std::string> key = UnB64(o.if_contains("key"));
      std::optional<std::string> value = UnB64(o.if_contains("value"));
      if (!key || !key->starts_with(begin)) continue;
      StatusOr<Endpoint> endpoint = value ? EndpointFromJson(*value) : InvalidArgumentError("value is not base64");
      if (endpoint.ok() && (endpoint->service != service || endpoint->instance != key->substr(begin.size()))) {
        endpoint = InvalidArgumentError("service or instance does not match the key");
      }
      if (!endpoint.ok()) {
        WarnMalformed(*key, JsonInt64(o, "mod_revision").value_or(0), endpoint.status());
        continue;
      }
      live.push_back(std::move(*endpoint));
    }
    std::sort(live.begin(), live.end(), [](const Endpoint& a, const Endpoint& b) { return a.instance < b.instance; });
    return live;
  }

  void WarnMalformed(const std::string& key, int64_t revision, const Status& why) {
    {
      std::lock_guard lock(warned_mu);
      if (!warned.insert(key + "@" + std::to_string(revision)).second) return;
      if (warned.size() > 10000) warned.clear();
    }
    log::Warn("registry: skipping malformed etcd entry", {{"key", key}, {"error", why.ToString()}});
  }

  // Grants a lease; returns its id and the TTL etcd granted (it may raise a TTL below its minimum).
  StatusOr<std::pair<int64_t, int64_t>> Grant() const {
    json::object req;
    req["TTL"] = LeaseSeconds();
    req["ID"] = 0;
    ASSIGN_OR_RETURN(json::object res, http.Call("/v3/lease/grant", req));
    std::optional<int64_t> id = JsonInt64(res, "ID");
    std::optional<int64_t> ttl = JsonInt64(res, "TTL");
    if (!id || *id == 0 || !ttl || *ttl <= 0) return InternalError("etcd /v3/lease/grant: no lease in the answer");
    return std::make_pair(*id, *ttl);
  }

  // Revoking a lease deletes its keys. An unknown lease (expired already) is no error.
  Status Revoke(int64_t lease) const {
    json::object req;
    req["ID"] = std::to_string(lease);
    Status s = http.Call("/v3/lease/revoke", req).status();
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
  }

  // The put request for `endpoint` under `lease`.
  json::object PutRequest(const Endpoint& endpoint, int64_t lease) const {
    json::object put;
    put["key"] = B64(Key(endpoint));
    put["value"] = B64(EndpointToJson(endpoint));
    put["lease"] = std::to_string(lease);
    return put;
  }

  // Puts only if the key's current state satisfies `compare` (one etcd txn compare); false if not.
  StatusOr<bool> PutIf(const Endpoint& endpoint, int64_t lease, json::object compare) const {
    compare["key"] = B64(Key(endpoint));
    json::object op;
    op["request_put"] = PutRequest(endpoint, lease);
    json::object txn;
    txn["compare"] = json::array{std::move(compare)};
    txn["success"] = json::array{std::move(op)};
    ASSIGN_OR_RETURN(json::object res, http.Call("/v3/kv/txn", txn));
    const json::value* ok = res.if_contains("succeeded");  // omitted when false
    return ok && ok->is_bool() && ok->get_bool();
  }
};

json::object LeaseIs(int64_t lease) {
  return json::object{{"target", "LEASE"}, {"result", "EQUAL"}, {"lease", std::to_string(lease)}};
}
json::object KeyAbsent() {
  return json::object{{"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
}

class EtcdRegistration final : public Registration {
 public:
  EtcdRegistration(std::shared_ptr<EtcdShared> shared, Endpoint endpoint)
      : shared_(std::move(shared)), endpoint_(std::move(endpoint)) {}
  ~EtcdRegistration() override { (void)Close(); }
  EtcdRegistration(const EtcdRegistration&) = delete;
  EtcdRegistration& operator=(const EtcdRegistration&) = delete;

  // Grants the lease and writes the key, replacing any registration of the instance.
  Status Start() {
    ASSIGN_OR_RETURN(auto lease, shared_->Grant());
    lease_ = lease.first;
    SetIntervalFor(lease.second);
    json::object put = shared_->PutRequest(endpoint_, lease_);
    if (Status s = shared_->http.Call("/v3/kv/put", put).status(); !s.ok()) {
      (void)Revoke();
      return s;
    }
    keepalive_ = std::thread([this] { KeepAlive(); });
    return Status::Ok();
  }

  Status SetHealthy(bool healthy) override {
    std::lock_guard lock(mu_);
    if (closed_) return FailedPreconditionError("registration of " + endpoint_.instance + " is closed");
    if (superseded_) return FailedPreconditionError("instance " + endpoint_.instance + " was registered again");
    bool before = endpoint_.healthy;
    endpoint_.healthy = healthy;
    // Only while the key is still on our lease; otherwise the lease is gone (write it again on a
    // new one) or another registration owns the instance.
    StatusOr<bool> put = shared_->PutIf(endpoint_, lease_, LeaseIs(lease_));
    Status s = !put.ok() ? put.status() : *put ? Status::Ok() : RecoverLocked();
    if (!s.ok()) endpoint_.healthy = before;
    return s;
  }

  Status Close() override {
    {
      std::lock_guard lock(mu_);
      if (closed_) return Status::Ok();
      closed_ = true;
    }
    cv_.notify_all();
    if (keepalive_.joinable()) keepalive_.join();
    // Revoking the lease deletes the key with it (unless the instance was registered again, and
    // then the key is on the newer lease and stays).
    return Revoke();
  }

 private:
  Status Revoke() {
    if (lease_ == 0) return Status::Ok();
    Status s = shared_->Revoke(lease_);
    if (s.ok()) lease_ = 0;
    return s;
  }

  void SetIntervalFor(int64_t granted_seconds) {
    interval_ = shared_->options.keepalive_interval;
    auto third = std::chrono::milliseconds(granted_seconds * 1000 / 3);
    if (granted_seconds * 1000 > shared_->options.lease_ttl.count() + 999 && !warned_ttl_) {
      warned_ttl_ = true;
      log::Warn("registry: etcd granted a longer lease than configured (its minimum TTL)",
                {{"requested_ms", shared_->options.lease_ttl.count()}, {"granted_s", granted_seconds}});
    }
    interval_ = std::max(std::chrono::milliseconds(1), std::min(interval_, third));
  }

  // The lease is gone (or the key no longer on it): grant a new lease and write the key again if
  // nobody else has registered the instance meanwhile. Until that write succeeds lease_ stays the
  // old one, so a failure here is retried by the next keepalive. Requires mu_.
  Status RecoverLocked() {
    ASSIGN_OR_RETURN(auto grant, shared_->Grant());
    int64_t fresh = grant.first;
    StatusOr<bool> written = shared_->PutIf(endpoint_, fresh, KeyAbsent());
    // The key exists: still on our old lease (it was only stale when we looked) we may move it,
    // on another it belongs to a newer registration.
    if (written.ok() && !*written) written = shared_->PutIf(endpoint_, fresh, LeaseIs(lease_));
    if (!written.ok() || !*written) {
      (void)shared_->Revoke(fresh);
      if (!written.ok()) return written.status();
      superseded_ = true;
      return FailedPreconditionError("instance " + endpoint_.instance + " was registered again");
    }
    int64_t old = std::exchange(lease_, fresh);
    SetIntervalFor(grant.second);
    if (old != 0) (void)shared_->Revoke(old);  // if it still lives, it holds nothing now
    log::Info("registry: etcd lease renewed by a new grant",
              {{"service", endpoint_.service}, {"instance", endpoint_.instance}});
    return Status::Ok();
  }

  // One keepalive; re-grants when etcd no longer knows the lease. Requires mu_.
  Status RenewLocked() {
    json::object req;
    req["ID"] = std::to_string(lease_);
    ASSIGN_OR_RETURN(json::object res, shared_->http.Call("/v3/lease/keepalive", req));
    const json::value* result = res.if_contains("result");
    int64_t ttl = result && result->is_object() ? JsonInt64(result->get_object(), "TTL").value_or(0) : 0;
    if (ttl > 0) return Status::Ok();
    return RecoverLocked();
  }

  void KeepAlive() {
    std::unique_lock lock(mu_);
    bool failing = false;
    while (!closed_ && !superseded_) {
      if (cv_.wait_for(lock, interval_, [this] { return closed_; })) break;
      Status s = RenewLocked();
      internal::LogRenewal(endpoint_, "etcd", s, superseded_, &failing);
    }
  }

  std::shared_ptr<EtcdShared> shared_;
  std::mutex mu_;
  std::condition_variable cv_;
  Endpoint endpoint_;
  int64_t lease_ = 0;
  std::chrono::milliseconds interval_{1000};
  bool warned_ttl_ = false;
  bool closed_ = false;
  bool superseded_ = false;
  std::thread keepalive_;
};

}  // namespace

StatusOr<std::unique_ptr<Registry>> NewEtcdRegistry(EtcdOptions etcd, RegistryOptions options) {
  ASSIGN_OR_RETURN(options, internal::NormalizeOptions(options));
  ASSIGN_OR_RETURN(EtcdHttp http, EtcdHttp::Create(etcd.endpoints, etcd.request_timeout));
  while (!etcd.prefix.empty() && etcd.prefix.back() == '/') etcd.prefix.pop_back();
  if (!etcd.prefix.empty() && etcd.prefix.front() != '/') {
    return InvalidArgumentError("etcd prefix \"" + etcd.prefix + "\" must start with '/'");
  }
  // UNAVAILABLE (naming each endpoint's error) when none answers; etcd's own error otherwise.
  if (Status s = http.Call("/v3/maintenance/status", json::object{}).status(); !s.ok()) {
    return s.Annotate("etcd registry: status check of " + http.Describe());
  }
  auto shared = std::make_shared<EtcdShared>(http, std::move(etcd.prefix), options);
  return std::unique_ptr<Registry>(
      std::make_unique<internal::PollingRegistry<EtcdShared, EtcdRegistration>>(std::move(shared), "etcd"));
}

}  // namespace neosl::mesh
