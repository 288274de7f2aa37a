// What the fetcher's tests share: a real SocketRelay that allows only 127.0.0.1 among private
// addresses (as an operator's net.allow_private would), counting the connections it is asked for.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "net/fetcher.h"
#include "tee/socket_relay.h"

namespace neosl::net::testing {

class CountingRelay final : public tee::ByteRelay {
 public:
  explicit CountingRelay(std::unique_ptr<tee::SocketRelay> inner) : inner_(std::move(inner)) {}

  StatusOr<uint64_t> Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) override {
    connects_++;
    return inner_->Connect(host, port, timeout);
  }
  Status Send(uint64_t conn, std::span<const uint8_t> data) override { return inner_->Send(conn, data); }
  StatusOr<std::vector<uint8_t>> Recv(uint64_t conn, size_t max_bytes, std::chrono::milliseconds timeout) override {
    return inner_->Recv(conn, max_bytes, timeout);
  }
  void Close(uint64_t conn) override { inner_->Close(conn); }

  int connects() const { return connects_; }
  size_t open_connections() const { return inner_->open_connections(); }

 private:
  std::unique_ptr<tee::SocketRelay> inner_;
  std::atomic<int> connects_{0};
};

inline std::unique_ptr<CountingRelay> LoopbackRelay(std::vector<std::string> allow = {"127.0.0.1/32"}) {
  auto relay = tee::SocketRelay::Create({.allow_private = std::move(allow)});
  EXPECT_TRUE(relay.ok()) << relay.status().ToString();
  return relay.ok() ? std::make_unique<CountingRelay>(std::move(relay).value()) : nullptr;
}

inline std::string Text(const std::vector<uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

inline std::vector<uint8_t> Bytes(std::string_view text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

}  // namespace neosl::net::testing
