// The host end of the enclave's network relay: real TCP sockets, opened on the enclave's behalf
// (OCALLs), carrying bytes the host cannot read (TLS is terminated inside the enclave).
//
// The host resolves names itself and refuses destinations on loopback, private, link-local,
// multicast or unspecified addresses: user code running in the enclave must not reach the
// platform's internal services (SSRF). The check applies to the address actually connected to,
// so a name that resolves differently later (DNS rebinding) cannot slip past it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "tee/tls_relay.h"

struct sockaddr;

namespace neosl::tee {

struct SocketRelayOptions {
  bool allow_private_networks = false;  // tests and development only
  size_t max_connections = 256;
  std::chrono::milliseconds max_idle{60'000};      // connections unused this long are closed
  std::chrono::milliseconds send_timeout{30'000};  // Send gives up when the peer stops reading
  size_t max_recv_bytes = 256u << 10;              // caps Recv's max_bytes
};

// True for addresses user code must not reach: loopback, RFC 1918 and other private or shared
// ranges, link-local, multicast, unspecified, reserved; IPv6 equivalents, and IPv4 addresses
// embedded in IPv6 (v4-mapped, v4-compatible, NAT64, 6to4). Unknown families count as private.
bool IsPrivateAddress(const sockaddr* address);

class SocketRelay final : public ByteRelay {
 public:
  explicit SocketRelay(SocketRelayOptions options = {}, const Clock& clock = SystemClock::Instance());
  ~SocketRelay() override;
  SocketRelay(const SocketRelay&) = delete;
  SocketRelay& operator=(const SocketRelay&) = delete;

  // PERMISSION_DENIED "destination <host> resolves to a private address"; RESOURCE_EXHAUSTED at
  // max_connections; UNAVAILABLE when the name does not resolve or no address accepts.
  StatusOr<uint64_t> Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) override;
  // NOT_FOUND for an unknown or closed connection; UNAVAILABLE on a socket error;
  // DEADLINE_EXCEEDED after send_timeout without progress.
  Status Send(uint64_t conn, std::span<const uint8_t> data) override;
  StatusOr<std::vector<uint8_t>> Recv(uint64_t conn, size_t max_bytes, std::chrono::milliseconds timeout) override;
  void Close(uint64_t conn) override;

  // Closes connections idle for max_idle or longer; returns how many. Also run by Connect, so a
  // host only needs to call it if it wants idle sockets gone while nothing new is opened.
  size_t CloseIdle();
  size_t open_connections() const;

 private:
  struct Connection;
  std::shared_ptr<Connection> Find(uint64_t conn) const;
  size_t CloseIdleLocked();

  const SocketRelayOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
};

}  // namespace neosl::tee
