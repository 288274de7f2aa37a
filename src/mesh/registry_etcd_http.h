// A minimal client for etcd v3's JSON gateway (POST /v3/...), used by the etcd registry backend.
// Not part of the public interface.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "core/status.h"

namespace neosl::mesh::internal {

class EtcdHttp {
 public:
  // `endpoints` are "http://host:port" (or "host:port"); https is not supported yet.
  static StatusOr<EtcdHttp> Create(const std::vector<std::string>& endpoints, std::chrono::milliseconds timeout);

  EtcdHttp(const EtcdHttp& other)
      : endpoints_(other.endpoints_), timeout_(other.timeout_), preferred_(other.preferred_.load()) {}
  EtcdHttp& operator=(const EtcdHttp&) = delete;

  // POSTs `body` to `path` ("/v3/kv/range"). The endpoint that last answered is tried first, then
  // the others in order. A transport failure, timeout or "unavailable" answer moves on to the next
  // endpoint; when none answers: UNAVAILABLE naming each endpoint and its error. An error etcd
  // reports ({"error":…,"code":N}) becomes a Status with that gRPC code.
  StatusOr<boost::json::object> Call(std::string_view path, const boost::json::object& body) const;

  // "http://a:2379, http://b:2379"
  std::string Describe() const;

 private:
  struct Target {
    std::string url;  // as given, for messages
    std::string host;
    std::string port;
  };
  EtcdHttp(std::vector<Target> endpoints, std::chrono::milliseconds timeout)
      : endpoints_(std::move(endpoints)), timeout_(timeout) {}

  // A transport-level failure is reported through `transport` (UNAVAILABLE or DEADLINE_EXCEEDED).
  StatusOr<boost::json::object> CallOne(const Target& target, std::string_view path, const std::string& body,
                                        bool& transport) const;

  std::vector<Target> endpoints_;
  std::chrono::milliseconds timeout_;
  mutable std::atomic<size_t> preferred_{0};
};

// etcd's JSON renders int64 fields as strings ("lease":"7587…"); accepts either form.
std::optional<int64_t> JsonInt64(const boost::json::object& object, std::string_view key);

}  // namespace neosl::mesh::internal
