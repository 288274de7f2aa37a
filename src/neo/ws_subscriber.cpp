// WsSubscriber: neo-go's WebSocket notification protocol (docs/notifications.md in neo-go).
//
//   → {"jsonrpc":"2.0","method":"subscribe","params":["block_added"],"id":1}
//   ← {"jsonrpc":"2.0","id":1,"result":"55aaff00"}
//   ← {"jsonrpc":"2.0","method":"block_added","params":[{…verbose block…}]}
//   ← {"jsonrpc":"2.0","method":"event_missed","params":[]}
//
// block_added is always subscribed to (without a filter) because it closes each block: the
// events received since the previous block_added belong to this one. A block is delivered
// from the stream only when it directly follows the last delivered one and nothing was missed
// on the way; otherwise (a reconnect, event_missed, a gap) it is rebuilt over JSON-RPC.
#include "neo/ws_subscriber.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/log.h"
#include "neo/subscriber_loop.h"
#include "neo/tls_client.h"

namespace neosl::neo {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// Events received for the block in progress, in stream order.
struct LiveExecution {
  UInt256 container;
  ExecutionResult execution;
};
struct LiveNotification {
  UInt256 container;
  ContractNotification notification;
};
using LiveEvent = std::variant<LiveExecution, LiveNotification, TransactionInfo>;

StatusOr<UInt256> ContainerOf(const json::value& payload) {
  const auto* o = payload.if_object();
  const json::value* c = o ? o->if_contains("container") : nullptr;
  if (c == nullptr || !c->is_string()) return InternalError("event has no container hash");
  return UInt256::Parse(c->get_string());
}

}  // namespace

struct WsSubscriber::Impl : SubscriberLoop {
  WsSubscriberOptions opts;
  EndpointUrl url;
  BlockEventCollector collector;
  RandomSource& random;
  std::optional<ssl::context> tls;

  // Worker thread only.
  net::io_context ioc;
  std::optional<uint32_t> next;  // the next block to deliver
  std::vector<LiveEvent> pending;
  bool tainted = false;    // events of the block in progress may be missing
  bool caught_up = false;  // this session's subscriptions are in place and the backlog delivered
  size_t awaiting_subscriptions = 0;
  std::vector<std::string> subscription_ids;
  std::vector<std::string> outgoing;  // frames being written while closing
  bool closing = false;

  Impl(WsSubscriberOptions o, EndpointUrl u, RpcClient& rpc, RandomSource& r)
      : opts(std::move(o)), url(std::move(u)), collector(rpc, opts.subscriptions), random(r) {
    if (opts.start_index) next = *opts.start_index;
  }

  bool Stopping() {
    std::lock_guard lock(mu);
    return stopping;
  }

  void RunUntil(const bool& done) {
    ioc.restart();
    while (!done && ioc.run_one() > 0) {
    }
  }

  // ---- Delivery -------------------------------------------------------------------------------

  void Hand(const std::vector<ChainEvent>& events, uint32_t index) {
    for (const auto& e : events) Dispatch(e, *handler);
    next = index + 1;
    last.store(index);
  }

  Status DeliverFromRpc(uint32_t from, uint32_t to) {
    for (uint32_t i = from; i <= to; ++i) {
      if (Stopping()) return CancelledError("stopping");
      ASSIGN_OR_RETURN(auto events, collector.Collect(i));
      Hand(events, i);
    }
    return Status::Ok();
  }

  // Delivers every block the node has that was not delivered yet.
  Status CatchUp() {
    ASSIGN_OR_RETURN(uint32_t count, collector.rpc().GetBlockCount());
    if (!next) next = count;  // start with the block after the current tip
    if (*next < count) RETURN_IF_ERROR(DeliverFromRpc(*next, count - 1));
    return Status::Ok();
  }

  // Live notifications carry no index: it is their position in the container's application log.
  struct LogCursor {
    std::vector<ContractNotification> notifications;
    size_t position = 0;
  };

  StatusOr<uint32_t> IndexOf(const LiveNotification& n, std::map<UInt256, LogCursor>& cursors) {
    auto [it, fresh] = cursors.try_emplace(n.container);
    LogCursor& c = it->second;
    if (fresh) {
      ASSIGN_OR_RETURN(ApplicationLog log, collector.rpc().GetApplicationLog(n.container));
      for (std::string_view phase : {"OnPersist", "", "PostPersist"}) {  // "": a transaction's
        for (const auto& e : log.executions) {
          bool block_phase = e.trigger == "OnPersist" || e.trigger == "PostPersist";
          if (phase.empty() ? block_phase : e.trigger != phase) continue;
          c.notifications.insert(c.notifications.end(), e.notifications.begin(), e.notifications.end());
        }
      }
    }
    for (size_t k = c.position; k < c.notifications.size(); ++k) {
      const auto& candidate = c.notifications[k];
      if (candidate.contract == n.notification.contract && candidate.event_name == n.notification.event_name &&
          candidate.state.json() == n.notification.state.json()) {
        c.position = k + 1;
        return static_cast<uint32_t>(k);
      }
    }
    return InternalError("notification from the stream is not in the application log of " + n.container.ToString());
  }

  Status DeliverLive(BlockInfo block) {
    const Subscriptions& s = collector.subscriptions();
    std::vector<ChainEvent> events;
    std::map<UInt256, LogCursor> cursors;
    const uint32_t index = block.index;
    for (auto& ev : pending) {
      if (auto* e = std::get_if<LiveExecution>(&ev)) {
        if (s.executions && Matches(*s.executions, e->container, e->execution)) {
          events.emplace_back(ExecutionEvent{index, e->container, std::move(e->execution)});
        }
      } else if (auto* n = std::get_if<LiveNotification>(&ev)) {
        if (!s.notifications || !Matches(*s.notifications, n->notification)) continue;
        ASSIGN_OR_RETURN(uint32_t position, IndexOf(*n, cursors));
        events.emplace_back(NotificationEvent{index, n->container, position, std::move(n->notification)});
      } else {
        auto& tx = std::get<TransactionInfo>(ev);
        if (s.transactions && Matches(*s.transactions, tx)) {
          events.emplace_back(TransactionEvent{index, block.hash, std::move(tx)});
        }
      }
    }
    if (s.blocks && Matches(*s.blocks, block)) events.emplace_back(BlockEvent{std::move(block)});
    pending.clear();
    Hand(events, index);
    return Status::Ok();
  }

  Status OnBlockAdded(const json::value& payload) {
    ASSIGN_OR_RETURN(BlockInfo block, ParseBlockInfo(payload));
    // Before the backlog is delivered, and for blocks already delivered, the stream is stale.
    if (!caught_up || block.index < *next) {
      pending.clear();
      tainted = false;
      return Status::Ok();
    }
    if (block.index > *next || tainted) {
      // Blocks in between were missed, or this one is incomplete: rebuild them from JSON-RPC.
      uint32_t to = tainted ? block.index : block.index - 1;
      RETURN_IF_ERROR(DeliverFromRpc(*next, to));
      if (tainted) {
        pending.clear();
        tainted = false;
        return Status::Ok();
      }
    }
    return DeliverLive(std::move(block));
  }

  Status OnEvent(std::string_view method, const json::value& payload) {
    if (method == "event_missed") {
      log::Warn("chain stream missed events; catching up over JSON-RPC");
      pending.clear();
      tainted = true;
      return caught_up ? CatchUp() : Status::Ok();
    }
    if (method == "block_added") return OnBlockAdded(payload);
    if (method == "transaction_executed") {
      ASSIGN_OR_RETURN(UInt256 container, ContainerOf(payload));
      ASSIGN_OR_RETURN(ExecutionResult e, ParseExecution(payload));
      pending.emplace_back(LiveExecution{container, std::move(e)});
    } else if (method == "notification_from_execution") {
      ASSIGN_OR_RETURN(UInt256 container, ContainerOf(payload));
      ASSIGN_OR_RETURN(ContractNotification n, ParseNotification(payload));
      pending.emplace_back(LiveNotification{container, std::move(n)});
    } else if (method == "transaction_added") {
      ASSIGN_OR_RETURN(TransactionInfo tx, ParseTransactionInfo(payload));
      pending.emplace_back(std::move(tx));
    }
    return Status::Ok();  // other events (mempool, notary) are not ours
  }

  Status OnMessage(std::string_view text) {
    error_code ec;
    json::value v = json::parse(text, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    if (o == nullptr) return InternalError("chain stream sent a frame that is not a JSON object");
    if (const json::value* m = o->if_contains("method"); m && m->is_string()) {
      const json::value* params = o->if_contains("params");
      const json::array* a = params ? params->if_array() : nullptr;
      static const json::value kNull;
      return OnEvent(m->get_string(), a && !a->empty() ? a->front() : kNull);
    }
    // A response to one of our subscribe (or, while closing, unsubscribe) requests.
    ASSIGN_OR_RETURN(json::value result, ParseRpcResponse(text));
    if (awaiting_subscriptions == 0) return Status::Ok();
    if (!result.is_string()) return InternalError("subscribe answered no subscription id");
    subscription_ids.emplace_back(result.get_string());
    if (--awaiting_subscriptions == 0) {
      // Everything announced from now on reaches us; what came before is on chain already.
      RETURN_IF_ERROR(CatchUp());
      caught_up = true;
    }
    return Status::Ok();
  }

  // ---- Connection -----------------------------------------------------------------------------

  template <typename Ws>
  Status Connect(Ws& ws) {
    const auto deadline = std::chrono::steady_clock::now() + opts.connect_timeout;
    auto& lowest = beast::get_lowest_layer(ws);
    tcp::resolver resolver(ioc);
    net::steady_timer timer(ioc, deadline);
    error_code ec;
    bool done = false, timed_out = false;
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(url.host, url.port, [&](error_code e, tcp::resolver::results_type r) {
      ec = e;
      endpoints = std::move(r);
      done = true;
      timer.cancel();
    });
    timer.async_wait([&](error_code e) {
      if (!e) {
        timed_out = true;
        resolver.cancel();
      }
    });
    RunUntil(done);
    timer.cancel();
    ioc.restart();
    ioc.poll();  // let the cancelled timer's handler run before `timer` goes away
    if (timed_out || ec)
      return UnavailableError("resolving " + url.host + ": " + (timed_out ? "timed out" : ec.message()));

    auto step = [&](auto start) -> error_code {
      bool finished = false;
      error_code result;
      lowest.expires_at(deadline);
      start([&](error_code e, auto&&...) {
        result = e;
        finished = true;
      });
      RunUntil(finished);
      return result;
    };
    std::string where = url.host + ":" + url.port;
    if (auto e = step([&](auto h) { lowest.async_connect(endpoints, h); })) {
      return UnavailableError("connecting to " + where + ": " + e.message());
    }
    if constexpr (std::is_same_v<Ws, TlsWs>) {
      SSL_set_tlsext_host_name(ws.next_layer().native_handle(), url.host.c_str());
      ws.next_layer().set_verify_callback(ssl::host_name_verification(url.host));
      if (auto e = step([&](auto h) { ws.next_layer().async_handshake(ssl::stream_base::client, h); })) {
        return UnavailableError("TLS handshake with " + where + ": " + e.message());
      }
    }
    lowest.expires_never();
    websocket::stream_base::timeout t{opts.connect_timeout, opts.idle_timeout, /*keep_alive_pings=*/true};
    ws.set_option(t);
    ws.read_message_max(64u << 20);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::user_agent, "neosl"); }));
    bool finished = false;
    ws.async_handshake(where, url.target, [&](error_code e) {
      ec = e;
      finished = true;
    });
    RunUntil(finished);
    if (ec) return UnavailableError("WebSocket handshake with " + where + url.target + ": " + ec.message());
    return Status::Ok();
  }

  template <typename Ws>
  Status Write(Ws& ws, const std::string& text) {
    bool done = false;
    error_code ec;
    ws.async_write(net::buffer(text), [&](error_code e, size_t) {
      ec = e;
      done = true;
    });
    RunUntil(done);
    if (ec) return UnavailableError("WebSocket write: " + ec.message());
    return Status::Ok();
  }

  // Posted by Stop(): unsubscribes, then closes with the WebSocket close handshake; the pending
  // read then ends. One write at a time, as Beast requires, alongside the one read.
  template <typename Ws>
  void CloseGracefully(Ws& ws, size_t i = 0) {
    if (i == 0) {
      if (closing) return;
      closing = true;
      outgoing.clear();
      for (size_t k = 0; k < subscription_ids.size(); ++k) {
        json::object req{{"jsonrpc", "2.0"},
                         {"method", "unsubscribe"},
                         {"params", json::array{subscription_ids[k]}},
                         {"id", 1000 + k}};
        outgoing.push_back(json::serialize(req));
      }
    }
    if (i < outgoing.size()) {
      ws.async_write(net::buffer(outgoing[i]), [this, &ws, i](error_code ec, size_t) {
        if (ec) return beast::get_lowest_layer(ws).close();
        CloseGracefully(ws, i + 1);
      });
      return;
    }
    ws.async_close(websocket::close_code::normal, [&ws](error_code ec) {
      if (ec) beast::get_lowest_layer(ws).close();
    });
  }

  template <typename Ws>
  Status Session(Ws& ws) {
    pending.clear();
    tainted = caught_up = closing = false;
    subscription_ids.clear();
    bool subscribed = false;
    {
      std::lock_guard lock(mu);
      if (stopping) return CancelledError("stopping");
      // Until subscribed, Stop() just cuts the connection; after, it closes it properly.
      interrupt = [this, &ws, &subscribed] {
        net::post(ioc, [this, &ws, &subscribed] {
          if (subscribed && ws.is_open()) return CloseGracefully(ws);
          beast::get_lowest_layer(ws).close();
        });
      };
    }
    Status s = Stream(ws, subscribed);
    {
      std::lock_guard lock(mu);
      interrupt = nullptr;
    }
    // Cancelling the socket completes every pending operation; run their handlers while `ws` is
    // alive. (Beast's idle timer is left: it goes with `ws`, see Run.)
    beast::get_lowest_layer(ws).close();
    ioc.restart();
    ioc.poll();
    return s;
  }

  // Connects, subscribes, catches up, then reads the stream until it ends or Stop() closes it.
  template <typename Ws>
  Status Stream(Ws& ws, bool& subscribed) {
    RETURN_IF_ERROR(Connect(ws));
    auto requests = SubscribeRequests(collector.subscriptions());
    awaiting_subscriptions = requests.size();
    for (size_t i = 0; i < requests.size(); ++i) {
      json::object req{{"jsonrpc", "2.0"}, {"method", "subscribe"}, {"params", std::move(requests[i])}, {"id", i + 1}};
      RETURN_IF_ERROR(Write(ws, json::serialize(req)));
    }
    subscribed = true;
    if (Stopping()) CloseGracefully(ws);
    log::Info("chain stream connected", {{"url", opts.url}});

    beast::flat_buffer buffer;
    for (;;) {
      bool done = false;
      error_code ec;
      ws.async_read(buffer, [&](error_code e, size_t) {
        ec = e;
        done = true;
      });
      RunUntil(done);
      if (ec == websocket::error::closed || (ec && Stopping())) return Status::Ok();
      if (ec) return UnavailableError("chain stream: " + ec.message());
      std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      // Once stopping, only the close handshake is awaited; nothing more is delivered.
      if (!Stopping()) RETURN_IF_ERROR(OnMessage(text));
    }
  }

  void Run() {
    int failures = 0;
    while (!Stopping()) {
      Status s;
      if (url.tls) {
        TlsWs ws(ioc, *tls);
        s = Session(ws);
      } else {
        PlainWs ws(ioc);
        s = Session(ws);
      }
      ioc.restart();
      ioc.run();  // the destroyed stream's timer wait ends at once
      if (Stopping()) break;
      if (s.ok()) s = UnavailableError("chain stream closed by the node");
      failures = caught_up ? 1 : failures + 1;  // a session that worked resets the backoff
      auto delay = RetryDelay(opts.retry, failures, random);
      log::Warn("chain stream lost", {{"error", s.ToString()}, {"retry_ms", static_cast<int64_t>(delay.count())}});
      handler->OnError(s);
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, delay, [&] { return stopping; })) break;
    }
  }
};

StatusOr<std::unique_ptr<WsSubscriber>> WsSubscriber::Create(WsSubscriberOptions options, RpcClient& rpc,
                                                             RandomSource& random) {
  ASSIGN_OR_RETURN(EndpointUrl url, ParseEndpointUrl(options.url));
  if (url.scheme != "ws" && url.scheme != "wss")
    return InvalidArgumentError("WsSubscriber needs a ws:// or wss:// URL");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(url), rpc, random);
  if (impl->url.tls) {
    impl->tls.emplace(ssl::context::tls_client);
    RETURN_IF_ERROR(ConfigureVerifyingClient(*impl->tls, impl->opts.ca_file));
  }
  return std::unique_ptr<WsSubscriber>(new WsSubscriber(std::move(impl)));
}

WsSubscriber::WsSubscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsSubscriber::~WsSubscriber() {
  Stop();
}

Status WsSubscriber::Start(ChainEventHandler& handler) {
  return impl_->StartThread(handler, impl_->collector.rpc(), impl_->next, [this] { impl_->Run(); });
}

void WsSubscriber::Stop() {
  impl_->StopThread();
}

std::optional<uint32_t> WsSubscriber::last_delivered() const {
  return impl_->LastDelivered();
}

}  // namespace neosl::neo
