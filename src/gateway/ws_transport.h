// The WebSocket side of the HTTP server, without Beast in sight: what a handler gives the server
// to accept an upgrade (WsAccept), how it sees the connection (WsConnectionHandler) and how it
// writes to it from any thread (WsOutput). ws_connection.cpp runs it over Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neosl::gateway {

// Close codes of RFC 6455 §7.4.1 the gateway sends.
inline constexpr uint16_t kWsCloseGoingAway = 1001;      // the server is shutting down
inline constexpr uint16_t kWsCloseTooBig = 1009;         // a message over the size limit
inline constexpr uint16_t kWsCloseTryAgainLater = 1013;  // the client read too slowly

// Writes to one connection. Thread-safe; every call is cheap and never blocks on the network.
class WsOutput {
 public:
  virtual ~WsOutput() = default;
  // Queues a text message. False when the connection is closing or closed, and when the queue is
  // full: the client reads too slowly, so the connection is closed with 1013 (try again later).
  virtual bool Send(std::string text) = 0;
  // Starts the closing handshake with `code` and `reason`; queued messages are dropped.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// The protocol spoken on one accepted connection.
class WsConnectionHandler {
 public:
  virtual ~WsConnectionHandler() = default;
  // Once, after the handshake, before any other call.
  virtual void OnOpen(std::shared_ptr<WsOutput> output) = 0;
  // Each complete message, in order, on the connection's I/O thread. `text` is false for binary.
  virtual void OnMessage(std::string_view data, bool text) = 0;
  // Once, when the connection ends or starts closing, for any reason (either side closed, error,
  // timeout, too slow, server shutdown) — also without OnOpen when the handshake failed. Runs on
  // the I/O thread, or on the thread stopping the server after the I/O threads have stopped;
  // never concurrently with the other calls. The output accepts nothing from then on.
  virtual void OnClose() = 0;
};

struct WsLimits {
  size_t max_message_bytes = 16 << 10;  // larger client messages close the connection (1009)
  size_t max_queued_messages = 1024;    // outbound messages waiting for a slow client …
  size_t max_queued_bytes = 4 << 20;    // … and their bytes; over either: close 1013
  // Keep-alive: with no frame from the client for half of this, the server pings; with none for
  // all of it, the connection is dropped.
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds close_timeout{5'000};  // for the closing handshake (and the opening)
};

// What an upgrade handler returns to accept a WebSocket upgrade.
struct WsAccept {
  std::shared_ptr<WsConnectionHandler> handler;
  std::string subprotocol;                                   // answered in Sec-WebSocket-Protocol; empty: none
  std::vector<std::pair<std::string, std::string>> headers;  // more headers for the 101 response
  WsLimits limits;
};

}  // namespace neosl::gateway
