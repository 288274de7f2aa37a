#include "gateway/ws_connection.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "core/log.h"

namespace neosl::gateway::internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;

template <typename Stream>
class WsConnection final : public WsConnectionControl,
                           public WsOutput,
                           public std::enable_shared_from_this<WsConnection<Stream>> {
 public:
  WsConnection(Stream&& stream, HttpUpgradeRequest&& request, WsAccept accept, std::shared_ptr<WsServerLink> link)
      : ws_(std::move(stream)),
        request_(std::move(request)),
        handler_(std::move(accept.handler)),
        subprotocol_(std::move(accept.subprotocol)),
        headers_(std::move(accept.headers)),
        limits_(accept.limits),
        link_(std::move(link)) {}

  void Run() {
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = limits_.close_timeout;
    timeout.idle_timeout = limits_.idle_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(limits_.max_message_bytes);
    ws_.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
      res.set(http::field::server, "neosl");
      if (!subprotocol_.empty()) res.set(http::field::sec_websocket_protocol, subprotocol_);
      for (const auto& [k, v] : headers_) res.set(k, v);
    }));
    ws_.async_accept(request_, [self = this->shared_from_this()](beast::error_code ec) { self->OnAccept(ec); });
  }

  // ---- WsOutput (any thread) ----
  bool Send(std::string text) override {
    std::lock_guard lock(mu_);
    if (closing_) return false;
    if (queue_.size() >= limits_.max_queued_messages || queued_bytes_ + text.size() > limits_.max_queued_bytes) {
      // The client does not read what it asked for: close rather than buffer without bound.
      log::Info("websocket client too slow; closing",
                {{"queued", queue_.size()}, {"queued_bytes", queued_bytes_}, {"code", kWsCloseTryAgainLater}});
      CloseLocked(kWsCloseTryAgainLater, "client too slow: outbound queue full");
      return false;
    }
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (open_ && !writing_) {
      writing_ = true;
      net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->WriteNext(); });
    }
    return true;
  }

  void Close(uint16_t code, std::string reason) override {
    std::lock_guard lock(mu_);
    CloseLocked(code, std::move(reason));
  }

  // ---- WsConnectionControl ----
  void Drain() override { Close(kWsCloseGoingAway, "server shutting down"); }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      queue_.clear();
      queued_bytes_ = 0;
    }
    NotifyClose();
  }

 private:
  void CloseLocked(uint16_t code, std::string reason) {
    if (closing_) return;
    closing_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    close_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (open_) {
      net::post(ws_.get_executor(), [self = this->shared_from_this()] { self->StartClose(); });
    }
    // Before the handshake completes, OnAccept sees closing_ and closes then.
  }

  void OnAccept(beast::error_code ec) {
    if (ec) {
      log::Debug("websocket handshake failed", {{"error", ec.message()}});
      NotifyClose();
      return;
    }
    bool start_writing, closing;
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    if (handler_) handler_->OnOpen(this->shared_from_this());
    if (link_->draining()) Drain();
    {
      std::lock_guard lock(mu_);
      closing = closing_;
      start_writing = !closing_ && !queue_.empty() && !writing_;
      if (start_writing) writing_ = true;
    }
    if (closing) StartClose();
    if (start_writing) WriteNext();
    Read();
  }

  void Read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      // Closed by the client (or after our close), timed out without pongs, a message over the
      // limit (Beast has sent 1009), or the socket went away.
      if (ec != websocket::error::closed && ec != net::error::operation_aborted) {
        log::Debug("websocket connection ended", {{"error", ec.message()}});
      }
      NotifyClose();
      return;
    }
    std::string data = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (handler_ && !closed_notified_.load()) handler_->OnMessage(data, ws_.got_text());
    Read();
  }

  // The write chain: one message at a time, on the loop.
  void WriteNext() {
    {
      std::lock_guard lock(mu_);
      if (closing_ || queue_.empty()) {
        writing_ = false;
        return;
      }
      current_ = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= current_.size();
    }
    ws_.text(true);
    ws_.async_write(net::buffer(current_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        std::lock_guard lock(self->mu_);
        self->writing_ = false;
        return;  // the read side sees the connection end
      }
      self->WriteNext();
    });
  }

  void StartClose() {
    if (close_started_ || !ws_.is_open()) return;
    close_started_ = true;
    websocket::close_reason reason;
    {
      std::lock_guard lock(mu_);
      reason = close_;
    }
    // Beast holds the close frame back until a write in flight is done.
    ws_.async_close(reason, [self = this->shared_from_this()](beast::error_code) {});
    // The handler is done now, not when the client gets round to answering: its subscriptions
    // stop at once (a slow client's above all).
    NotifyClose();
  }

  void NotifyClose() {
    if (closed_notified_.exchange(true)) return;
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      queue_.clear();
      queued_bytes_ = 0;
    }
    std::shared_ptr<WsConnectionHandler> handler = std::move(handler_);
    if (handler) handler->OnClose();
  }

  websocket::stream<Stream> ws_;
  HttpUpgradeRequest request_;
  std::shared_ptr<WsConnectionHandler> handler_;  // dropped once it has been closed
  const std::string subprotocol_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  const WsLimits limits_;
  std::shared_ptr<WsServerLink> link_;
  beast::flat_buffer buffer_;
  std::string current_;  // the message being written
  bool close_started_ = false;
  std::atomic<bool> closed_notified_{false};

  std::mutex mu_;  // the output side, which other threads use
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool open_ = false;     // the handshake is done
  bool writing_ = false;  // the write chain runs (or is posted)
  bool closing_ = false;  // no more output
  websocket::close_reason close_;
};

template <typename Stream>
std::shared_ptr<WsConnectionControl> Start(Stream&& stream, HttpUpgradeRequest&& request, WsAccept accept,
                                           std::shared_ptr<WsServerLink> link) {
  auto c =
      std::make_shared<WsConnection<Stream>>(std::move(stream), std::move(request), std::move(accept), std::move(link));
  c->Run();
  return c;
}

}  // namespace

std::shared_ptr<WsConnectionControl> StartWebSocket(beast::tcp_stream&& stream, HttpUpgradeRequest&& request,
                                                    WsAccept accept, std::shared_ptr<WsServerLink> link) {
  return Start(std::move(stream), std::move(request), std::move(accept), std::move(link));
}

std::shared_ptr<WsConnectionControl> StartWebSocket(beast::ssl_stream<beast::tcp_stream>&& stream,
                                                    HttpUpgradeRequest&& request, WsAccept accept,
                                                    std::shared_ptr<WsServerLink> link) {
  return Start(std::move(stream), std::move(request), std::move(accept), std::move(link));
}

}  // namespace neosl::gateway::internal
