// A minimal Redis client: RESP2 over one TCP connection (Boost.Asio), every exchange bounded by
// a deadline. It is what the shared rate limits need (core/redis_bucket_store.h) and no more: one
// command at a time per connection, no pub/sub, no TLS, no cluster redirections.
//
// Why not hiredis: its blocking API bounds each socket call, not a whole exchange, and its async
// API wants an event-loop adapter Debian does not ship for Asio; the protocol subset here is a
// few dozen lines, and keeps the dependency list as it is.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.h"
#include "core/status.h"

namespace neosl::redis {

using Deadline = std::chrono::steady_clock::time_point;

// Where a Redis server is, from a DSN: redis://[[user]:password@]host[:port][/db]. User and
// password may be percent-encoded; an IPv6 host is written in brackets.
struct Endpoint {
  std::string host;
  uint16_t port = 6379;
  std::string user;      // ACL user; empty: the password alone (AUTH password)
  SecretBytes password;  // empty: no AUTH
  int64_t db = 0;

  // "host:port/db", for logs and errors: never the credentials.
  std::string Describe() const;
};

// INVALID_ARGUMENT for anything else than the form above (rediss:// included: no TLS here). The
// message never repeats the DSN, which may hold the password.
StatusOr<Endpoint> ParseDsn(std::string_view dsn);

// One RESP2 reply.
struct Reply {
  enum class Type { kSimpleString, kError, kInteger, kBulkString, kNil, kArray };
  Type type = Type::kNil;
  std::string text;  // simple string, error ("NOSCRIPT No matching script…"), bulk string
  int64_t integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::kError; }
};

// Appends one command, a RESP array of bulk strings.
void AppendCommand(std::string& out, std::span<const std::string_view> args);

// Decodes the reply at the front of `in` into `out`: the number of bytes it took, 0 while `in`
// holds only its beginning, DATA_LOSS for bytes that are not RESP2 (or nest deeper, or are longer,
// than any reply to the commands sent here).
StatusOr<size_t> ParseReply(std::string_view in, Reply& out);

class Connection {
 public:
  // Resolves, connects, authenticates and selects the database, all before `deadline`.
  // UNAVAILABLE, or DEADLINE_EXCEEDED, naming the endpoint (never the password).
  static StatusOr<std::unique_ptr<Connection>> Open(const Endpoint& endpoint, Deadline deadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one command and reads its reply before `deadline`. A Redis error (-NOSCRIPT …) is a
  // Reply of type kError. A failed Status (UNAVAILABLE, DEADLINE_EXCEEDED) is about the
  // connection, which is then broken(): a late reply would answer the wrong command.
  StatusOr<Reply> Call(std::span<const std::string_view> args, Deadline deadline);
  StatusOr<Reply> Call(std::initializer_list<std::string_view> args, Deadline deadline) {
    return Call(std::span<const std::string_view>(args.begin(), args.size()), deadline);
  }

  bool broken() const;

 private:
  struct Impl;  // keeps Asio out of this header
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::redis
