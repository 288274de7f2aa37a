// HTTP/1.1 framing for requests made over a ByteRelay, shared by EnclaveTlsClient (https from
// the enclave) and net::Fetcher (http and https for functions and the oracle): URLs, writing a
// request, and reading one response incrementally. No I/O here; relay_stream.h moves the bytes.
//
// One request per connection (`Connection: close`): no pipelining, no connection reuse.
// Error messages name the host, never a path, query, header value or body: those may carry keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace neosl::tee::http1 {

using Headers = std::vector<std::pair<std::string, std::string>>;

// An absolute http(s) URL, as much of it as a client needs. Percent escapes are kept as given.
struct Url {
  bool https = true;
  std::string host;  // lower-case; an IPv6 literal without its brackets
  uint16_t port = 443;
  std::string target;  // path and query, "/" at least; the fragment is dropped
  bool ip_literal = false;
  bool ipv6 = false;

  uint16_t DefaultPort() const { return https ? 443 : 80; }
  // host[:port] as the Host header wants it: brackets around IPv6, no default port.
  std::string Authority() const;
  // scheme://authority, for same-origin checks.
  std::string Origin() const;
  // The whole URL, normalised: lower-case scheme and host, no default port, no fragment.
  std::string Spec() const;
};

// Parses an absolute http:// or https:// URL. INVALID_ARGUMENT for other schemes, credentials
// in the authority, a missing or malformed host (non-ASCII, bad IPv4/IPv6 literals, bad labels),
// a bad port, or control characters. What a request target cannot carry raw (space,
// " < > \ ^ ` { | } and non-ASCII bytes) is percent-encoded, as browsers do; existing escapes are
// kept as given. Messages never repeat the URL.
StatusOr<Url> ParseUrl(std::string_view url);

// Resolves a reference (a Location header: absolute, //authority, /path, ?query or relative
// path) against `base` as RFC 3986 section 5 does. INVALID_ARGUMENT as ParseUrl.
StatusOr<Url> ResolveReference(const Url& base, std::string_view reference);

bool IsToken(std::string_view s);
std::string Lower(std::string_view s);

// Checks caller-supplied headers: token names, no CR, LF or NUL in values, and none of the
// headers the client frames itself (Host, Content-Length, Transfer-Encoding, Connection).
// INVALID_ARGUMENT naming the header by position or by its (reserved) name, never its value.
Status ValidateHeaders(const Headers& headers);

// Appends the request line, Host, `headers` (validated by the caller), User-Agent unless given,
// Content-Length when there is a body or the method usually has one, `Connection: close` and
// the body to `out`. INVALID_ARGUMENT when `method` is not a token.
Status WriteRequest(std::string_view method, const Url& url, const Headers& headers, std::span<const uint8_t> body,
                    std::string_view user_agent, std::string& out);

struct Response {
  int status = 0;
  std::string reason;  // the reason phrase, possibly empty
  Headers headers;     // names as the server sent them, in order
  std::vector<uint8_t> body;
};

struct ReaderOptions {
  bool head_request = false;  // a response to HEAD has no body, whatever its headers say
  size_t max_body_bytes = 8u << 20;
  size_t max_header_bytes = 64u << 10;
  // A redirect (301, 302, 303, 307, 308 with a Location) is complete after its headers: a
  // client that follows it does not need the body.
  bool skip_redirect_body = false;
};

bool IsRedirectStatus(int status);

// Reads one response: status line and headers (interim 1xx responses are skipped), then a body
// framed by Content-Length, chunked transfer coding, or the end of the connection.
// UNAVAILABLE for a malformed response or an early close, RESOURCE_EXHAUSTED over the limits.
class ResponseReader {
 public:
  ResponseReader(std::string host, ReaderOptions options);

  bool done() const { return state_ == State::kDone; }
  Response Take() { return std::move(response_); }
  Status Add(std::string_view data);
  Status OnEof();

 private:
  enum class State { kHeaders, kFixed, kChunkSize, kChunkData, kChunkEnd, kTrailers, kUntilClose, kDone };

  Status Process();
  Status ParseHead(std::string_view head);
  Status StartBody();
  Status AppendBody(std::string_view bytes);
  Status Malformed(std::string_view what) const;
  Status BodyTooLarge() const;
  Status HeadersTooLarge() const;

  const std::string host_;
  const ReaderOptions options_;
  State state_ = State::kHeaders;
  std::string in_;
  size_t header_bytes_ = 0;
  uint64_t remaining_ = 0;
  Response response_;
};

}  // namespace neosl::tee::http1
