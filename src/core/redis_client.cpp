#include "core/redis_client.h"

#include <array>
#include <charconv>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <openssl/crypto.h>

namespace neosl::redis {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Bounds on what a reply to the commands sent here can be. A peer that sends more is not the
// Redis we expect, and must not make this process buffer without limit.
constexpr size_t kMaxLine = size_t{64} * 1024;
constexpr int64_t kMaxBulk = int64_t{1024} * 1024;
constexpr int64_t kMaxElements = 1024;
constexpr int kMaxDepth = 4;
constexpr size_t kIncomplete = std::string_view::npos;

StatusOr<std::string> PercentDecode(std::string_view in, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= in.size()) return InvalidArgumentError("bad %-escape in the " + std::string(what));
    auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
    if (ec != std::errc() || end != in.data() + i + 3) {
      return InvalidArgumentError("bad %-escape in the " + std::string(what));
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

template <typename Int>
bool ParseInt(std::string_view text, Int& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

StatusOr<size_t> ParseAt(std::string_view in, size_t pos, Reply& out, int depth) {
  if (pos >= in.size()) return kIncomplete;
  size_t eol = in.find("\r\n", pos + 1);
  if (eol == std::string_view::npos) {
    if (in.size() - pos > kMaxLine) return DataLossError("RESP line longer than " + std::to_string(kMaxLine));
    return kIncomplete;
  }
  const char kind = in[pos];
  const std::string_view line = in.substr(pos + 1, eol - pos - 1);
  const size_t next = eol + 2;
  out = Reply{};
  switch (kind) {
    case '+':
      out.type = Reply::Type::kSimpleString;
      out.text = line;
      return next;
    case '-':
      out.type = Reply::Type::kError;
      out.text = line;
      return next;
    case ':':
      out.type = Reply::Type::kInteger;
      if (!ParseInt(line, out.integer)) return DataLossError("RESP integer is not a number");
      return next;
    case '$': {
      int64_t n = 0;
      if (!ParseInt(line, n) || n < -1 || n > kMaxBulk) return DataLossError("RESP bulk length out of range");
      if (n == -1) return next;  // nil
      if (in.size() < next + size_t(n) + 2) return kIncomplete;
      if (in.substr(next + size_t(n), 2) != "\r\n") return DataLossError("RESP bulk string not followed by CRLF");
      out.type = Reply::Type::kBulkString;
      out.text = in.substr(next, size_t(n));
      return next + size_t(n) + 2;
    }
    case '*': {
      int64_t n = 0;
      if (!ParseInt(line, n) || n < -1 || n > kMaxElements) return DataLossError("RESP array length out of range");
      if (n == -1) return next;  // nil
      if (depth >= kMaxDepth) return DataLossError("RESP arrays nested too deep");
      out.type = Reply::Type::kArray;
      out.elements.resize(size_t(n));
      size_t p = next;
      for (Reply& element : out.elements) {
        ASSIGN_OR_RETURN(p, ParseAt(in, p, element, depth + 1));
        if (p == kIncomplete) return kIncomplete;
      }
      return p;
    }
    default: return DataLossError("not a RESP reply");
  }
}

}  // namespace

std::string Endpoint::Describe() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port) + "/" + std::to_string(db);
}

StatusOr<Endpoint> ParseDsn(std::string_view dsn) {
  constexpr std::string_view kScheme = "redis://";
  if (dsn.starts_with("rediss://")) return InvalidArgumentError("rediss:// (TLS to Redis) is not supported");
  if (!dsn.starts_with(kScheme)) return InvalidArgumentError("a Redis DSN starts with redis://");
  std::string_view rest = dsn.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgumentError("a Redis DSN takes no query or fragment");
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  Endpoint out;
  // The last '@' ends the credentials: a password may hold an unescaped '@', a host never does.
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError("Redis credentials are written redis://:password@host or redis://user:password@host");
    }
    ASSIGN_OR_RETURN(out.user, PercentDecode(userinfo.substr(0, colon), "user"));
    ASSIGN_OR_RETURN(std::string password, PercentDecode(userinfo.substr(colon + 1), "password"));
    out.password = SecretBytes(std::string_view(password));
    OPENSSL_cleanse(password.data(), password.size());
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgumentError("unclosed '[' in the Redis host");
    out.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return InvalidArgumentError("junk after the Redis host");
    if (!after.empty()) port = after.substr(1);
  } else {
    size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return InvalidArgumentError("a Redis DSN needs a host");
  if (!port.empty() && (!ParseInt(port, out.port) || out.port == 0)) {
    return InvalidArgumentError("the Redis port must be 1 to 65535");
  }
  if (!path.empty() && (!ParseInt(path, out.db) || out.db < 0 || out.db > INT32_MAX)) {
    return InvalidArgumentError("the Redis database must be a number (redis://host:port/0)");
  }
  return out;
}

void AppendCommand(std::string& out, std::span<const std::string_view> args) {
  out += "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
}

StatusOr<size_t> ParseReply(std::string_view in, Reply& out) {
  ASSIGN_OR_RETURN(size_t end, ParseAt(in, 0, out, 0));
  return end == kIncomplete ? 0 : end;
}

// --- Connection ---

struct Connection::Impl {
  asio::io_context io{1};  // this connection's alone, run only by the thread holding it
  tcp::socket socket{io};
  std::optional<tcp::resolver> resolver;
  std::string endpoint;  // Describe(), for errors
  std::string out;       // the command being written
  std::string in;        // bytes read and not yet taken by a reply
  std::array<char, 4096> chunk{};
  Reply reply;
  Status failure;  // of the operation that ran last
  bool broken = false;

  // Runs what was started on `io` until it finishes or `deadline` passes. On the deadline the
  // socket is closed, which aborts the operations, and the connection is broken.
  Status Run(Deadline deadline, std::string_view what) {
    try {
      io.restart();
      io.run_until(deadline);
      if (io.stopped()) return Status();
      error_code ignored;
      if (resolver) resolver->cancel();
      socket.close(ignored);
      io.restart();
      io.run();  // the aborted handlers, at once
    } catch (const std::exception& e) {
      broken = true;
      error_code ignored;
      socket.close(ignored);
      return UnavailableError(std::string(what) + " " + endpoint + ": " + e.what());
    }
    broken = true;
    return DeadlineExceededError(std::string(what) + " " + endpoint + " did not finish in time");
  }

  void Fail(const error_code& ec, std::string_view what) {
    failure = UnavailableError(std::string(what) + " " + endpoint + ": " +
                               (ec == asio::error::eof ? std::string("closed by the server") : ec.message()));
  }

  // Reads until `in` holds a whole reply, which it moves into `reply`.
  void ReadReply() {
    StatusOr<size_t> parsed = ParseReply(in, reply);
    if (!parsed.ok()) {
      failure = parsed.status().Annotate("reading from " + endpoint);
      return;
    }
    if (*parsed > 0) {
      in.erase(0, *parsed);
      return;
    }
    socket.async_read_some(asio::buffer(chunk), [this](const error_code& ec, size_t n) {
      if (ec) return Fail(ec, "reading from");
      in.append(chunk.data(), n);
      ReadReply();
    });
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

bool Connection::broken() const {
  return impl_->broken;
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const Endpoint& endpoint, Deadline deadline) {
  auto impl = std::make_unique<Impl>();
  Impl& c = *impl;
  c.endpoint = endpoint.Describe();
  c.resolver.emplace(c.io);
  c.resolver->async_resolve(endpoint.host, std::to_string(endpoint.port),
                            [&c](const error_code& ec, const tcp::resolver::results_type& results) {
                              if (ec) return c.Fail(ec, "resolving");
                              asio::async_connect(c.socket, results,
                                                  [&c](const error_code& connect_ec, const tcp::endpoint&) {
                                                    if (connect_ec) c.Fail(connect_ec, "connecting to");
                                                  });
                            });
  RETURN_IF_ERROR(c.Run(deadline, "connecting to"));
  c.resolver.reset();
  RETURN_IF_ERROR(c.failure);
  error_code ignored;
  c.socket.set_option(tcp::no_delay(true), ignored);  // one small command, answered at once

  std::unique_ptr<Connection> conn(new Connection(std::move(impl)));
  if (!endpoint.password.empty()) {
    std::string password(endpoint.password.bytes().begin(), endpoint.password.bytes().end());
    StatusOr<Reply> r = endpoint.user.empty() ? conn->Call({"AUTH", password}, deadline)
                                              : conn->Call({"AUTH", endpoint.user, password}, deadline);
    OPENSSL_cleanse(password.data(), password.size());
    OPENSSL_cleanse(conn->impl_->out.data(), conn->impl_->out.size());
    RETURN_IF_ERROR(r);
    // Redis's answer (WRONGPASS …) names no credential, so it can be shown.
    if (r->is_error()) return UnavailableError("Redis at " + c.endpoint + " refused AUTH: " + r->text);
  }
  if (endpoint.db != 0) {
    ASSIGN_OR_RETURN(Reply r, conn->Call({"SELECT", std::to_string(endpoint.db)}, deadline));
    if (r.is_error()) return UnavailableError("Redis at " + c.endpoint + " refused SELECT: " + r.text);
  }
  return conn;
}

StatusOr<Reply> Connection::Call(std::span<const std::string_view> args, Deadline deadline) {
  Impl& c = *impl_;
  if (c.broken) return UnavailableError("the connection to " + c.endpoint + " is closed");
  c.out.clear();
  AppendCommand(c.out, args);
  c.failure = Status();
  asio::async_write(c.socket, asio::buffer(c.out), [&c](const error_code& ec, size_t) {
    if (ec) return c.Fail(ec, "writing to");
    c.ReadReply();
  });
  RETURN_IF_ERROR(c.Run(deadline, "a command to"));
  if (!c.failure.ok()) {
    c.broken = true;
    error_code ignored;
    c.socket.close(ignored);
    return c.failure;
  }
  return std::move(c.reply);
}

}  // namespace neosl::redis
