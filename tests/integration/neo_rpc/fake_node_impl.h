// Internals shared by the fake node's two halves: fake_node.cpp (the chain and its JSON-RPC
// answers) and fake_node_sessions.cpp (HTTP, TLS and WebSocket sessions).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>

#include "integration/neo_rpc/fake_node.h"

namespace neosl::testing {

// Small readers of JSON the fake itself produced or a test client sent.
inline std::string Norm(std::string_view s) {  // a hash without "0x", lower case
  std::string out(s.substr(s.rfind("0x", 0) == 0 ? 2 : 0));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
inline const boost::json::value* Get(const boost::json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  return o ? o->if_contains(key) : nullptr;
}
inline std::string Str(const boost::json::value& v, std::string_view key) {
  const boost::json::value* f = Get(v, key);
  return f && f->is_string() ? std::string(f->get_string()) : std::string();
}
inline int64_t Num(const boost::json::value& v, std::string_view key) {
  const boost::json::value* f = Get(v, key);
  boost::system::error_code ec;
  return f && f->is_number() ? f->to_number<int64_t>(ec) : -1;
}

class WsSession;
using ChainEvents = std::vector<std::pair<std::string, boost::json::value>>;  // (method, payload)

struct FakeNodeImpl {
  // State shared with the test thread, under mu.
  mutable std::mutex mu;
  mutable std::condition_variable requested;       // notified on every request
  std::vector<boost::json::value> blocks;          // verbose, without confirmations
  std::vector<boost::json::value> headers;         // verbose getblockheader, without confirmations
  std::map<std::string, boost::json::value> logs;  // normalised hash → getapplicationlog result
  std::map<std::string, std::string> canned;
  std::map<std::string, int> drop_next;
  std::map<std::string, std::chrono::milliseconds> delays;
  std::map<std::string, std::vector<boost::json::value>> requests;
  bool ws_available = true;
  int subscribes = 0, unsubscribes = 0, sub_counter = 0;
  std::atomic<int> accepted{0}, sessions_open{0};

  std::vector<std::weak_ptr<WsSession>> sessions;  // io thread only
  // Declared last: destroying the io_context destroys the sessions, which use the state above.
  boost::asio::io_context ioc;
  std::optional<boost::asio::ssl::context> tls;
  boost::asio::ip::tcp::acceptor acceptor{ioc};
  std::thread thread;
  uint16_t port = 0;

  void Accept();
  std::pair<std::string, bool> Handle(const std::string& body, std::chrono::milliseconds* delay);
  boost::json::value Answer(const std::string& method, const boost::json::array& params);
  ChainEvents Events(uint32_t index);
  void Announce(const ChainEvents& events, neosl::testing::Announce mode);
};

}  // namespace neosl::testing
