#include "tee/socket_relay.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <utility>

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

namespace neosl::tee {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string ErrnoText(int err) {
  char buf[128];
  // GNU strerror_r returns the message, which may or may not live in `buf`.
  return std::string(strerror_r(err, buf, sizeof(buf)));
}

bool IsPrivateV4(uint32_t a) {  // host byte order
  const uint32_t first = a >> 24;
  return first == 0 ||                        // 0.0.0.0/8: "this network", unspecified
         first == 10 ||                       // 10/8
         first == 127 ||                      // loopback
         (a & 0xffc00000u) == 0x64400000u ||  // 100.64/10: carrier-grade NAT
         (a & 0xffff0000u) == 0xa9fe0000u ||  // 169.254/16: link-local (cloud metadata)
         (a & 0xfff00000u) == 0xac100000u ||  // 172.16/12
         (a & 0xffffff00u) == 0xc0000000u ||  // 192.0.0/24: IETF protocol assignments
         (a & 0xffff0000u) == 0xc0a80000u ||  // 192.168/16
         (a & 0xfffe0000u) == 0xc6120000u ||  // 198.18/15: benchmarking
         a >= 0xe0000000u;                    // multicast, reserved, broadcast
}

uint32_t V4At(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

bool AllZero(const uint8_t* b, size_t n) {
  return std::all_of(b, b + n, [](uint8_t x) { return x == 0; });
}

bool IsPrivateV6(const uint8_t* b) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr uint8_t kSiit[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (AllZero(b, 12)) return true;  // ::, ::1 and the deprecated v4-compatible ::a.b.c.d
  if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kSiit, 12) == 0 || std::memcmp(b, kNat64, 12) == 0) {
    return IsPrivateV4(V4At(b + 12));
  }
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return true;  // 64:ff9b:1::/48 local NAT64
  if (b[0] == 0x20 && b[1] == 0x02) return IsPrivateV4(V4At(b + 2));              // 6to4
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return true;        // Teredo: hides its v4 peer
  if (b[0] == 0x01 && b[1] == 0x00 && AllZero(b + 2, 6)) return true;             // 100::/64 discard
  if ((b[0] & 0xfe) == 0xfc) return true;                                         // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0x80) == 0x80) return true;  // fe80::/10 link-local, fec0::/10 site-local
  if (b[0] == 0xff) return true;                           // multicast
  return false;
}

int RemainingMs(steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, 1'000'000'000));
}

// Polls one fd until `events`, the deadline, or a signal-free error. Returns revents, 0 on timeout.
StatusOr<short> PollUntil(int fd, short events, steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, RemainingMs(deadline));
    if (n > 0) return p.revents;
    if (n == 0) return short{0};
    if (errno != EINTR) return UnavailableError("poll failed: " + ErrnoText(errno));
  }
}

}  // namespace

bool IsPrivateAddress(const sockaddr* address) {
  if (address == nullptr) return true;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return IsPrivateV4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return IsPrivateV6(in6->sin6_addr.s6_addr);
  }
  return true;
}

StatusOr<Cidr> Cidr::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid CIDR '" + std::string(text) + "': " + std::string(why));
  };
  size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  Cidr out;
  if (inet_pton(AF_INET, address.c_str(), out.bytes_.data()) == 1) {
    out.prefix_ = 32;
  } else if (inet_pton(AF_INET6, address.c_str(), out.bytes_.data()) == 1) {
    out.v6_ = true;
    out.prefix_ = 128;
  } else {
    return bad("not an IPv4 or IPv6 address");
  }
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("the prefix length is not a number");
    }
    int prefix = 0;
    for (char c : digits) prefix = prefix * 10 + (c - '0');
    if (prefix > out.prefix_) return bad("the prefix length is over " + std::to_string(out.prefix_));
    out.prefix_ = prefix;
  }
  for (int bit = out.prefix_; bit < (out.v6_ ? 128 : 32); ++bit) {
    if (out.bytes_[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
      return bad("the address has bits set past the prefix length");
    }
  }
  return out;
}

bool Cidr::Contains(const sockaddr* address) const {
  if (address == nullptr) return false;
  const uint8_t* b = nullptr;
  bool v6 = false;
  if (address->sa_family == AF_INET) {
    b = reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(address)->sin_addr);
  } else if (address->sa_family == AF_INET6) {
    b = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    v6 = std::memcmp(b, kMapped, 12) != 0;
    if (!v6) b += 12;
  } else {
    return false;
  }
  if (v6 != v6_) return false;
  const size_t whole = static_cast<size_t>(prefix_ / 8);
  if (std::memcmp(b, bytes_.data(), whole) != 0) return false;
  const int rest = prefix_ % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (b[whole] & mask) == bytes_[whole];
}

std::string Cidr::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix_);
}

StatusOr<std::vector<std::string>> ParseAllowList(std::string_view comma_separated) {
  std::vector<std::string> out;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  for (;;) {
    size_t comma = comma_separated.find(',');
    std::string_view entry = comma_separated.substr(0, comma);
    while (!entry.empty() && blank(entry.front())) entry.remove_prefix(1);
    while (!entry.empty() && blank(entry.back())) entry.remove_suffix(1);
    if (!entry.empty()) {
      RETURN_IF_ERROR(Cidr::Parse(entry));
      out.emplace_back(entry);
    }
    if (comma == std::string_view::npos) break;
    comma_separated.remove_prefix(comma + 1);
  }
  return out;
}

struct SocketRelay::Connection {
  explicit Connection(int fd_in, steady_clock::time_point now) : fd(fd_in), last_used(now) {}
  ~Connection() { ::close(fd); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Shutting down (rather than closing) wakes a Recv blocked in poll without letting the fd
  // number be reused under it; the fd is closed when the last user lets go.
  void Shutdown() {
    closed.store(true);
    ::shutdown(fd, SHUT_RDWR);
  }

  const int fd;
  std::mutex send_mu;  // one writer at a time keeps a message's bytes together
  std::mutex recv_mu;
  std::atomic<bool> closed{false};
  // Guarded by SocketRelay::mu_.
  steady_clock::time_point last_used;
  int busy = 0;
};

SocketRelay::SocketRelay(SocketRelayOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {
  for (const std::string& entry : options_.allow_private) {
    auto network = Cidr::Parse(entry);
    if (network.ok()) allowed_networks_.push_back(*network);
  }
  if (std::isfinite(options_.per_host_rate) && options_.per_host_rate > 0) {
    host_rate_ = options_.per_host_rate;
    // A bucket that can never hold a whole token would refuse every connection.
    const double burst =
        std::isfinite(options_.per_host_burst) && options_.per_host_burst > 0 ? options_.per_host_burst : host_rate_;
    host_capacity_ = std::max(1.0, burst);
  }
}

StatusOr<std::unique_ptr<SocketRelay>> SocketRelay::Create(SocketRelayOptions options, const Clock& clock) {
  for (const std::string& entry : options.allow_private) RETURN_IF_ERROR(Cidr::Parse(entry));
  for (double value : {options.per_host_rate, options.per_host_burst}) {
    if (!std::isfinite(value) || value < 0) {
      return InvalidArgumentError("relay per-host rate and burst must be finite and not negative");
    }
  }
  return std::make_unique<SocketRelay>(std::move(options), clock);
}

bool SocketRelay::Allowed(const sockaddr* address) const {
  if (options_.allow_private_networks || !IsPrivateAddress(address)) return true;
  return std::any_of(allowed_networks_.begin(), allowed_networks_.end(),
                     [address](const Cidr& network) { return network.Contains(address); });
}

SocketRelay::~SocketRelay() {
  std::lock_guard lock(mu_);
  for (auto& [id, conn] : connections_) conn->Shutdown();
  connections_.clear();
}

Status SocketRelay::CheckDestination(const std::string& host) const {
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  if (name.empty()) return InvalidArgumentError("a destination needs a host");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
  if (rc != 0) return UnavailableError("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
    if (!Allowed(ai->ai_addr)) return PermissionDeniedError("destination " + host + " resolves to a private address");
  }
  return Status();
}

StatusOr<uint64_t> SocketRelay::Connect(const std::string& host, uint16_t port, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  if (host.empty() || port == 0) return InvalidArgumentError("relay destination needs a host and a port");
  {
    std::lock_guard lock(mu_);
    CloseIdleLocked();
    if (connections_.size() >= options_.max_connections) {
      return ResourceExhaustedError("relay connection limit reached (" + std::to_string(options_.max_connections) +
                                    " open)");
    }
    // Before resolving: a refused attempt costs the host's name server nothing either.
    RETURN_IF_ERROR(TakeHostTokenLocked(host));
  }

  // Brackets around an IPv6 literal come from URLs; getaddrinfo wants the bare address.
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) return UnavailableError("cannot resolve " + host + ": " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);

  // Every address is checked before any is tried: a name with one public and one internal
  // address is refused outright rather than depending on which one answers.
  for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
    if (!Allowed(ai->ai_addr)) return PermissionDeniedError("destination " + host + " resolves to a private address");
  }

  Status last = UnavailableError("cannot connect to " + host + ": no usable address");
  for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
    if (steady_clock::now() >= deadline) break;
    int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = UnavailableError("cannot connect to " + host + ": " + ErrnoText(errno));
      continue;
    }
    auto conn = std::make_shared<Connection>(fd, clock_.SteadyNow());
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) {
        last = UnavailableError("cannot connect to " + host + ": " + ErrnoText(errno));
        continue;
      }
      ASSIGN_OR_RETURN(short revents, PollUntil(fd, POLLOUT, deadline));
      if (revents == 0) break;
      int err = 0;
      socklen_t len = sizeof(err);
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) {
        last = UnavailableError("cannot connect to " + host + ": " + ErrnoText(err));
        continue;
      }
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // TLS records are small and latency-bound

    std::lock_guard lock(mu_);
    if (connections_.size() >= options_.max_connections) {
      return ResourceExhaustedError("relay connection limit reached (" + std::to_string(options_.max_connections) +
                                    " open)");
    }
    uint64_t id = next_id_++;
    connections_.emplace(id, std::move(conn));
    return id;
  }
  if (steady_clock::now() >= deadline) {
    return DeadlineExceededError("connecting to " + host + " timed out after " + std::to_string(timeout.count()) +
                                 " ms");
  }
  return last;
}

std::shared_ptr<SocketRelay::Connection> SocketRelay::Find(uint64_t conn) const {
  std::lock_guard lock(mu_);
  auto it = connections_.find(conn);
  if (it == connections_.end()) return nullptr;
  it->second->busy++;
  it->second->last_used = clock_.SteadyNow();
  return it->second;
}

namespace {
// Marks a connection in use for the duration of a call, so idle sweeps leave it alone.
template <typename Conn>
class BusyScope {
 public:
  BusyScope(std::mutex& mu, const Clock& clock, std::shared_ptr<Conn> conn)
      : mu_(mu), clock_(clock), conn_(std::move(conn)) {}
  ~BusyScope() {
    if (!conn_) return;
    std::lock_guard lock(mu_);
    conn_->busy--;
    conn_->last_used = clock_.SteadyNow();
  }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;
  Conn* get() const { return conn_.get(); }

 private:
  std::mutex& mu_;
  const Clock& clock_;
  std::shared_ptr<Conn> conn_;
};
}  // namespace

Status SocketRelay::Send(uint64_t id, std::span<const uint8_t> data) {
  BusyScope scope(mu_, clock_, Find(id));
  Connection* conn = scope.get();
  if (conn == nullptr) return NotFoundError("relay connection " + std::to_string(id) + " is not open");
  std::lock_guard lock(conn->send_mu);
  size_t sent = 0;
  auto deadline = steady_clock::now() + options_.send_timeout;
  while (sent < data.size()) {
    if (conn->closed.load()) return NotFoundError("relay connection " + std::to_string(id) + " was closed");
    ssize_t n = ::send(conn->fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      deadline = steady_clock::now() + options_.send_timeout;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      ASSIGN_OR_RETURN(short revents, PollUntil(conn->fd, POLLOUT, deadline));
      if (revents == 0) return DeadlineExceededError("peer stopped reading on relay connection " + std::to_string(id));
      continue;
    }
    return UnavailableError("send on relay connection " + std::to_string(id) + " failed: " + ErrnoText(errno));
  }
  return Status();
}

StatusOr<std::vector<uint8_t>> SocketRelay::Recv(uint64_t id, size_t max_bytes, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  BusyScope scope(mu_, clock_, Find(id));
  Connection* conn = scope.get();
  if (conn == nullptr) return NotFoundError("relay connection " + std::to_string(id) + " is not open");
  if (max_bytes == 0) return InvalidArgumentError("Recv needs max_bytes > 0");
  std::vector<uint8_t> buf(std::min(max_bytes, options_.max_recv_bytes));
  std::lock_guard lock(conn->recv_mu);
  for (;;) {
    if (conn->closed.load()) return NotFoundError("relay connection " + std::to_string(id) + " was closed");
    ssize_t n = ::recv(conn->fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n >= 0) {
      if (n == 0 && conn->closed.load()) return NotFoundError("relay connection " + std::to_string(id) + " was closed");
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return UnavailableError("receive on relay connection " + std::to_string(id) + " failed: " + ErrnoText(errno));
    }
    ASSIGN_OR_RETURN(short revents, PollUntil(conn->fd, POLLIN, deadline));
    if (revents == 0) {
      return DeadlineExceededError("no data on relay connection " + std::to_string(id) + " within " +
                                   std::to_string(timeout.count()) + " ms");
    }
  }
}

void SocketRelay::Close(uint64_t id) {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(mu_);
    auto it = connections_.find(id);
    if (it == connections_.end()) return;
    conn = std::move(it->second);
    connections_.erase(it);
  }
  conn->Shutdown();
}

size_t SocketRelay::CloseIdle() {
  std::lock_guard lock(mu_);
  return CloseIdleLocked();
}

size_t SocketRelay::CloseIdleLocked() {
  const auto now = clock_.SteadyNow();
  size_t closed = 0;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& conn = *it->second;
    if (conn.busy == 0 && now - conn.last_used >= options_.max_idle) {
      conn.Shutdown();
      it = connections_.erase(it);
      ++closed;
    } else {
      ++it;
    }
  }
  return closed;
}

size_t SocketRelay::open_connections() const {
  std::lock_guard lock(mu_);
  return connections_.size();
}

size_t SocketRelay::rate_limited_hosts() const {
  std::lock_guard lock(mu_);
  return host_buckets_.size();
}

Status SocketRelay::TakeHostTokenLocked(const std::string& host) {
  if (host_rate_ <= 0) return Status();
  // One bucket per name as DNS sees it: "API.example.com." is "api.example.com".
  std::string key = host;
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (key.size() > 1 && key.back() == '.') key.pop_back();

  const auto now = clock_.SteadyNow();
  auto it = host_buckets_.find(key);
  if (it == host_buckets_.end()) {
    if (host_buckets_.size() >= std::max<size_t>(1, options_.max_rate_limited_hosts)) EvictHostBucketsLocked(now);
    it = host_buckets_.emplace(std::move(key), HostBucket{host_capacity_, now}).first;
  }
  HostBucket& bucket = it->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.last).count();
  if (elapsed > 0) bucket.tokens = std::min(host_capacity_, bucket.tokens + elapsed * host_rate_);
  bucket.last = now;
  if (bucket.tokens < 1.0) return ResourceExhaustedError("rate limit for host " + host);
  bucket.tokens -= 1.0;
  return Status();
}

void SocketRelay::EvictHostBucketsLocked(std::chrono::steady_clock::time_point now) {
  // A bucket that has refilled is the same as no bucket at all.
  const size_t before = host_buckets_.size();
  std::erase_if(host_buckets_, [&](const auto& entry) {
    const double elapsed = std::chrono::duration<double>(now - entry.second.last).count();
    return entry.second.tokens + elapsed * host_rate_ >= host_capacity_;
  });
  if (host_buckets_.size() < before || host_buckets_.empty()) return;
  // Every host is still being limited: forgetting the least recently used one lets it start
  // afresh, which bounds memory at the cost of that host's limit.
  auto oldest = std::min_element(host_buckets_.begin(), host_buckets_.end(),
                                 [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
  host_buckets_.erase(oldest);
}

}  // namespace neosl::tee
