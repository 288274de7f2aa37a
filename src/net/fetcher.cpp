#include "net/fetcher.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

#include "tee/http1.h"
#include "tee/relay_stream.h"

namespace neosl::net {
namespace {

namespace http1 = tee::http1;
using std::chrono::milliseconds;

constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

StatusOr<std::string> NormalizeMethod(std::string_view method) {
  std::string upper(method);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view m : kMethods) {
    if (upper == m) return upper;
  }
  return InvalidArgumentError("unsupported HTTP method (GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS are)");
}

std::optional<std::string_view> FindHeader(const http1::Headers& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (http1::Lower(name) == lower_name) return value;
  }
  return std::nullopt;
}

void RemoveHeaders(http1::Headers& headers, std::initializer_list<std::string_view> lower_names) {
  std::erase_if(headers, [&](const auto& h) {
    std::string lname = http1::Lower(h.first);
    return std::find(lower_names.begin(), lower_names.end(), lname) != lower_names.end();
  });
}

}  // namespace

struct Fetcher::Impl {
  Impl(FetcherOptions o, tee::ByteRelay& r) : options(std::move(o)), relay(r) {}

  // One hop: a fresh connection, one request, one response.
  StatusOr<http1::Response> Exchange(const http1::Url& url, const std::string& method, const http1::Headers& headers,
                                     std::span<const uint8_t> body, const tee::RelayDeadline& deadline,
                                     bool following) const {
    tee::WipedString wire;
    RETURN_IF_ERROR(http1::WriteRequest(method, url, headers, body, options.user_agent, wire.get()));
    std::unique_ptr<tee::RelayStream> stream;
    if (url.https) {
      ASSIGN_OR_RETURN(stream, tls->Connect(relay, url, deadline));
    } else {
      ASSIGN_OR_RETURN(stream, tee::ConnectPlain(relay, url, deadline));
    }
    http1::ResponseReader reader(url.host, {.head_request = method == "HEAD",
                                            .max_body_bytes = options.max_response_bytes,
                                            .max_header_bytes = options.max_header_bytes,
                                            .skip_redirect_body = following});
    return tee::Exchange(*stream, wire.get(), reader);
  }

  const FetcherOptions options;
  tee::ByteRelay& relay;
  std::unique_ptr<tee::TlsConnector> tls;  // immutable after Create
};

Fetcher::Fetcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Fetcher::~Fetcher() = default;

StatusOr<std::unique_ptr<Fetcher>> Fetcher::Create(FetcherOptions options, tee::ByteRelay& relay) {
  if (options.default_timeout.count() <= 0 || options.max_timeout.count() <= 0) {
    return InvalidArgumentError("fetcher timeouts must be positive");
  }
  if (options.max_redirects < 0) return InvalidArgumentError("fetcher max_redirects must not be negative");
  if (options.max_response_bytes == 0 || options.max_header_bytes == 0) {
    return InvalidArgumentError("fetcher response limits must be positive");
  }
  if (options.user_agent.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return InvalidArgumentError("fetcher user_agent has control characters");
  }
  auto impl = std::make_unique<Impl>(std::move(options), relay);
  ASSIGN_OR_RETURN(impl->tls, tee::TlsConnector::Create(impl->options.ca_file, impl->options.ca_pem));
  return std::unique_ptr<Fetcher>(new Fetcher(std::move(impl)));
}

StatusOr<FetchResponse> Fetcher::Fetch(const FetchRequest& request) const {
  const FetcherOptions& o = impl_->options;
  if (request.timeout.count() < 0) return InvalidArgumentError("fetch timeout must not be negative");
  const milliseconds timeout =
      std::min(request.timeout.count() == 0 ? o.default_timeout : request.timeout, o.max_timeout);
  const auto deadline = tee::RelayDeadline::After(timeout);

  ASSIGN_OR_RETURN(std::string method, NormalizeMethod(request.method));
  ASSIGN_OR_RETURN(http1::Url url, http1::ParseUrl(request.url));
  RETURN_IF_ERROR(http1::ValidateHeaders(request.headers));
  if (!request.body.empty() && (method == "GET" || method == "HEAD")) {
    return InvalidArgumentError("a " + method + " request cannot have a body");
  }
  if (request.body.size() > o.max_request_bytes) {
    return ResourceExhaustedError("request body over " + std::to_string(o.max_request_bytes) + " bytes");
  }
  http1::Headers headers = request.headers;
  if (!FindHeader(headers, "accept")) headers.emplace_back("Accept", "*/*");
  std::span<const uint8_t> body = request.body;

  const bool follow = request.redirect == RedirectMode::kFollow;
  for (int redirects = 0;; ++redirects) {
    ASSIGN_OR_RETURN(http1::Response response, impl_->Exchange(url, method, headers, body, deadline, follow));
    std::optional<std::string_view> location = FindHeader(response.headers, "location");
    if (!http1::IsRedirectStatus(response.status) || !location || request.redirect == RedirectMode::kManual) {
      FetchResponse out{.status = response.status,
                        .status_text = std::move(response.reason),
                        .headers = std::move(response.headers),
                        .body = std::move(response.body),
                        .url = url.Spec(),
                        .redirected = redirects > 0};
      for (auto& header : out.headers) header.first = http1::Lower(header.first);
      return out;
    }
    if (!follow) {
      return FailedPreconditionError(url.host + " answered with a redirect (" + std::to_string(response.status) +
                                     ") and the request's redirect mode is error");
    }
    if (redirects == o.max_redirects) {
      return ResourceExhaustedError("more than " + std::to_string(o.max_redirects) + " redirects (the last from " +
                                    url.host + ")");
    }
    auto next = http1::ResolveReference(url, *location);
    if (!next.ok()) {
      return InvalidArgumentError("redirect from " + url.host +
                                  " to a bad URL: " + std::string(next.status().message()));
    }
    if (url.https && !next->https) {
      return PermissionDeniedError("redirect from https://" + url.Authority() + " to plain http refused");
    }
    const int status = response.status;
    if ((status == 303 && method != "GET" && method != "HEAD") ||
        ((status == 301 || status == 302) && method == "POST")) {
      method = "GET";
      body = {};
      RemoveHeaders(headers, {"content-type", "content-encoding", "content-language", "content-location"});
    }
    // Credentials were meant for the origin that was asked, not wherever it points.
    if (next->Origin() != url.Origin()) RemoveHeaders(headers, {"authorization", "cookie", "proxy-authorization"});
    url = *std::move(next);
  }
}

}  // namespace neosl::net
