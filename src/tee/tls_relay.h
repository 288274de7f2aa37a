// Outbound HTTPS from inside the enclave, which opens no sockets.
//
// The host owns the sockets and moves opaque bytes (a ByteRelay, reached as OCALLs); TLS is
// terminated here, over memory BIOs, with the certificate chain and host name checked against a
// CA store loaded inside the enclave. The host therefore sees only ciphertext: request headers
// and bodies, which may carry secrets, never leave the enclave in clear.
//
//   ByteRelay (interface)  ── implemented by SocketRelay on the host (socket_relay.h), and by the
//                             channel's OCALL proxy inside the enclave.
//   EnclaveTlsClient       ── HTTP/1.1 over TLS over a ByteRelay (framing in http1.h, the TLS
//                             connection in relay_stream.h, both shared with net::Fetcher).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace neosl::tee {

// A stream of bytes to a remote host, moved by someone else. Thread-safe implementations;
// connection ids are never reused within one relay.
class ByteRelay {
 public:
  virtual ~ByteRelay() = default;
  // Resolves and connects to host:port. PERMISSION_DENIED when the destination is not allowed,
  // UNAVAILABLE when it cannot be reached, DEADLINE_EXCEEDED after `timeout`.
  virtual StatusOr<uint64_t> Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) = 0;
  // Writes all of `data`.
  virtual Status Send(uint64_t conn, std::span<const uint8_t> data) = 0;
  // Waits up to `timeout` for data and returns at most `max_bytes` of what is available; an empty
  // vector means the peer closed. DEADLINE_EXCEEDED when nothing arrived in time.
  virtual StatusOr<std::vector<uint8_t>> Recv(uint64_t conn, size_t max_bytes, std::chrono::milliseconds timeout) = 0;
  // Idempotent; unknown ids are ignored.
  virtual void Close(uint64_t conn) = 0;
};

struct TlsClientOptions {
  // PEM bundle, read at construction: before the sandbox closes the file system.
  std::string ca_file;
  // Alternatively (or additionally) inline PEM. With neither, the system bundle is read at
  // construction (SSL_CERT_FILE or OpenSSL's default cert file).
  std::string ca_pem;
  size_t max_response_bytes = 8u << 20;  // body, after de-chunking
  size_t max_header_bytes = 64u << 10;   // status line and headers
};

struct HttpsRequest {
  std::string method = "GET";
  std::string url;  // https://host[:port][/path][?query]
  // Host, Content-Length, Transfer-Encoding and Connection are set by the client.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<uint8_t> body;
  std::chrono::milliseconds timeout{10'000};  // whole request: connect, handshake, response
};

struct HttpsResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<uint8_t> body;
};

class EnclaveTlsClient {
 public:
  // INVALID_ARGUMENT when the CA file cannot be read or holds no certificate. `relay` must
  // outlive the client.
  static StatusOr<std::unique_ptr<EnclaveTlsClient>> Create(TlsClientOptions options, ByteRelay& relay);
  ~EnclaveTlsClient();
  EnclaveTlsClient(const EnclaveTlsClient&) = delete;
  EnclaveTlsClient& operator=(const EnclaveTlsClient&) = delete;

  // One request on a fresh connection (`Connection: close`). Thread-safe.
  // INVALID_ARGUMENT: not an https:// URL, or a malformed method/header.
  // UNAVAILABLE: connect or relay failure, TLS failure other than trust, malformed response.
  // UNAUTHENTICATED: "certificate verification failed: <reason>".
  // DEADLINE_EXCEEDED: request.timeout passed. RESOURCE_EXHAUSTED: response over the limits.
  // PERMISSION_DENIED: the relay refused the destination.
  // Error messages name the host, never the path, query, headers or body.
  StatusOr<HttpsResponse> Fetch(const HttpsRequest& request);

 private:
  struct Impl;
  explicit EnclaveTlsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::tee
