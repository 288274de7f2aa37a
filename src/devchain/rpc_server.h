// The devchain's front: Neo's JSON-RPC 2.0 (RpcServer method names, parameter forms, result
// shapes and NEP-23 error codes) on POST /, and neo-go's WebSocket notification protocol on
// /ws (subscribe/unsubscribe to block_added, transaction_added, transaction_executed,
// notification_from_execution with neo-go's filters; JSON-RPC calls over the socket too).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "devchain/chain.h"

namespace neosl::devchain {

struct RpcServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 20332;  // 0: any free port
  int threads = 2;
  size_t max_request_bytes = 10u << 20;
  int max_ws_clients = 64;
};

class RpcServer {
 public:
  // Binds and starts serving `chain` (which must outlive the server).
  static StatusOr<std::unique_ptr<RpcServer>> Start(RpcServerOptions options, Chain& chain);
  ~RpcServer();  // NOLINT(bugprone-exception-escape): stops; see rpc_server.cpp
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  uint16_t port() const;
  // JSON-RPC calls answered so far, over HTTP and WebSocket (each call of a batch counts).
  uint64_t calls_answered() const;
  // Closes the listener and every connection, and joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit RpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::devchain
