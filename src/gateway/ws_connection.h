// Runs an accepted WebSocket over Beast (server.cpp hands a connection over after an upgrade).
// Internal to the gateway's HTTP server: handlers see only ws_transport.h.
//
// A connection lives on the event loop of the HTTP connection it came from, so all socket work is
// on one thread; other threads only queue output (WsOutput::Send), which posts to that loop. The
// outbound queue is bounded by count and bytes: a client that lets it fill is closed with 1013.
#pragma once

#include <memory>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "gateway/ws_transport.h"

namespace neosl::gateway::internal {

// The HTTP server's hold on an upgraded connection: alive exactly as long as the connection, so
// the server counts it and waits for it when it drains.
class WsServerLink {
 public:
  virtual ~WsServerLink() = default;
  virtual bool draining() const = 0;
};

// What the server may do to a live connection.
class WsConnectionControl {
 public:
  virtual ~WsConnectionControl() = default;
  // Begins the closing handshake with 1001 "server shutting down" (from any thread).
  virtual void Drain() = 0;
  // Ends the connection's handler now, from the thread stopping the server, after the event
  // loops have stopped: no more output is accepted and the handler's OnClose runs here.
  virtual void Stop() = 0;
};

using HttpUpgradeRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Answers `request` with 101 (per `accept`) and runs the connection until it ends.
std::shared_ptr<WsConnectionControl> StartWebSocket(boost::beast::tcp_stream&& stream, HttpUpgradeRequest&& request,
                                                    WsAccept accept, std::shared_ptr<WsServerLink> link);
std::shared_ptr<WsConnectionControl> StartWebSocket(boost::beast::ssl_stream<boost::beast::tcp_stream>&& stream,
                                                    HttpUpgradeRequest&& request, WsAccept accept,
                                                    std::shared_ptr<WsServerLink> link);

}  // namespace neosl::gateway::internal
