// Internals of the WebSocket endpoint shared by ws_hub.cpp and ws_session.cpp.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/ws_hub.h"

namespace neosl::gateway {

struct WsHub::State {
  explicit State(WsOptions o) : options(std::move(o)) {}

  struct Channel {
    Role role;
    WsChannelFactory factory;
    std::string description;
  };
  std::optional<Channel> Find(std::string_view name) const;
  std::string ChannelList() const;  // "a, b" for error messages

  // Per-account connection slots.
  bool Acquire(const std::string& account);
  void Release(const std::string& account);

  const WsOptions options;
  mutable std::mutex mu;
  std::map<std::string, Channel, std::less<>> channels;
  std::map<std::string, int, std::less<>> per_account;
  std::atomic<size_t> connections{0};
  std::atomic<size_t> subscriptions{0};
};

// The handler of one connection (the JSON protocol), for `principal`, whose account slot has
// been acquired; the session releases it when the connection ends.
std::shared_ptr<WsConnectionHandler> NewWsSession(std::shared_ptr<WsHub::State> state, Principal principal,
                                                  std::string trace_id);

}  // namespace neosl::gateway
