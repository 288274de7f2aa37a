// The host end of the enclave's network relay: real TCP sockets, opened on the enclave's behalf
// (OCALLs), carrying bytes the host cannot read (TLS is terminated inside the enclave).
//
// The host resolves names itself and refuses destinations on loopback, private, link-local,
// multicast or unspecified addresses: user code running in the enclave must not reach the
// platform's internal services (SSRF). The check applies to the address actually connected to,
// so a name that resolves differently later (DNS rebinding) cannot slip past it. An operator can
// allow chosen private networks (SocketRelayOptions::allow_private, the net.allow_private key).
//
// It also limits how often connections to one host name may be opened (per_host_rate), so that
// code in the enclave cannot use the platform to hammer a third party's server.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "tee/tls_relay.h"

struct sockaddr;

namespace neosl::tee {

struct SocketRelayOptions {
  bool allow_private_networks = false;  // every private address: tests and development only
  // Private networks allowed anyway, as CIDRs: "10.1.2.0/24", "127.0.0.1/32", "::1/128" (a bare
  // address is one host). SocketRelay::Create rejects a malformed entry; the constructor skips
  // it, allowing nothing more.
  std::vector<std::string> allow_private;
  size_t max_connections = 256;
  std::chrono::milliseconds max_idle{60'000};      // connections unused this long are closed
  std::chrono::milliseconds send_timeout{30'000};  // Send gives up when the peer stops reading
  size_t max_recv_bytes = 256u << 10;              // caps Recv's max_bytes
  // Connections per second per host name (as given to Connect, compared without case or a
  // trailing dot), 0 = unlimited: a token bucket of per_host_burst tokens (0 = max(1, rate))
  // refilling at per_host_rate, timed by the relay's Clock.
  double per_host_rate = 0;
  double per_host_burst = 0;
  // Buckets kept at most; a new host beyond this drops the buckets that have refilled (which is
  // how a new one starts), or else the least recently used one.
  size_t max_rate_limited_hosts = 4096;
};

// True for addresses user code must not reach: loopback, RFC 1918 and other private or shared
// ranges, link-local, multicast, unspecified, reserved; IPv6 equivalents, and IPv4 addresses
// embedded in IPv6 (v4-mapped, v4-compatible, NAT64, 6to4). Unknown families count as private.
bool IsPrivateAddress(const sockaddr* address);

// An IPv4 or IPv6 network.
class Cidr {
 public:
  // "10.1.2.0/24", "::1/128", or a bare address (one host). INVALID_ARGUMENT for a malformed
  // address or prefix length, or an address with bits set past the prefix ("10.1.2.3/24").
  static StatusOr<Cidr> Parse(std::string_view text);
  // Whether `address` lies in this network. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
  // taken as its IPv4 address.
  bool Contains(const sockaddr* address) const;
  std::string ToString() const;

 private:
  bool v6_ = false;
  std::array<uint8_t, 16> bytes_{};  // network byte order; IPv4 uses the first four
  int prefix_ = 0;
};

// Splits a comma-separated list of CIDRs (the net.allow_private setting) and checks each one.
// Blanks around entries and empty entries are ignored. INVALID_ARGUMENT naming the bad entry.
StatusOr<std::vector<std::string>> ParseAllowList(std::string_view comma_separated);

class SocketRelay final : public ByteRelay {
 public:
  explicit SocketRelay(SocketRelayOptions options = {}, const Clock& clock = SystemClock::Instance());
  // As the constructor, but INVALID_ARGUMENT when an allow_private entry is malformed or a rate
  // is negative or not finite (the constructor takes those as unlimited).
  static StatusOr<std::unique_ptr<SocketRelay>> Create(SocketRelayOptions options,
                                                       const Clock& clock = SystemClock::Instance());
  ~SocketRelay() override;
  SocketRelay(const SocketRelay&) = delete;
  SocketRelay& operator=(const SocketRelay&) = delete;

  // PERMISSION_DENIED "destination <host> resolves to a private address" (one that is neither
  // allowed by allow_private nor by allow_private_networks); RESOURCE_EXHAUSTED at
  // max_connections, or "rate limit for host <host>" when the host's bucket is empty (checked
  // before the name is resolved; every attempt past that check takes a token, whether or not it
  // connects); UNAVAILABLE when the name does not resolve or no address accepts.
  StatusOr<uint64_t> Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) override;
  // Whether Connect would let `host` through, by the same rules, without connecting or taking a
  // rate token: PERMISSION_DENIED for a private address not allowed, UNAVAILABLE when the name
  // does not resolve. For checking a URL when it is given (a webhook's), long before it is used.
  Status CheckDestination(const std::string& host) const;
  // NOT_FOUND for an unknown or closed connection; UNAVAILABLE on a socket error;
  // DEADLINE_EXCEEDED after send_timeout without progress.
  Status Send(uint64_t conn, std::span<const uint8_t> data) override;
  StatusOr<std::vector<uint8_t>> Recv(uint64_t conn, size_t max_bytes, std::chrono::milliseconds timeout) override;
  void Close(uint64_t conn) override;

  // Closes connections idle for max_idle or longer; returns how many. Also run by Connect, so a
  // host only needs to call it if it wants idle sockets gone while nothing new is opened.
  size_t CloseIdle();
  size_t open_connections() const;
  // How many hosts have a rate-limit bucket.
  size_t rate_limited_hosts() const;

 private:
  struct Connection;
  struct HostBucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point last;
  };
  std::shared_ptr<Connection> Find(uint64_t conn) const;
  size_t CloseIdleLocked();
  bool Allowed(const sockaddr* address) const;
  // Takes one token from `host`'s bucket; RESOURCE_EXHAUSTED when it has none. Needs mu_.
  Status TakeHostTokenLocked(const std::string& host);
  void EvictHostBucketsLocked(std::chrono::steady_clock::time_point now);

  const SocketRelayOptions options_;
  std::vector<Cidr> allowed_networks_;
  const Clock& clock_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;
  double host_rate_ = 0;      // per_host_rate as used: 0 when unlimited
  double host_capacity_ = 1;  // per_host_burst as used
  std::unordered_map<std::string, HostBucket> host_buckets_;
};

}  // namespace neosl::tee
