// The HTTP/1.1 server under the gateway (Boost.Beast over Asio), optionally TLS.
//
// Requests on a connection are read and answered strictly one after another, so pipelined
// requests are answered in order. A connection has three clocks: the idle timeout while it
// waits for the first byte of a request, the header timeout for the request head, and the body
// timeout for the body. Bodies over the limit get 413 and heads over the limit 431, after which
// the connection is closed (its remaining bytes are not a request).
//
// WebSocket: with an UpgradeHandler, a request that asks for an upgrade goes to it instead; when
// it accepts, the connection becomes a WebSocket (ws_transport.h) that stays on the same event
// loop, counts as a connection, closes with 1001 when the server drains, and ends at Stop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "gateway/http_types.h"
#include "gateway/ws_transport.h"

namespace neosl::gateway {

// Whether a request's handler may block (wait on another service): such requests run on the
// handler threads, so that the I/O thread goes on serving its other connections.
using BlockingPredicate = std::function<bool(const HttpRequest&)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free port
  int threads = 0;                        // I/O threads; 0: one per core
  // With `blocking` set, requests it picks run on this many handler threads (at most this many
  // at once; more wait in order); others, and every request when 0, run on the I/O thread.
  int handler_threads = 0;
  BlockingPredicate blocking;
  uint64_t max_body_bytes = 1 << 20;
  uint32_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  int max_connections = 10'000;
  std::string tls_cert_file;  // both set: serve HTTPS only
  std::string tls_key_file;
};

// Called for every complete request, on an I/O thread or a handler thread (ServerOptions::
// blocking); must fill `response`.
using RequestHandler = std::function<void(const HttpRequest&, HttpResponse&)>;
// Called on an I/O thread for a WebSocket upgrade request (Upgrade: websocket): a WsAccept takes
// the connection over; nullopt sends `response` (401, 429, …) as for any other request.
using UpgradeHandler = std::function<std::optional<WsAccept>(const HttpRequest&, HttpResponse&)>;
// What the server tells the metrics: connections opening (+1) and closing (-1), and requests
// it answered itself without reaching the handler (413, 431, 400 for unparseable requests).
struct ServerObserver {
  std::function<void(int delta)> on_connection;
  std::function<void(int status)> on_rejected;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, RequestHandler handler, ServerObserver observer = {},
             UpgradeHandler upgrade = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Returns the bound "host:port".
  StatusOr<std::string> Start();

  // Stops accepting, closes idle connections and lets busy ones finish their current response
  // (which then closes them); WebSockets get a close frame (1001). Waits up to `timeout` for
  // every connection to end; returns whether they all did. Connections still open afterwards are
  // closed by Stop().
  bool Drain(std::chrono::milliseconds timeout);

  // Closes everything and joins the I/O threads. Idempotent.
  void Stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses "host:port" / "[v6]:port"; INVALID_ARGUMENT with the reason otherwise.
Status ParseListenAddress(std::string_view text, std::string* host, uint16_t* port);

}  // namespace neosl::gateway
