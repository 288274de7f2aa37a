// The request and response the gateway's handlers see, independent of Boost.Beast so that only
// server.cpp pays for Beast's headers. Views point into the connection's buffers and are valid
// while the request is being handled.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neosl::gateway {

struct HttpRequest {
  std::string_view method;  // "GET", upper case as sent
  std::string_view target;  // path and query, as sent
  std::string_view body;
  std::string remote_address;  // "127.0.0.1"
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  // Case-insensitive header lookup; empty if absent.
  std::string_view Header(std::string_view name) const;
  std::string_view Path() const { return target.substr(0, target.find('?')); }
  std::string_view Query() const;
  // The value of a query parameter, percent-decoded; false if absent.
  bool QueryParam(std::string_view name, std::string* value) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string PercentDecode(std::string_view s, bool* ok);

}  // namespace neosl::gateway
