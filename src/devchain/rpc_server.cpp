// The devchain's network side: a Beast listener on one port serving JSON-RPC over HTTP/1.1 (POST
// on any path, as neo-cli; GET ?method=&params=&id= as well) and WebSocket on /ws, where clients
// call methods and subscribe to neo-go's event streams.
//
// Threads: `threads` io threads run every session, each on its own strand; methods call the
// chain directly (it is thread-safe). Block events arrive on the chain's thread, which only
// posts them to the clients' strands: a slow client's queue is bounded, and overflowing it
// drops what is queued and sends neo-go's event_missed instead.
#include "devchain/rpc_server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.h"
#include "core/random.h"
#include "devchain/rpc_internal.h"

namespace neosl::devchain {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// neo-go's notificationBufSize: events a client may have queued before it misses some.
constexpr size_t kMaxQueuedEvents = 1024;
constexpr auto kHttpIdleTimeout = std::chrono::seconds(60);
constexpr auto kCloseTimeout = std::chrono::seconds(1);
constexpr auto kStopGrace = std::chrono::seconds(3);

// The node's P2P nonce stand-in: random, fixed for the life of the process (as LocalNode.Nonce).
uint32_t ProcessNonce() {
  static const uint32_t nonce = static_cast<uint32_t>(SecureRandom::Instance().NextU64());
  return nonce;
}

class Session {
 public:
  virtual ~Session() = default;
  // Closes the connection (a WebSocket with the close handshake); safe from any thread.
  virtual void Shutdown() = 0;
};

class WsSession;

// What the chain's listener and the sessions share; it outlives the server's io_context so that
// a block announced while stopping finds no session rather than a destroyed one.
struct Hub {
  std::mutex mu;
  bool stopped = false;
  std::vector<std::weak_ptr<Session>> sessions;
  std::vector<std::weak_ptr<WsSession>> ws;
  std::atomic<int> ws_count{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> calls{0};  // JSON-RPC calls answered (a batch counts each)

  void Track(const std::shared_ptr<Session>& s) {
    std::lock_guard lock(mu);
    std::erase_if(sessions, [](const auto& w) { return w.expired(); });
    sessions.push_back(s);
  }
};

std::string TraceId(Hub& hub) {
  return "rpc-" + std::to_string(hub.requests.fetch_add(1) + 1);
}

void LogCalls(std::string_view transport, const std::vector<rpc::CallSummary>& calls,
              std::chrono::steady_clock::time_point started) {
  std::string methods;
  int64_t code = 0;
  for (const auto& c : calls) {
    if (!methods.empty()) methods += ",";
    methods += c.method.empty() ? "?" : c.method;
    if (code == 0) code = c.error_code;
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  // Successful calls at debug (a subscriber polls several times a second); refusals at info.
  if (code == 0 && !log::Enabled(log::Level::kDebug)) return;
  (code == 0 ? log::Debug : log::Info)("rpc request", {{"transport", transport},
                                                       {"method", methods},
                                                       {"error_code", code},
                                                       {"duration_us", static_cast<int64_t>(us.count())}});
}

// ---- WebSocket --------------------------------------------------------------------------------

class WsSession final : public Session, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket socket, std::shared_ptr<Hub> hub, const rpc::MethodContext& ctx, size_t max_message)
      : ws_(std::move(socket)), hub_(std::move(hub)), ctx_(ctx) {
    hub_->ws_count.fetch_add(1);
    ws_.read_message_max(max_message);
  }
  ~WsSession() override { hub_->ws_count.fetch_sub(1); }

  void Accept(const http::request<http::string_body>& req) {
    ws_.text(true);
    ws_.set_option(websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(60), true});
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, std::string(kUserAgent)); }));
    ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
      if (ec) return;
      {
        std::lock_guard lock(self->hub_->mu);
        if (self->hub_->stopped) return self->Close();
        self->hub_->ws.push_back(self);
      }
      self->Read();
    });
  }

  // Chain thread: hands a block's events over to this client's strand.
  void Deliver(std::shared_ptr<const std::vector<rpc::Event>> events) {
    net::post(ws_.get_executor(), [self = shared_from_this(), events = std::move(events)] {
      for (const auto& e : *events) {
        if (self->overflown_ || !self->table_.Wants(e)) continue;
        if (self->queued_events_ >= kMaxQueuedEvents) {
          self->Overflow();
          continue;
        }
        self->Enqueue(e.frame, Kind::kEvent);
      }
    });
  }

  void Shutdown() override {
    net::post(ws_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }

 private:
  enum class Kind { kResponse, kEvent, kMissed };
  struct Outgoing {
    std::shared_ptr<const std::string> frame;
    Kind kind;
  };

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return;  // closed, by either side, or failed: the session ends with its handlers
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->OnMessage(text);
      if (!self->closing_) self->Read();
    });
  }

  void OnMessage(const std::string& text) {
    auto started = std::chrono::steady_clock::now();
    log::ScopedTraceId trace(TraceId(*hub_));
    rpc::ExtraMethods extra = [this](std::string_view method,
                                     const json::array& params) -> std::optional<StatusOr<json::value>> {
      if (method == "subscribe") return table_.Subscribe(params);
      if (method == "unsubscribe") return table_.Unsubscribe(params);
      return std::nullopt;
    };
    std::vector<rpc::CallSummary> calls;
    auto response = rpc::HandleJsonRpc(ctx_, text, &extra, &calls);
    hub_->calls.fetch_add(calls.size());
    LogCalls("ws", calls, started);
    if (response) Enqueue(std::make_shared<const std::string>(*std::move(response)), Kind::kResponse);
  }

  // Drops the events still waiting (not the one being written) and queues event_missed; until it
  // is written, further events are not queued, as neo-go's overflown flag does.
  void Overflow() {
    overflown_ = true;
    std::deque<Outgoing> kept;
    queued_events_ = 0;
    for (size_t k = 0; k < queue_.size(); ++k) {
      bool in_flight = writing_ && k == 0;
      if (!in_flight && queue_[k].kind == Kind::kEvent) continue;
      if (queue_[k].kind == Kind::kEvent) ++queued_events_;
      kept.push_back(std::move(queue_[k]));
    }
    queue_.swap(kept);
    static const auto missed = std::make_shared<const std::string>(rpc::EventMissedFrame());
    Enqueue(missed, Kind::kMissed);
  }

  void Enqueue(std::shared_ptr<const std::string> frame, Kind kind) {
    if (closing_) return;
    if (kind == Kind::kEvent) ++queued_events_;
    queue_.push_back({std::move(frame), kind});
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (queue_.empty() || closing_) {
      writing_ = false;
      if (closing_ && !close_sent_) SendClose();
      return;
    }
    writing_ = true;
    ws_.async_write(net::buffer(*queue_.front().frame), [self = shared_from_this()](error_code ec, size_t) {
      Outgoing done = std::move(self->queue_.front());
      self->queue_.pop_front();
      if (done.kind == Kind::kEvent) --self->queued_events_;
      if (done.kind == Kind::kMissed) self->overflown_ = false;
      if (ec) {
        self->queue_.clear();
        self->writing_ = false;
        return;
      }
      self->WriteNext();
    });
  }

  void Close() {
    if (closing_) return;
    closing_ = true;
    // A peer that does not answer the close frame soon is cut off (Beast's handshake timeout
    // also bounds the closing handshake), so Stop() does not wait on it.
    ws_.set_option(websocket::stream_base::timeout{kCloseTimeout, std::chrono::seconds(60), true});
    if (!writing_) SendClose();  // else after the frame being written
  }

  void SendClose() {
    close_sent_ = true;
    ws_.async_close(websocket::close_code::going_away, [self = shared_from_this()](error_code ec) {
      if (ec) beast::get_lowest_layer(self->ws_).close();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<Hub> hub_;
  const rpc::MethodContext& ctx_;
  beast::flat_buffer buffer_;
  rpc::SubscriptionTable table_;
  std::deque<Outgoing> queue_;
  size_t queued_events_ = 0;
  bool writing_ = false;
  bool overflown_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
};

// ---- HTTP -------------------------------------------------------------------------------------

class HttpSession final : public Session, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::shared_ptr<Hub> hub, const rpc::MethodContext& ctx, const RpcServerOptions& opts)
      : stream_(std::move(socket)), hub_(std::move(hub)), ctx_(ctx), opts_(opts) {}

  void Start() { Read(); }

  void Shutdown() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(opts_.max_request_bytes);
    stream_.expires_after(kHttpIdleTimeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec == http::error::body_limit) return self->Respond(http::status::payload_too_large, "", false);
      if (ec) return self->stream_.close();
      self->OnRequest();
    });
  }

  void OnRequest() {
    auto& req = parser_->get();
    if (websocket::is_upgrade(req)) {
      std::string_view target = req.target();
      if (target.substr(0, target.find('?')) != "/ws") return Respond(http::status::not_found, "", false);
      if (hub_->ws_count.load() >= opts_.max_ws_clients) {
        return Respond(http::status::service_unavailable, "", false);
      }
      stream_.expires_never();
      auto ws = std::make_shared<WsSession>(stream_.release_socket(), hub_, ctx_, opts_.max_request_bytes);
      hub_->Track(ws);
      return ws->Accept(parser_->release());
    }
    std::string body;
    if (req.method() == http::verb::post) {
      body = req.body();
    } else if (req.method() == http::verb::get) {
      body = rpc::BodyFromQuery(req.target()).value_or("");  // none: Neo's "Bad request"
    } else {
      return Respond(http::status::method_not_allowed, "", req.keep_alive());
    }
    auto started = std::chrono::steady_clock::now();
    std::optional<std::string> answer;
    {
      log::ScopedTraceId trace(TraceId(*hub_));
      std::vector<rpc::CallSummary> calls;
      answer = rpc::HandleJsonRpc(ctx_, body, nullptr, &calls);
      hub_->calls.fetch_add(calls.size());
      LogCalls("http", calls, started);
    }
    Respond(http::status::ok, answer.value_or(""), req.keep_alive());
  }

  void Respond(http::status status, std::string body, bool keep_alive) {
    res_ = {};
    res_.result(status);
    res_.version(11);
    res_.set(http::field::server, std::string(kUserAgent));
    if (!body.empty()) res_.set(http::field::content_type, "application/json");
    res_.keep_alive(keep_alive);
    res_.body() = std::move(body);
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec || !self->res_.keep_alive()) {
        error_code ignored;
        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        return self->stream_.close();
      }
      self->Read();
    });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<Hub> hub_;
  const rpc::MethodContext& ctx_;
  const RpcServerOptions& opts_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
};

}  // namespace

// ---- The server -------------------------------------------------------------------------------

struct RpcServer::Impl {
  RpcServerOptions opts;
  Chain& chain;
  rpc::MethodContext ctx;
  std::shared_ptr<Hub> hub = std::make_shared<Hub>();
  uint64_t listener = 0;
  std::vector<std::thread> threads;
  std::mutex stop_mu;
  bool stopped = false;
  // Declared last: destroying the io_context destroys the sessions, which use the state above.
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{net::make_strand(ioc)};

  Impl(RpcServerOptions o, Chain& c) : opts(std::move(o)), chain(c), ctx{c, 0, ProcessNonce()} {}

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) {
        auto session = std::make_shared<HttpSession>(std::move(socket), hub, ctx, opts);
        hub->Track(session);
        session->Start();
      }
      Accept();
    });
  }

  static void Broadcast(Hub& hub, const BlockEvents& events) {
    std::vector<std::shared_ptr<WsSession>> clients;
    {
      std::lock_guard lock(hub.mu);
      std::erase_if(hub.ws, [](const auto& w) { return w.expired(); });
      if (hub.stopped || hub.ws.empty()) return;
    }
    auto frames = std::make_shared<const std::vector<rpc::Event>>(rpc::BlockEventsToWs(events));
    std::lock_guard lock(hub.mu);  // held while posting: Stop() waits before the io_context goes
    if (hub.stopped) return;
    for (const auto& w : hub.ws) {
      if (auto s = w.lock()) s->Deliver(frames);
    }
  }
};

StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(RpcServerOptions options, Chain& chain) {
  if (options.threads < 1) return InvalidArgumentError("RpcServer needs at least one thread");
  auto impl = std::make_unique<Impl>(std::move(options), chain);
  error_code ec;
  auto address = net::ip::make_address(impl->opts.host, ec);
  if (ec) return InvalidArgumentError("RPC host " + impl->opts.host + " is not an IP address");
  tcp::endpoint endpoint(address, impl->opts.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("RPC server cannot listen on " + impl->opts.host + ":" + std::to_string(impl->opts.port) +
                            ": " + ec.message());
  }
  impl->ctx.tcp_port = impl->acceptor.local_endpoint().port();
  std::weak_ptr<Hub> weak_hub = impl->hub;
  impl->listener = chain.Subscribe(Chain::Listener{.on_block = [weak_hub](const BlockEvents& events) {
    auto hub = weak_hub.lock();
    if (!hub) return;
    try {
      Impl::Broadcast(*hub, events);
    } catch (const std::exception& e) {
      log::Error("announcing a block to WebSocket clients failed", {{"what", e.what()}});
    }
  }});
  impl->work.emplace(impl->ioc.get_executor());
  impl->Accept();
  for (int i = 0; i < impl->opts.threads; ++i) {
    impl->threads.emplace_back([ioc = &impl->ioc] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          // A Beast/JSON exception escaping a handler must not take the node down.
          log::Error("rpc io thread caught an exception", {{"what", e.what()}});
        }
      }
    });
  }
  log::Info("devchain RPC listening",
            {{"address", impl->opts.host + ":" + std::to_string(impl->ctx.tcp_port)}, {"websocket", "/ws"}});
  return std::unique_ptr<RpcServer>(new RpcServer(std::move(impl)));
}

RpcServer::RpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Stop() can only throw std::system_error from the standard thread primitives, which is fatal
// wherever it happens.
RpcServer::~RpcServer() {  // NOLINT(bugprone-exception-escape)
  Stop();
}

uint16_t RpcServer::port() const {
  return impl_->ctx.tcp_port;
}

uint64_t RpcServer::calls_answered() const {
  return impl_->hub->calls.load();
}

void RpcServer::Stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.stop_mu);
    if (s.stopped) return;
    s.stopped = true;
  }
  s.chain.Unsubscribe(s.listener);
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(s.hub->mu);
    s.hub->stopped = true;
    for (const auto& w : s.hub->sessions) {
      if (auto p = w.lock()) sessions.push_back(std::move(p));
    }
    s.hub->sessions.clear();
    s.hub->ws.clear();
  }
  net::post(s.acceptor.get_executor(), [&s] {
    error_code ignored;
    s.acceptor.close(ignored);
  });
  for (const auto& session : sessions) session->Shutdown();
  sessions.clear();
  s.work.reset();
  // Close handshakes normally end every session at once; a peer that never answers is cut off.
  std::mutex mu;
  std::condition_variable cv;
  bool joined = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, kStopGrace, [&] { return joined; })) s.ioc.stop();
  });
  for (auto& t : s.threads) {
    if (t.joinable()) t.join();
  }
  {
    std::lock_guard lock(mu);
    joined = true;
  }
  cv.notify_all();
  watchdog.join();
  log::Info("devchain RPC stopped");
}

}  // namespace neosl::devchain
