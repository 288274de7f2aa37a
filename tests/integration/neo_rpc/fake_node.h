// A small Neo node for tests: JSON-RPC over HTTP/1.1 and neo-go's WebSocket notifications
// (/ws) on one port of 127.0.0.1, over a chain the test grows block by block. Methods without
// chain state answer canned bodies (real samples). It can drop requests, delay answers, cut
// WebSocket connections mid-block, refuse them, and skip events then send event_missed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "neo/uint.h"

namespace neosl::testing {

struct FakeBlockSpec {
  int transactions = 1;
  int notifications_per_tx = 2;
  bool fault_last_tx = false;  // its execution FAULTs: notifications logged but not announced
};

// How the stream announces a new block to WebSocket subscribers.
enum class Announce {
  kAll,             // every event, in neo-go's order
  kNone,            // nothing (the node is "disconnected" from everyone)
  kHalfThenDrop,    // the first half of the block's events, then the connections are cut
  kSkipThenMissed,  // the block's events without its first ones, preceded by event_missed
};

struct FakeNodeImpl;

class FakeNode {
 public:
  // Listens on 127.0.0.1:`port` (0: any free port). The chain starts with `genesis_blocks` blocks.
  // With `tls_dir` (holding cert.pem and key.pem) it speaks HTTPS only, without WebSockets.
  explicit FakeNode(uint16_t port = 0, int genesis_blocks = 1, const std::string& tls_dir = "");
  ~FakeNode();
  FakeNode(const FakeNode&) = delete;
  FakeNode& operator=(const FakeNode&) = delete;

  uint16_t port() const;
  std::string http_url() const;
  std::string ws_url() const;

  // Answers `method` with `body`, a whole JSON-RPC response (its "id" is replaced); an empty
  // body goes back to the chain's own answer.
  void SetResponse(const std::string& method, const std::string& body);
  // The next `n` requests for `method` are read and then the connection is closed unanswered.
  void DropNext(const std::string& method, int n);
  // Answers to `method` are held this long first.
  void Delay(const std::string& method, std::chrono::milliseconds delay);
  int RequestCount(const std::string& method) const;
  // Waits until `method` has been requested at least `n` times; false on timeout.
  bool WaitForRequests(const std::string& method, int n, std::chrono::milliseconds timeout) const;
  std::vector<boost::json::value> RequestParams(const std::string& method) const;
  int connections_accepted() const;

  // Appends a block and announces it to subscribers; returns its index.
  uint32_t AddBlock(const FakeBlockSpec& spec = {}, Announce announce = Announce::kAll);
  uint32_t block_count() const;
  // While false, WebSocket upgrades are answered 503 (the stream is down, RPC is up).
  void SetWebSocketAvailable(bool available);
  // Cuts every WebSocket connection now.
  void DropWebSockets();
  int subscribe_requests() const;
  int unsubscribe_requests() const;
  int websocket_sessions() const;  // open now

  // The verbose JSON of block `index`.
  boost::json::value BlockJson(uint32_t index) const;

  // Transaction t of every block is sent by Sender(t); its k-th notification comes from the
  // token contract Token(k % 2).
  static neo::UInt160 Sender(int t);
  static neo::UInt160 Token(int k);

 private:
  std::unique_ptr<FakeNodeImpl> impl_;
};

}  // namespace neosl::testing
