#include "gateway/server.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "core/encoding.h"
#include "core/log.h"
#include "gateway/ws_connection.h"

namespace neosl::gateway {
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

struct SessionBase {
  virtual ~SessionBase() = default;
  virtual void OnDrain() = 0;
  // At Stop, after the event loops have stopped.
  virtual void OnStop() {}
};

std::string ErrorJson(std::string_view code, std::string_view message) {
  std::string out = "{\"error\":{\"code\":\"";
  out += code;
  out += "\",\"message\":\"";
  AppendJsonEscaped(out, message);
  out += "\",\"details\":[]}}";
  return out;
}

// The handler threads: blocking requests wait here in arrival order. Each connection has at most
// one request here (it reads the next only after answering), so the queue is bounded by
// gateway.max_connections.
class HandlerPool {
 public:
  explicit HandlerPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~HandlerPool() { Stop(); }
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  void Submit(std::function<void()> task) {
    std::lock_guard lock(mu_);
    if (stopping_) return;  // dropped: the server is stopping and closes the connection
    tasks_.push_back(std::move(task));
    cv_.notify_one();
  }

  // Lets running handlers finish, drops the queued ones (their connections close) and joins.
  void Stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      dropped.swap(tasks_);
      cv_.notify_all();
    }
    dropped.clear();  // outside the lock: a task owns its session, whose end takes other locks
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (stopping_) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions o, RequestHandler h, ServerObserver obs, UpgradeHandler u)
      : opts(std::move(o)), handler(std::move(h)), observer(std::move(obs)), upgrade(std::move(u)) {}

  void DoAccept();
  void Register(const std::shared_ptr<SessionBase>& s);
  void Unregister(SessionBase* s);

  // Declaration order matters: sessions (owned by handlers queued in `loops`) use the members
  // above `loops` when they are destroyed, so `loops` must go first (Stop also clears them).
  ServerOptions opts;
  RequestHandler handler;
  ServerObserver observer;
  UpgradeHandler upgrade;
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::optional<ssl::context> ssl_ctx;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  // One event loop per I/O thread, as nginx has one per worker: a connection lives on one loop
  // for its whole life, so its handlers never contend for a shared reactor or need a strand.
  std::vector<std::unique_ptr<net::io_context>> loops;
  size_t next_loop = 0;                   // touched only by the accept handler
  std::optional<tcp::acceptor> acceptor;  // on loops[0]
  std::vector<std::thread> threads;
  // Last, so it goes first: its tasks own sessions, which use the members above when they end.
  std::unique_ptr<HandlerPool> pool;
};

namespace {

// An HTTP connection that became a WebSocket: registered with the server for as long as the
// WebSocket connection (which owns it) lives.
class UpgradedSession final : public SessionBase, public internal::WsServerLink {
 public:
  explicit UpgradedSession(HttpServer::Impl& server) : server_(server) {}
  ~UpgradedSession() override {
    server_.Unregister(this);
    if (server_.observer.on_connection) server_.observer.on_connection(-1);
  }
  void Attach(std::weak_ptr<internal::WsConnectionControl> connection) {
    std::lock_guard lock(mu_);
    connection_ = std::move(connection);
  }
  bool draining() const override { return server_.draining; }
  void OnDrain() override {
    if (auto c = Connection()) c->Drain();
  }
  void OnStop() override {
    if (auto c = Connection()) c->Stop();
  }

 private:
  std::shared_ptr<internal::WsConnectionControl> Connection() {
    std::lock_guard lock(mu_);
    return connection_.lock();
  }
  HttpServer::Impl& server_;
  std::mutex mu_;
  std::weak_ptr<internal::WsConnectionControl> connection_;
};

template <typename Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(HttpServer::Impl& server, tcp::socket&& socket) requires(!kTls)
      : server_(server), stream_(std::move(socket)) {
    Init();
  }
  Session(HttpServer::Impl& server, tcp::socket&& socket, ssl::context& ctx) requires(kTls)
      : server_(server), stream_(std::move(socket), ctx) {
    Init();
  }

  ~Session() override {
    server_.Unregister(this);
    // A connection handed over to a WebSocket is counted by its UpgradedSession from then on.
    if (server_.observer.on_connection && !upgraded_) server_.observer.on_connection(-1);
  }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] { self->Begin(); });
  }

  void OnDrain() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->idle_) self->CloseSocket();
    });
  }

 private:
  void Init() {
    boost::system::error_code ec;
    auto& sock = beast::get_lowest_layer(stream_).socket();
    sock.set_option(tcp::no_delay(true), ec);
    auto ep = sock.remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }

  auto& Lowest() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if constexpr (kTls) {
      Lowest().expires_after(server_.opts.header_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) return self->CloseSocket();
        self->ReadRequest();
      });
    } else {
      ReadRequest();
    }
  }

  void ReadRequest() {
    if (server_.draining) return Close();
    parser_.emplace();
    parser_->body_limit(server_.opts.max_body_bytes);
    parser_->header_limit(server_.opts.max_header_bytes);
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    idle_ = true;
    Lowest().expires_after(server_.opts.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](beast::error_code ec, size_t n) {
      self->idle_ = false;
      if (ec) return self->Close();
      self->buffer_.commit(n);
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    Lowest().expires_after(server_.opts.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  bool Rejected(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      Reject(413, "RESOURCE_EXHAUSTED",
             "request body exceeds the limit of " + std::to_string(server_.opts.max_body_bytes) + " bytes");
    } else if (ec == http::error::header_limit) {
      Reject(431, "RESOURCE_EXHAUSTED",
             "request head exceeds the limit of " + std::to_string(server_.opts.max_header_bytes) + " bytes");
    } else if (ec == beast::error::timeout || ec == http::error::end_of_stream || ec == net::error::eof ||
               ec == net::error::operation_aborted || ec == net::error::connection_reset) {
      Close();
    } else {
      Reject(400, "INVALID_ARGUMENT", "malformed HTTP request: " + ec.message());
    }
    return true;
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      Rejected(ec);
      return;
    }
    auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, req.version());
      Lowest().expires_after(server_.opts.body_timeout);
      http::async_write(stream_, *continue_, [self = this->shared_from_this()](beast::error_code wec, size_t) {
        if (wec) return self->Close();
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_after(server_.opts.body_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        self->Rejected(ec);
        return;
      }
      self->Handle();
    });
  }

  void Handle() {
    auto& req = parser_->get();
    HttpRequest r;
    r.method = req.method_string();
    r.target = req.target();
    r.body = req.body();
    r.remote_address = remote_;
    r.headers.reserve(16);
    for (const auto& f : req) r.headers.emplace_back(f.name_string(), f.value());
    HttpResponse out;
    if (server_.upgrade && websocket::is_upgrade(req)) {
      if (server_.draining) {
        Write(HttpResponse{503, "application/json", ErrorJson("UNAVAILABLE", "the server is shutting down"), {}, true},
              false, req.version());
        return;
      }
      std::optional<WsAccept> accept;
      try {
        accept = server_.upgrade(r, out);
      } catch (const std::exception& e) {
        log::Error("upgrade handler threw", {{"what", e.what()}});
        out = HttpResponse{500, "application/json", ErrorJson("INTERNAL", "internal error"), {}, true};
      }
      if (accept) return Upgrade(std::move(*accept));
      bool keep = req.keep_alive() && !out.close && !server_.draining;
      Write(std::move(out), keep, req.version());
      return;
    }
    const bool keep_alive = req.keep_alive();
    const unsigned version = req.version();
    if (server_.pool && server_.opts.blocking(r)) {
      // `r` views the parser's message, which stays put until the answer is written.
      server_.pool->Submit([self = this->shared_from_this(), r = std::move(r), keep_alive, version]() mutable {
        HttpResponse answer = self->Call(r);
        auto executor = self->stream_.get_executor();
        net::post(executor, [self = std::move(self), answer = std::move(answer), keep_alive, version]() mutable {
          self->Answer(std::move(answer), keep_alive, version);
        });
      });
      return;
    }
    Answer(Call(r), keep_alive, version);
  }

  HttpResponse Call(const HttpRequest& r) {
    HttpResponse out;
    try {
      server_.handler(r, out);
    } catch (const std::exception& e) {
      // The handler reports errors as statuses; an exception here is a bug (or out of memory).
      log::Error("handler threw", {{"what", e.what()}});
      out = HttpResponse{500, "application/json", ErrorJson("INTERNAL", "internal error"), {}, false};
    }
    return out;
  }

  void Answer(HttpResponse out, bool keep_alive, unsigned version) {
    bool keep = keep_alive && !out.close && !server_.draining;
    Write(std::move(out), keep, version);
  }

  // Hands the socket to a WebSocket connection on the same event loop; this session ends when
  // the handler that called this returns.
  void Upgrade(WsAccept accept) {
    auto link = std::make_shared<UpgradedSession>(server_);
    server_.Register(link);
    upgraded_ = true;
    Lowest().expires_never();  // the WebSocket keeps its own time (ping, idle, close timeouts)
    auto connection = internal::StartWebSocket(std::move(stream_), parser_->release(), std::move(accept), link);
    link->Attach(connection);
  }

  void Reject(int status, std::string_view code, const std::string& message) {
    if (server_.observer.on_rejected) server_.observer.on_rejected(status);
    // The rest of the connection's bytes are not a request we can find the start of: close.
    Write(HttpResponse{status, "application/json", ErrorJson(code, message), {}, true}, false, 11);
  }

  void Write(HttpResponse out, bool keep_alive, unsigned version) {
    res_ = {};
    res_.version(version);
    res_.result(static_cast<unsigned>(out.status));
    res_.set(http::field::server, "neosl");
    res_.set(http::field::content_type, out.content_type);
    for (auto& [k, v] : out.headers) res_.set(k, v);
    res_.body() = std::move(out.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    Lowest().expires_after(server_.opts.body_timeout);
    http::async_write(stream_, res_, [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
      if (ec || !keep_alive) return self->Close();
      self->ReadRequest();
    });
  }

  void Close() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->CloseSocket(); });
    } else {
      boost::system::error_code ec;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
      CloseSocket();
    }
  }

  void CloseSocket() {
    boost::system::error_code ec;
    Lowest().socket().close(ec);
  }

  HttpServer::Impl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> res_;
  std::string remote_;
  bool idle_ = false;
  bool upgraded_ = false;
};

}  // namespace

void HttpServer::Impl::Register(const std::shared_ptr<SessionBase>& s) {
  std::lock_guard lock(mu);
  sessions.emplace(s.get(), s);
}

void HttpServer::Impl::Unregister(SessionBase* s) {
  std::lock_guard lock(mu);
  sessions.erase(s);
  if (sessions.empty()) cv.notify_all();
}

void HttpServer::Impl::DoAccept() {
  net::io_context& loop = *loops[next_loop++ % loops.size()];
  acceptor->async_accept(loop, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      size_t open;
      {
        std::lock_guard lock(mu);
        open = sessions.size();
      }
      if (draining || open >= size_t(opts.max_connections)) {
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        if (observer.on_connection) observer.on_connection(+1);
        std::shared_ptr<SessionBase> session;
        if (ssl_ctx) {
          auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(*this, std::move(socket), *ssl_ctx);
          session = s;
          Register(session);
          s->Run();
        } else {
          auto s = std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket));
          session = s;
          Register(session);
          s->Run();
        }
      }
    }
    DoAccept();
  });
}

Status ParseListenAddress(std::string_view text, std::string* host, uint16_t* port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgumentError("listen address '" + std::string(text) + "' must be HOST:PORT");
  }
  std::string_view h = text.substr(0, colon), p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned value = 0;
  if (p.empty() || p.size() > 5)
    return InvalidArgumentError("listen address '" + std::string(text) + "' has a bad port");
  for (char c : p) {
    if (c < '0' || c > '9') return InvalidArgumentError("listen address '" + std::string(text) + "' has a bad port");
    value = value * 10 + unsigned(c - '0');
  }
  if (value > 65535) return InvalidArgumentError("listen address '" + std::string(text) + "' has a bad port");
  *host = h == "localhost" ? "127.0.0.1" : std::string(h);
  *port = static_cast<uint16_t>(value);
  return Status();
}

HttpServer::HttpServer(ServerOptions options, RequestHandler handler, ServerObserver observer, UpgradeHandler upgrade)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(observer), std::move(upgrade))) {}

HttpServer::~HttpServer() {
  Stop();
}

StatusOr<std::string> HttpServer::Start() {
  auto& o = impl_->opts;
  std::string host;
  uint16_t port;
  RETURN_IF_ERROR(ParseListenAddress(o.listen, &host, &port));
  boost::system::error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) return InvalidArgumentError("listen address '" + o.listen + "': '" + host + "' is not an IP address");

  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
      return InvalidArgumentError("TLS needs both gateway.tls.cert_file and gateway.tls.key_file");
    }
    impl_->ssl_ctx.emplace(ssl::context::tls_server);
    auto& ctx = *impl_->ssl_ctx;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                    ec);
    ctx.use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) return InvalidArgumentError("cannot load TLS certificate chain '" + o.tls_cert_file + "': " + ec.message());
    ctx.use_private_key_file(o.tls_key_file, ssl::context::pem, ec);
    if (ec) return InvalidArgumentError("cannot load TLS private key '" + o.tls_key_file + "': " + ec.message());
  }

  int n = o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < n; ++i) impl_->loops.push_back(std::make_unique<net::io_context>(1));
  impl_->acceptor.emplace(*impl_->loops[0]);
  tcp::endpoint endpoint(address, port);
  auto& acc = *impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (ec) return UnavailableError("cannot listen on " + o.listen + ": " + ec.message());
  acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + o.listen + ": " + ec.message());
  auto bound = acc.local_endpoint(ec);
  std::string bound_text =
      bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  bound_text += ":" + std::to_string(bound.port());

  if (o.handler_threads > 0 && o.blocking) impl_->pool = std::make_unique<HandlerPool>(o.handler_threads);
  impl_->DoAccept();
  for (auto& loop : impl_->loops) {
    impl_->threads.emplace_back([l = loop.get()] {
      auto guard = net::make_work_guard(*l);  // idle loops wait for connections; Stop ends them
      l->run();
    });
  }
  return bound_text;
}

bool HttpServer::Drain(std::chrono::milliseconds timeout) {
  impl_->draining = true;
  if (impl_->loops.empty()) return true;  // never started
  net::post(*impl_->loops[0], [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor->close(ec);
  });
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [ptr, weak] : impl_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->OnDrain();
  live.clear();
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [this] { return impl_->sessions.empty(); });
}

void HttpServer::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->draining = true;
  for (auto& loop : impl_->loops) loop->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  // Handlers still running finish (their answers go to loops that no longer run); the rest are
  // dropped with their connections.
  if (impl_->pool) impl_->pool->Stop();
  // WebSockets still open end here, on this thread (their handlers stop what feeds them), while
  // the loops that own them still exist.
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [ptr, weak] : impl_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->OnStop();
  live.clear();
  boost::system::error_code ec;
  if (impl_->acceptor) impl_->acceptor->close(ec);
  // Destroy the acceptor, then each loop with the sessions its queued handlers still own, while
  // the registry they unregister from is alive.
  impl_->acceptor.reset();
  impl_->loops.clear();
}

}  // namespace neosl::gateway
