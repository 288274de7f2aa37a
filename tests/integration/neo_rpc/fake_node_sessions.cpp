// The fake node's network side: accepting, HTTP(S) JSON-RPC sessions, WebSocket sessions that
// answer subscribe/unsubscribe and receive announcements.
#include <deque>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include "integration/neo_rpc/fake_node_impl.h"

namespace neosl::testing {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {
constexpr const char* kCloseMarker = "\x01close";

struct Subscription {
  std::string id;
  std::string stream;
  json::value filter;
};

}  // namespace

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(FakeNodeImpl& node, tcp::socket socket) : node_(node), ws_(std::move(socket)) {
    node_.sessions_open.fetch_add(1);
  }
  ~WsSession() { node_.sessions_open.fetch_sub(1); }

  void Accept(http::request<http::string_body> req) {
    ws_.text(true);
    ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
      if (ec) return;
      self->node_.sessions.push_back(self);
      self->Read();
    });
  }

  void Send(std::string frame) {
    queue_.push_back(std::move(frame));
    if (!writing_) WriteNext();
  }
  void Kill() {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  bool Wants(const std::string& stream, const json::value& p) const {
    for (const auto& s : subs_) {
      if (s.stream != stream) continue;
      const json::value& f = s.filter;
      bool ok = true;
      if (stream == "block_added") {
        if (Num(f, "primary") >= 0) ok = ok && Num(p, "primary") == Num(f, "primary");
        if (Num(f, "since") >= 0) ok = ok && Num(p, "index") >= Num(f, "since");
        if (Num(f, "till") >= 0) ok = ok && Num(p, "index") <= Num(f, "till");
      } else if (stream == "transaction_added") {
        const json::value* signers = Get(p, "signers");
        const json::array* a = signers ? signers->if_array() : nullptr;
        if (!Str(f, "sender").empty())
          ok = ok && a && !a->empty() && Norm(Str(a->front(), "account")) == Norm(Str(f, "sender"));
        if (!Str(f, "signer").empty()) {
          bool any = false;
          for (const auto& sg : a ? *a : json::array{}) any = any || Norm(Str(sg, "account")) == Norm(Str(f, "signer"));
          ok = ok && any;
        }
      } else if (stream == "transaction_executed") {
        if (!Str(f, "state").empty()) ok = ok && Str(p, "vmstate") == Str(f, "state");
        if (!Str(f, "container").empty()) ok = ok && Norm(Str(p, "container")) == Norm(Str(f, "container"));
      } else if (stream == "notification_from_execution") {
        if (!Str(f, "contract").empty()) ok = ok && Norm(Str(p, "contract")) == Norm(Str(f, "contract"));
        if (!Str(f, "name").empty()) ok = ok && Str(p, "eventname") == Str(f, "name");
      }
      if (ok) return true;
    }
    return false;
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return;
      self->OnMessage(beast::buffers_to_string(self->buffer_.data()));
      self->buffer_.consume(self->buffer_.size());
      self->Read();
    });
  }

  void OnMessage(const std::string& text) {
    error_code ec;
    json::value req = json::parse(text, ec);
    if (ec) return;
    std::string method = Str(req, "method");
    const json::value* pv = Get(req, "params");
    json::array params = pv && pv->is_array() ? pv->get_array() : json::array{};
    json::object res{{"jsonrpc", "2.0"}, {"id", Get(req, "id") ? *Get(req, "id") : json::value()}};
    std::lock_guard lock(node_.mu);
    node_.requests[method].push_back(params);
    node_.requested.notify_all();
    if (method == "subscribe" && !params.empty() && params[0].is_string()) {
      ++node_.subscribes;
      char id[16];
      std::snprintf(id, sizeof id, "%08x", ++node_.sub_counter);
      subs_.push_back({id, std::string(params[0].get_string()), params.size() > 1 ? params[1] : json::value()});
      res["result"] = id;
    } else if (method == "unsubscribe" && !params.empty() && params[0].is_string()) {
      ++node_.unsubscribes;
      std::erase_if(subs_, [&](const Subscription& s) { return s.id == params[0].get_string(); });
      res["result"] = true;
    } else {
      res["error"] = json::object{{"code", -32601}, {"message", "Method not found"}};
    }
    Send(json::serialize(res));
  }

  void WriteNext() {
    if (queue_.empty()) {
      writing_ = false;
      return;
    }
    if (queue_.front() == kCloseMarker) {  // cut the connection, no close handshake
      queue_.clear();
      writing_ = false;
      return Kill();
    }
    writing_ = true;
    ws_.async_write(net::buffer(queue_.front()), [self = shared_from_this()](error_code ec, size_t) {
      if (ec) {
        self->queue_.clear();
        self->writing_ = false;
        return;
      }
      self->queue_.pop_front();
      self->WriteNext();
    });
  }

  FakeNodeImpl& node_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  std::vector<Subscription> subs_;
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <typename Stream>
class HttpSession : public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(FakeNodeImpl& node, Stream stream)
      : node_(node), stream_(std::move(stream)), timer_(stream_.get_executor()) {}

  void Start() {
    if constexpr (kTls) {
      stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
        if (!ec) self->Read();
      });
    } else {
      Read();
    }
  }

 private:
  void Read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_, [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec) return self->Close();
      self->OnRequest();
    });
  }

  void OnRequest() {
    if (websocket::is_upgrade(req_)) {
      bool available;
      {
        std::lock_guard lock(node_.mu);
        available = node_.ws_available;
      }
      if constexpr (!kTls) {
        if (available && req_.target() == "/ws") {
          auto ws = std::make_shared<WsSession>(node_, stream_.release_socket());
          return ws->Accept(std::move(req_));
        }
      }
      res_ = {http::status::service_unavailable, req_.version()};
      res_.keep_alive(false);
      res_.prepare_payload();
      return Write();
    }
    std::chrono::milliseconds delay{0};
    auto [body, drop] = node_.Handle(req_.body(), &delay);
    if (drop) return Close();
    res_ = {http::status::ok, req_.version()};
    res_.set(http::field::content_type, "application/json");
    res_.keep_alive(req_.keep_alive());
    res_.body() = std::move(body);
    res_.prepare_payload();
    if (delay.count() == 0) return Write();
    timer_.expires_after(delay);
    timer_.async_wait([self = this->shared_from_this()](error_code) { self->Write(); });
  }

  void Write() {
    http::async_write(stream_, res_, [self = this->shared_from_this()](error_code ec, size_t) {
      if (ec || !self->res_.keep_alive()) return self->Close();
      self->Read();
    });
  }

  void Close() {
    error_code ignored;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  FakeNodeImpl& node_;
  Stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

void FakeNodeImpl::Accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec) return;
    accepted.fetch_add(1);
    if (tls) {
      std::make_shared<HttpSession<TlsStream>>(*this, TlsStream(std::move(socket), *tls))->Start();
    } else {
      std::make_shared<HttpSession<beast::tcp_stream>>(*this, beast::tcp_stream(std::move(socket)))->Start();
    }
    Accept();
  });
}

void FakeNodeImpl::Announce(const std::vector<std::pair<std::string, json::value>>& events,
                            neosl::testing::Announce mode) {
  auto frame = [](const std::string& method, const json::value& payload) {
    return json::serialize(json::object{{"jsonrpc", "2.0"}, {"method", method}, {"params", json::array{payload}}});
  };
  std::erase_if(sessions, [](const auto& w) { return w.expired(); });
  for (const auto& weak : sessions) {
    auto s = weak.lock();
    std::vector<std::string> frames;
    for (const auto& [method, payload] : events) {
      if (s->Wants(method, payload)) frames.push_back(frame(method, payload));
    }
    size_t third = frames.size() / 3;
    for (size_t i = 0; i < frames.size(); ++i) {
      if (mode == Announce::kNone) break;
      if (mode == Announce::kHalfThenDrop && i == frames.size() / 2) {
        s->Send(kCloseMarker);
        break;
      }
      if (mode == Announce::kSkipThenMissed && i >= third && i < 2 * third) continue;  // dropped
      if (mode == Announce::kSkipThenMissed && i == 2 * third) {
        s->Send(R"({"jsonrpc":"2.0","method":"event_missed","params":[]})");
      }
      s->Send(frames[i]);
    }
  }
}

void FakeNode::DropWebSockets() {
  net::post(impl_->ioc, [this] {
    for (const auto& w : impl_->sessions) {
      if (auto s = w.lock()) s->Kill();
    }
  });
}

}  // namespace neosl::testing
