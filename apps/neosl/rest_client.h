// A small synchronous client for the neosl REST API, used by the CLI commands that talk to a
// running server (`neosl secrets …`). One request per connection: the commands make one or two
// calls, so keep-alive would buy nothing.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/status.h"

namespace neosl::app {

struct RestClientOptions {
  std::string url = "http://127.0.0.1:8080";  // http(s)://host[:port]
  std::string api_key;                        // sent as "Authorization: Bearer …" when set
  std::string ca_file;                        // https: a CA to trust besides the system store
  std::chrono::milliseconds timeout{30'000};  // per request: connect, write and read together
};

class RestClient {
 public:
  // INVALID_ARGUMENT for a URL that is not http(s)://host[:port]; for https, an unreadable
  // --ca-file is INVALID_ARGUMENT too.
  static StatusOr<std::unique_ptr<RestClient>> Create(RestClientOptions options);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // Sends `method target` with a JSON `body` (none when empty) and returns the parsed JSON of a
  // 2xx answer. Any other status becomes the server's own error
  // ({"error":{"code","message"}} → Status(code, message)); an answer that is not JSON is
  // UNKNOWN "HTTP <status>". The server unreachable is UNAVAILABLE; out of time,
  // DEADLINE_EXCEEDED. The body is sent as given and never appears in an error.
  StatusOr<boost::json::value> Call(std::string_view method, const std::string& target, std::string_view body = {});

  // Percent-encodes one path segment (RFC 3986 unreserved characters stay as they are).
  static std::string EscapeSegment(std::string_view segment);

 private:
  struct Impl;
  explicit RestClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::app
