// A real HTTP or HTTPS server on a loopback address and port 0, for the fetcher's tests.
// Boost.Beast reads each request; the test's handler says what to write back, byte for byte, so
// tests control framing (chunks, close-delimited bodies, stalls). One thread, joined on
// destruction; connections still open then (stalled ones) are dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neosl::net::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;

  // The value of the first header named `name` (any case), or "" without one.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

struct Reply {
  // Written in order, then the connection is closed.
  std::vector<std::string> pieces;
  // Write `pieces`, then keep the connection open without a word until the server stops.
  bool stall = false;
};

// A complete response with Content-Length.
Reply Respond(int status, std::string_view reason, std::string_view body,
              const std::vector<std::pair<std::string, std::string>>& headers = {});
Reply Redirect(int status, std::string_view location);

class TestServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  // Plain HTTP on `address`; HTTPS when `cert_dir` holds cert.pem and key.pem.
  explicit TestServer(Handler handler, const std::string& address = "127.0.0.1", const std::string& cert_dir = "");
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" + path (https:// for a TLS server).
  std::string Url(std::string_view path) const;
  std::vector<ReceivedRequest> requests() const;
  int handshakes_failed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace neosl::net::testing
