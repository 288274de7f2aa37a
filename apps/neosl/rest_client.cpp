#include "apps/neosl/rest_client.h"

#include <optional>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "neo/rpc_client.h"

namespace neosl::app {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

bool IsTimeout(const error_code& ec) {
  return ec == beast::error::timeout || ec == net::error::timed_out || ec == net::error::operation_aborted;
}

// The REST error body {"error":{"code","message"}} as a Status; anything else names the HTTP status.
Status ErrorFromResponse(unsigned status, const std::string& body) {
  error_code ec;
  json::value doc = json::parse(body, ec);
  if (!ec && doc.is_object()) {
    const json::value* error = doc.as_object().if_contains("error");
    if (error != nullptr && error->is_object()) {
      const json::value* code = error->as_object().if_contains("code");
      const json::value* message = error->as_object().if_contains("message");
      std::optional<StatusCode> parsed;
      if (code != nullptr && code->is_string()) parsed = StatusCodeFromName(code->as_string());
      if (parsed && *parsed != StatusCode::kOk) {
        std::string text = message != nullptr && message->is_string() ? std::string(message->as_string()) : "";
        return Status(*parsed, text);
      }
    }
  }
  return UnknownError("HTTP " + std::to_string(status) + " without an error body");
}

}  // namespace

struct RestClient::Impl {
  RestClientOptions opts;
  neo::EndpointUrl url;
  std::string host_header;
  std::optional<ssl::context> tls;

  std::string Where() const { return url.host + ":" + url.port; }
};

RestClient::RestClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RestClient::~RestClient() = default;

StatusOr<std::unique_ptr<RestClient>> RestClient::Create(RestClientOptions options) {
  auto url = neo::ParseEndpointUrl(options.url);
  if (!url.ok()) return url.status().Annotate("--url");
  if (url->scheme != "http" && url->scheme != "https") {
    return InvalidArgumentError("--url: must be http://host:port or https://host:port");
  }
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(options);
  impl->url = std::move(*url);
  bool default_port = impl->url.port == (impl->url.tls ? "443" : "80");
  bool ipv6 = impl->url.host.find(':') != std::string::npos;
  impl->host_header = (ipv6 ? "[" + impl->url.host + "]" : impl->url.host) + (default_port ? "" : ":" + impl->url.port);
  if (impl->url.tls) {
    impl->tls.emplace(ssl::context::tls_client);
    error_code ec;
    impl->tls->set_verify_mode(ssl::verify_peer, ec);
    if (!ec) impl->tls->set_default_verify_paths(ec);
    if (!ec && !impl->opts.ca_file.empty()) impl->tls->load_verify_file(impl->opts.ca_file, ec);
    if (ec) return InvalidArgumentError("--ca-file: cannot load " + impl->opts.ca_file + ": " + ec.message());
  }
  return std::unique_ptr<RestClient>(new RestClient(std::move(impl)));
}

std::string RestClient::EscapeSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : segment) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
                      u == '_' || u == '.' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

StatusOr<json::value> RestClient::Call(std::string_view method, const std::string& target, std::string_view body) {
  Impl& d = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + d.opts.timeout;
  net::io_context ioc;
  auto run = [&] {
    ioc.restart();
    ioc.run();
  };

  // Resolve, bounded by the deadline like everything else.
  tcp::resolver resolver(ioc);
  net::steady_timer timer(ioc, deadline);
  error_code ec;
  bool timed_out = false;
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(d.url.host, d.url.port, [&](error_code e, tcp::resolver::results_type r) {
    ec = e;
    endpoints = std::move(r);
    timer.cancel();
  });
  timer.async_wait([&](error_code e) {
    if (!e) {
      timed_out = true;
      resolver.cancel();
    }
  });
  run();
  if (timed_out) return DeadlineExceededError("resolving " + d.url.host + ": timed out");
  if (ec) return UnavailableError("resolving " + d.url.host + ": " + ec.message());

  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  if (d.tls) {
    secure.emplace(ioc, *d.tls);
    SSL_set_tlsext_host_name(secure->native_handle(), d.url.host.c_str());
    secure->set_verify_callback(ssl::host_name_verification(d.url.host));
  } else {
    plain.emplace(ioc);
  }
  beast::tcp_stream& lowest = plain ? *plain : beast::get_lowest_layer(*secure);
  lowest.expires_at(deadline);
  lowest.async_connect(endpoints, [&](error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec) {
    if (IsTimeout(ec)) return DeadlineExceededError("connecting to " + d.Where() + ": timed out");
    return UnavailableError("connecting to " + d.Where() + ": " + ec.message());
  }
  if (secure) {
    lowest.expires_at(deadline);
    secure->async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e; });
    run();
    if (ec) {
      if (IsTimeout(ec)) return DeadlineExceededError("TLS handshake with " + d.Where() + ": timed out");
      return UnavailableError("TLS handshake with " + d.Where() + ": " + ec.message());
    }
  }

  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, d.host_header);
  req.set(http::field::user_agent, "neosl-cli");
  req.set(http::field::accept, "application/json");
  if (!d.opts.api_key.empty()) req.set(http::field::authorization, "Bearer " + d.opts.api_key);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body().reserve(body.size());  // one buffer, wiped below: the body may hold a secret
    req.body().assign(body.data(), body.size());
  }
  req.prepare_payload();

  http::response_parser<http::string_body> parser;
  parser.body_limit(size_t{8} * 1024 * 1024);
  beast::flat_buffer buffer;
  auto exchange = [&](auto& stream) {
    lowest.expires_at(deadline);
    http::async_write(stream, req, [&](error_code e, size_t) { ec = e; });
    run();
    if (ec) return;
    lowest.expires_at(deadline);
    http::async_read(stream, buffer, parser, [&](error_code e, size_t) { ec = e; });
    run();
  };
  if (secure) {
    exchange(*secure);
  } else {
    exchange(*plain);
  }
  OPENSSL_cleanse(req.body().data(), req.body().size());
  error_code ignored;
  lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
  lowest.socket().close(ignored);
  if (ec) {
    if (IsTimeout(ec)) return DeadlineExceededError(std::string(method) + " " + target + ": timed out");
    return UnavailableError(std::string(method) + " " + target + ": " + ec.message());
  }

  const auto& res = parser.get();
  const unsigned status = res.result_int();
  if (status < 200 || status >= 300) return ErrorFromResponse(status, res.body());
  json::value doc = json::parse(res.body(), ec);
  if (ec) return DataLossError(std::string(method) + " " + target + ": the answer is not JSON");
  return doc;
}

}  // namespace neosl::app
