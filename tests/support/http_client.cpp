#include "support/http_client.h"

#include <optional>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace neosl::testing {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

tcp::endpoint ParseEndpoint(const std::string& address) {
  auto colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return tcp::endpoint(net::ip::make_address(host), static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
}

HttpResult FromBeast(http::response<http::string_body>& res) {
  HttpResult out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  out.keep_alive = res.keep_alive();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  return out;
}

}  // namespace

std::string HttpResult::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

struct HttpClient::Conn {
  net::io_context ioc;
  std::optional<ssl::context> ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::string address, bool tls, std::string ca_file)
    : address_(std::move(address)), tls_(tls), ca_file_(std::move(ca_file)) {}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::Request(const std::string& method, const std::string& target, const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    bool fresh = false;
    if (!conn_) {
      fresh = true;
      conn_ = std::make_unique<Conn>();
      auto endpoint = ParseEndpoint(address_);
      ++connections_;
      if (tls_) {
        conn_->ctx.emplace(ssl::context::tls_client);
        conn_->ctx->load_verify_file(ca_file_, ec);
        if (ec) return HttpResult{0, "load CA: " + ec.message(), {}, {}, false};
        conn_->ctx->set_verify_mode(ssl::verify_peer);
        conn_->secure.emplace(conn_->ioc, *conn_->ctx);
        beast::get_lowest_layer(*conn_->secure).expires_after(std::chrono::seconds(10));
        beast::get_lowest_layer(*conn_->secure).connect(endpoint, ec);
        if (!ec) conn_->secure->handshake(ssl::stream_base::client, ec);
      } else {
        conn_->plain.emplace(conn_->ioc);
        conn_->plain->expires_after(std::chrono::seconds(10));
        conn_->plain->connect(endpoint, ec);
      }
      if (ec) {
        conn_.reset();
        return HttpResult{0, "connect: " + ec.message(), {}, {}, false};
      }
    }
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, address_);
    req.set(http::field::user_agent, "neosl-test");
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty() || method == "POST" || method == "PUT") {
      req.body() = body;
      if (req[http::field::content_type].empty()) req.set(http::field::content_type, "application/json");
    }
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    if (tls_) {
      beast::get_lowest_layer(*conn_->secure).expires_after(std::chrono::seconds(30));
      http::write(*conn_->secure, req, ec);
      if (!ec) http::read(*conn_->secure, conn_->buffer, parser, ec);
    } else {
      conn_->plain->expires_after(std::chrono::seconds(30));
      http::write(*conn_->plain, req, ec);
      if (!ec) http::read(*conn_->plain, conn_->buffer, parser, ec);
    }
    if (ec) {
      conn_.reset();
      // A kept-alive connection the server closed meanwhile: retry once on a fresh one.
      if (!fresh) continue;
      return HttpResult{0, "request: " + ec.message(), {}, {}, false};
    }
    auto res = parser.release();
    HttpResult out = FromBeast(res);
    if (!out.keep_alive) conn_.reset();
    return out;
  }
  return HttpResult{0, "request failed twice", {}, {}, false};
}

HttpResult HttpClient::Get(const std::string& target, const std::string& bearer) {
  if (bearer.empty()) return Request("GET", target);
  return Request("GET", target, "", {{"Authorization", "Bearer " + bearer}});
}

HttpResult HttpClient::Post(const std::string& target, const std::string& body, const std::string& bearer) {
  if (bearer.empty()) return Request("POST", target, body);
  return Request("POST", target, body, {{"Authorization", "Bearer " + bearer}});
}

HttpResult HttpClient::Delete(const std::string& target, const std::string& bearer) {
  if (bearer.empty()) return Request("DELETE", target);
  return Request("DELETE", target, "", {{"Authorization", "Bearer " + bearer}});
}

struct RawConnection::Impl {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
};

RawConnection::RawConnection(const std::string& address) : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  impl_->stream.expires_after(std::chrono::seconds(10));
  impl_->stream.connect(ParseEndpoint(address), ec);
  impl_->connected = !ec;
}

RawConnection::~RawConnection() = default;

bool RawConnection::connected() const {
  return impl_->connected;
}

bool RawConnection::Send(const std::string& bytes) {
  beast::error_code ec;
  impl_->stream.expires_after(std::chrono::seconds(10));
  net::write(impl_->stream, net::buffer(bytes), ec);
  return !ec;
}

HttpResult RawConnection::ReadResponse(std::chrono::milliseconds timeout) {
  beast::error_code ec;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  impl_->stream.expires_after(timeout);
  http::read(impl_->stream, impl_->buffer, parser, ec);
  if (ec) return HttpResult{0, ec.message(), {}, {}, false};
  auto res = parser.release();
  return FromBeast(res);
}

bool RawConnection::WaitForClose(std::chrono::milliseconds timeout) {
  impl_->stream.expires_after(timeout);
  char buf[4096];
  while (true) {
    beast::error_code ec;
    impl_->stream.read_some(net::buffer(buf), ec);
    if (ec == beast::error::timeout) return false;
    if (ec) return true;  // EOF or reset: the server closed it
  }
}

}  // namespace neosl::testing
