// A small synchronous HTTP/1.1 client for tests (Boost.Beast), plain or TLS, keeping its
// connection alive between requests like a real client would.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace neosl::testing {

struct HttpResult {
  int status = 0;  // 0: the request failed at the transport level; `error` says why
  std::string error;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
  bool keep_alive = false;

  std::string Header(const std::string& name) const;
};

class HttpClient {
 public:
  // `address` is "host:port". With `tls`, the server certificate must chain to `ca_file`.
  explicit HttpClient(std::string address, bool tls = false, std::string ca_file = "");
  ~HttpClient();

  HttpResult Request(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::vector<std::pair<std::string, std::string>>& headers = {});
  HttpResult Get(const std::string& target, const std::string& bearer = "");
  HttpResult Post(const std::string& target, const std::string& body, const std::string& bearer = "");
  HttpResult Delete(const std::string& target, const std::string& bearer = "");

  // How many TCP connections this client has opened (keep-alive check).
  int connections_opened() const { return connections_; }

 private:
  struct Conn;
  std::string address_;
  bool tls_;
  std::string ca_file_;
  std::unique_ptr<Conn> conn_;
  int connections_ = 0;
};

// A raw TCP connection for tests that need to send malformed, partial or pipelined bytes.
class RawConnection {
 public:
  explicit RawConnection(const std::string& address);
  ~RawConnection();
  bool connected() const;
  bool Send(const std::string& bytes);
  // Reads one HTTP response; status 0 on error or timeout.
  HttpResult ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Blocks until the peer closes the connection (true) or `timeout` passes (false).
  bool WaitForClose(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::testing
