#include "unit/net/test_server.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace neosl::net::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::string ReceivedRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (LowerCopy(n) == LowerCopy(name)) return v;
  }
  return "";
}

bool ReceivedRequest::HasHeader(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return LowerCopy(h.first) == LowerCopy(name); });
}

Reply Respond(int status, std::string_view reason, std::string_view body,
              const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return Reply{.pieces = {out}};
}

Reply Redirect(int status, std::string_view location) {
  return Respond(status, "Redirect", "moved", {{"Location", std::string(location)}});
}

struct TestServer::Impl {
  Impl(Handler h, const std::string& address, const std::string& cert_dir) : handler(std::move(h)) {
    if (!cert_dir.empty()) {
      tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      tls->use_certificate_chain_file(cert_dir + "/cert.pem");
      tls->use_private_key_file(cert_dir + "/key.pem", asio::ssl::context::pem);
    }
    tcp::endpoint endpoint(asio::ip::make_address(address), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (ec) co_return;
      asio::co_spawn(ioc, Session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    if (!tls) {
      co_await Serve(socket);
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwait);
    if (ec) {
      std::lock_guard lock(mu);
      ++handshakes_failed;
      co_return;
    }
    co_await Serve(stream);
    co_await stream.async_shutdown(kAwait);  // close_notify both ways, or the client's close
  }

  template <typename Stream>
  asio::awaitable<void> Serve(Stream& stream) {
    beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(16u << 20);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAwait);
    if (ec) co_return;
    const auto& msg = parser.get();
    ReceivedRequest request{
        .method = std::string(msg.method_string()), .target = std::string(msg.target()), .body = msg.body()};
    for (const auto& field : msg) request.headers.emplace_back(field.name_string(), field.value());
    {
      std::lock_guard lock(mu);
      received.push_back(request);
    }
    Reply reply = handler(request);
    for (const std::string& piece : reply.pieces) {
      auto [wec, written] = co_await asio::async_write(stream, asio::buffer(piece), kAwait);
      if (wec) co_return;
    }
    if (reply.stall) {
      // Ends only when the server stops (the io_context is stopped and this frame destroyed).
      asio::steady_timer forever(ioc, std::chrono::hours(1));
      co_await forever.async_wait(kAwait);
    }
  }

  Handler handler;
  std::unique_ptr<asio::ssl::context> tls;  // outlives the io_context and its sessions
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  mutable std::mutex mu;
  std::vector<ReceivedRequest> received;
  int handshakes_failed = 0;
};

TestServer::TestServer(Handler handler, const std::string& address, const std::string& cert_dir)
    : impl_(std::make_unique<Impl>(std::move(handler), address, cert_dir)) {
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

TestServer::~TestServer() {
  impl_->ioc.stop();
  impl_->thread.join();
  // Destroying the io_context destroys the suspended sessions, closing their sockets.
}

std::string TestServer::Url(std::string_view path) const {
  std::string host = impl_->acceptor.local_endpoint().address().to_string();
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(port_) + std::string(path);
}

std::vector<ReceivedRequest> TestServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

int TestServer::handshakes_failed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->handshakes_failed;
}

}  // namespace neosl::net::testing
