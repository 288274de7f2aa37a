// The outbound HTTP client behind the JavaScript runtime's fetch() and the oracle.
//
// It runs inside the enclave, which has no sockets: every connection goes through a
// tee::ByteRelay (the host's SocketRelay, reached as OCALLs), and the host resolves the name and
// refuses private, loopback, link-local and metadata addresses that the operator has not allowed
// (net.allow_private). https terminates inside the enclave, verified against trust anchors read
// at construction, so the host moves only ciphertext; plain http crosses the host in clear.
//
// Each redirect hop is a fresh connection through the relay, so the host checks the destination
// of every hop the same way it checks the first.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tee/tls_relay.h"

namespace neosl::net {

// What to do with a redirect (301, 302, 303, 307, 308 with a Location), as in WHATWG fetch.
enum class RedirectMode {
  kFollow,  // follow up to FetcherOptions::max_redirects hops
  kManual,  // return the redirect response itself
  kError,   // fail with FAILED_PRECONDITION
};

struct FetchRequest {
  // GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS, in any case (sent upper-case).
  std::string method = "GET";
  // http:// or https://; IPv6 literals in brackets; the fragment is dropped; percent escapes
  // are sent as given.
  std::string url;
  // Host, Content-Length, Transfer-Encoding and Connection are set by the fetcher.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<uint8_t> body;  // not allowed with GET or HEAD
  // The whole call: connect, TLS, every redirect, the body. Zero means the options' default;
  // anything above the options' maximum is capped to it.
  std::chrono::milliseconds timeout{0};
  RedirectMode redirect = RedirectMode::kFollow;
};

struct FetchResponse {
  int status = 0;
  std::string status_text;                                   // the reason phrase, possibly empty
  std::vector<std::pair<std::string, std::string>> headers;  // lower-cased names, in order
  std::vector<uint8_t> body;
  std::string url;          // the final URL, after redirects (normalised, without fragment)
  bool redirected = false;  // whether any redirect was followed
};

struct FetcherOptions {
  // Trust anchors for https, read at construction (before the sandbox closes the file system):
  // a PEM file and/or inline PEM; with neither, the system bundle.
  std::string ca_file;
  std::string ca_pem;
  std::chrono::milliseconds default_timeout{10'000};
  std::chrono::milliseconds max_timeout{30'000};
  int max_redirects = 5;
  size_t max_response_bytes = 2u << 20;    // body, after de-chunking
  size_t max_header_bytes = 64u << 10;     // status line and headers of one response
  size_t max_request_bytes = 1u << 20;     // request body
  std::string user_agent = "neosl-fetch";  // sent unless the request has its own
};

class Fetcher {
 public:
  // INVALID_ARGUMENT when the trust anchors cannot be read or the options make no sense.
  // `relay` must outlive the fetcher.
  static StatusOr<std::unique_ptr<Fetcher>> Create(FetcherOptions options, tee::ByteRelay& relay);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // One request (plus its redirects), each hop on a fresh connection (`Connection: close`).
  // Thread-safe. Any HTTP status is a response; errors are:
  // INVALID_ARGUMENT: a bad method, URL (scheme, credentials, host, port) or header, a body with
  //   GET/HEAD, or a redirect to such a URL.
  // PERMISSION_DENIED: the relay refused the destination (of any hop), or a redirect from https
  //   to http.
  // UNAUTHENTICATED: "certificate verification failed: …".
  // DEADLINE_EXCEEDED: the timeout passed. FAILED_PRECONDITION: a redirect in RedirectMode::kError.
  // RESOURCE_EXHAUSTED: more than max_redirects redirects, "response body over N bytes",
  //   response headers or the request body over their limits.
  // UNAVAILABLE: the destination cannot be reached, TLS or the response is broken.
  // Messages name the host, never a path, query, header value or body.
  StatusOr<FetchResponse> Fetch(const FetchRequest& request) const;

 private:
  struct Impl;
  explicit Fetcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::net
