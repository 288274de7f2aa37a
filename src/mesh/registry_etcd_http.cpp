#include "mesh/registry_etcd_http.h"

#include <charconv>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace neosl::mesh::internal {
namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

constexpr size_t kMaxResponseBytes = 16u << 20;

StatusCode FromGrpcCode(int64_t code) {
  if (code >= 1 && code <= 16) return static_cast<StatusCode>(code);
  return StatusCode::kUnknown;
}

}  // namespace

std::optional<int64_t> JsonInt64(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(v->get_uint64());
  if (!v->is_string()) return std::nullopt;
  const json::string& s = v->get_string();
  int64_t out = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return out;
}

StatusOr<EtcdHttp> EtcdHttp::Create(const std::vector<std::string>& endpoints, std::chrono::milliseconds timeout) {
  if (endpoints.empty()) return InvalidArgumentError("etcd: no endpoints configured");
  if (timeout <= std::chrono::milliseconds(0)) return InvalidArgumentError("etcd: request_timeout must be positive");
  std::vector<Target> targets;
  for (const std::string& url : endpoints) {
    std::string_view rest = url;
    if (rest.starts_with("https://")) {
      return InvalidArgumentError("etcd endpoint " + url +
                                  ": https is not supported yet; use http:// on a trusted network");
    }
    if (rest.starts_with("http://")) rest.remove_prefix(7);
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size() ||
        rest.find('/') != std::string_view::npos) {
      return InvalidArgumentError("etcd endpoint \"" + url + "\" is not http://host:port");
    }
    std::string host(rest.substr(0, colon));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string port(rest.substr(colon + 1));
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) {
      return InvalidArgumentError("etcd endpoint \"" + url + "\" has a bad port");
    }
    targets.push_back(Target{url, std::move(host), std::move(port)});
  }
  return EtcdHttp(std::move(targets), timeout);
}

std::string EtcdHttp::Describe() const {
  std::string out;
  for (const Target& t : endpoints_) {
    if (!out.empty()) out += ", ";
    out += t.url;
  }
  return out;
}

StatusOr<json::object> EtcdHttp::Call(std::string_view path, const json::object& body) const {
  std::string text = json::serialize(body);
  std::string failures;
  size_t first = preferred_.load();
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    size_t index = (first + i) % endpoints_.size();
    bool transport = false;
    StatusOr<json::object> result = CallOne(endpoints_[index], path, text, transport);
    // etcd answering "unavailable" (no leader, shutting down) or "deadline exceeded" is a reason to
    // ask another member; any other answer is the cluster's.
    bool try_next = transport || (!result.ok() && (result.status().code() == StatusCode::kUnavailable ||
                                                   result.status().code() == StatusCode::kDeadlineExceeded));
    if (!try_next) {
      preferred_.store(index);
      return result;
    }
    if (!failures.empty()) failures += "; ";
    failures += endpoints_[index].url + ": " + std::string(result.status().message());
  }
  return UnavailableError("etcd unavailable (" + failures + ")");
}

StatusOr<json::object> EtcdHttp::CallOne(const Target& target, std::string_view path, const std::string& body,
                                         bool& transport) const {
  transport = true;
  net::io_context ioc;
  auto run = [&ioc] {
    ioc.restart();
    ioc.run();
  };
  auto deadline = std::chrono::steady_clock::now() + timeout_;

  // Resolve under a timer (a resolver has no timeout of its own).
  tcp::resolver resolver(ioc);
  net::steady_timer timer(ioc, deadline);
  error_code ec;
  bool timed_out = false;
  tcp::resolver::results_type addresses;
  resolver.async_resolve(target.host, target.port, [&](error_code e, tcp::resolver::results_type r) {
    ec = e;
    addresses = std::move(r);
    timer.cancel();
  });
  timer.async_wait([&](error_code e) {
    if (!e) {
      timed_out = true;
      resolver.cancel();
    }
  });
  run();
  if (timed_out) return DeadlineExceededError("resolve: timed out");
  if (ec) return UnavailableError("resolve: " + ec.message());

  // Each step is bounded by the stream's expiry, so every run() returns by the deadline.
  beast::tcp_stream stream(ioc);
  stream.expires_at(deadline);
  stream.async_connect(addresses, [&](error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec) return UnavailableError("connect: " + (ec == beast::error::timeout ? "timed out" : ec.message()));

  http::request<http::string_body> req{http::verb::post, std::string(path), 11};
  req.set(http::field::host, target.host + ":" + target.port);
  req.set(http::field::user_agent, "neosl");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();
  stream.expires_at(deadline);
  http::async_write(stream, req, [&](error_code e, size_t) { ec = e; });
  run();
  if (!ec) {
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    stream.expires_at(deadline);
    http::async_read(stream, buffer, parser, [&](error_code e, size_t) { ec = e; });
    run();
    if (!ec) {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      transport = false;
      const auto& res = parser.get();
      json::error_code jec;
      json::value value = json::parse(res.body(), jec);
      int status = static_cast<int>(res.result_int());
      if (jec || !value.is_object()) {
        transport = status >= 500;
        return (status >= 500 ? UnavailableError : UnknownError)("etcd answered " + std::string(path) + " with HTTP " +
                                                                 std::to_string(status) + " and no JSON object");
      }
      json::object& object = value.get_object();
      if (status != 200 || object.contains("error")) {
        std::string message;
        if (const json::value* m = object.if_contains("message"); m && m->is_string()) message = m->get_string();
        if (message.empty()) message = "HTTP " + std::to_string(status);
        StatusCode code = FromGrpcCode(JsonInt64(object, "code").value_or(2));
        return Status(code, "etcd " + std::string(path) + ": " + message);
      }
      return std::move(object);
    }
  }
  if (ec == beast::error::timeout) return DeadlineExceededError(std::string(path) + ": timed out");
  return UnavailableError(std::string(path) + ": " + ec.message());
}

}  // namespace neosl::mesh::internal
