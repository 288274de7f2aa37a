// One HTTP/1.1 exchange over a ByteRelay connection, in clear or through TLS terminated on this
// side of the relay (so the host moving the bytes sees only ciphertext). Shared by
// EnclaveTlsClient and net::Fetcher; http1.h does the framing.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tee/http1.h"
#include "tee/tls_relay.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace neosl::tee {

// The time left for a whole request (connect, handshake, every redirect, the body).
struct RelayDeadline {
  std::chrono::steady_clock::time_point at;
  std::chrono::milliseconds budget;  // the whole allowance, for messages

  static RelayDeadline After(std::chrono::milliseconds budget) {
    return {std::chrono::steady_clock::now() + budget, budget};
  }
  std::chrono::milliseconds Left() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(at - std::chrono::steady_clock::now());
  }
  // DEADLINE_EXCEEDED "request to <host> timed out after <budget> ms".
  Status Exceeded(const std::string& host) const;
};

// One relay connection. Destroying it closes the connection.
class RelayStream {
 public:
  virtual ~RelayStream() = default;
  virtual Status Write(std::string_view data) = 0;
  // Waits (until the deadline) for bytes and copies at most buf.size() of them; 0 means the peer
  // closed the stream.
  virtual StatusOr<size_t> Read(std::span<char> buf) = 0;
  // Called after a complete exchange; TLS sends its close_notify.
  virtual void Finish() {}
};

// Opens a relay connection to url.host:url.port that carries bytes as they are.
// PERMISSION_DENIED (the relay refused the destination), RESOURCE_EXHAUSTED, INVALID_ARGUMENT
// as the relay says; DEADLINE_EXCEEDED; UNAVAILABLE otherwise.
StatusOr<std::unique_ptr<RelayStream>> ConnectPlain(ByteRelay& relay, const http1::Url& url,
                                                    const RelayDeadline& deadline);

// The client side of TLS: trust anchors loaded once (before the sandbox closes the file
// system), then any number of concurrent connections. Thread-safe.
class TlsConnector {
 public:
  // `ca_file` and/or `ca_pem`; with neither, the system bundle (SSL_CERT_FILE or OpenSSL's
  // default file). INVALID_ARGUMENT when a source cannot be read or holds no certificate.
  static StatusOr<std::unique_ptr<TlsConnector>> Create(const std::string& ca_file, const std::string& ca_pem);
  ~TlsConnector();
  TlsConnector(const TlsConnector&) = delete;
  TlsConnector& operator=(const TlsConnector&) = delete;

  // Connects as ConnectPlain does, then completes a handshake that verifies the chain and the
  // host name (or IP address). UNAUTHENTICATED "certificate verification failed: <reason>";
  // UNAVAILABLE for other TLS failures.
  StatusOr<std::unique_ptr<RelayStream>> Connect(ByteRelay& relay, const http1::Url& url,
                                                 const RelayDeadline& deadline) const;

 private:
  explicit TlsConnector(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;  // immutable after Create
};

// Writes `request` and reads one response through `reader`; the buffers that held response
// bytes are wiped.
StatusOr<http1::Response> Exchange(RelayStream& stream, std::string_view request, http1::ResponseReader& reader);

// The request in clear, wiped when done: its headers and body may carry secrets.
class WipedString {
 public:
  WipedString() = default;
  ~WipedString();
  WipedString(const WipedString&) = delete;
  WipedString& operator=(const WipedString&) = delete;
  std::string& get() { return s_; }

 private:
  std::string s_;
};

}  // namespace neosl::tee
