#include "services/oracle/source_fetch.h"

#include <algorithm>
#include <optional>

#include <openssl/crypto.h>

#include "services/oracle/jpath.h"
#include "tee/http1.h"

namespace neosl::oracle {
namespace {

namespace http1 = tee::http1;
using std::chrono::milliseconds;

// Neo's OracleHttpsProtocol: `int redirects = 2; do { … } while (message == null && redirects-- > 0)`.
constexpr int kMaxRedirects = 2;
constexpr size_t kMaxBodyBytes = size_t{2} << 20;
// A secret shorter than this is not looked for in results: it cannot be told from ordinary data.
constexpr size_t kMinCheckedSecretBytes = 8;

SourceOutcome Fail(ResponseCode code, std::string detail) {
  return SourceOutcome{.code = code, .result = {}, .detail = std::move(detail)};
}

void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool ContainsNoCase(const std::vector<std::string>& list, std::string_view item) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return http1::Lower(s) == item; });
}

std::string Join(const std::vector<std::string>& list) {
  std::string out;
  for (const std::string& item : list) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":", lower-cased.
std::optional<std::string> SchemeOf(std::string_view url) {
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 32) return std::nullopt;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(url[0])) return std::nullopt;
  for (char c : url.substr(0, colon)) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return std::nullopt;
  }
  return http1::Lower(url.substr(0, colon));
}

// A header value split at its placeholders: literal text, or (secret) a secret's name.
struct Segment {
  bool secret = false;
  std::string_view text;
};

// INVALID_ARGUMENT (without the value) when a `{{` does not open a well-formed placeholder.
StatusOr<std::vector<Segment>> SplitPlaceholders(std::string_view value) {
  std::vector<Segment> out;
  for (;;) {
    const size_t open = value.find("{{");
    if (open == std::string_view::npos) break;
    if (open > 0) out.push_back({false, value.substr(0, open)});
    value.remove_prefix(open);
    if (!value.starts_with(kSecretPlaceholderOpen)) {
      return InvalidArgumentError("'{{' must open a {{secrets.NAME}} placeholder");
    }
    value.remove_prefix(kSecretPlaceholderOpen.size());
    const size_t close = value.find(kSecretPlaceholderClose);
    if (close == std::string_view::npos || !IsSecretName(value.substr(0, close))) {
      return InvalidArgumentError("a {{secrets.NAME}} placeholder needs a NAME of 1 to 64 of A-Z a-z 0-9 _ -");
    }
    out.push_back({true, value.substr(0, close)});
    value.remove_prefix(close + kSecretPlaceholderClose.size());
  }
  if (!value.empty()) out.push_back({false, value});
  return out;
}

// ValidateSourceRequest without the filter, which Neo applies only to a successful response
// (so a bad filter on a source that answers 404 is NotFound, not Error).
Status ValidateFetchable(const SourceRequest& request, const SourceLimits& limits) {
  const std::optional<std::string> scheme = SchemeOf(request.url);
  if (!scheme) return InvalidArgumentError("url: not an absolute URL");
  if (!Contains(limits.schemes, *scheme)) {
    return InvalidArgumentError("url: the scheme '" + *scheme + "' is not allowed (allowed: " + Join(limits.schemes) +
                                ")");
  }
  if (request.url.find("{{") != std::string::npos) {
    return InvalidArgumentError("url: secrets can only be used in header values");
  }
  if (auto url = http1::ParseUrl(request.url); !url.ok()) return url.status().Annotate("url");
  RETURN_IF_ERROR(http1::ValidateHeaders(request.headers).Annotate("headers"));
  for (const auto& [name, value] : request.headers) {
    if (auto segments = SplitPlaceholders(value); !segments.ok()) return segments.status().Annotate("header " + name);
  }
  return Status();
}

// Strict UTF-8 as .NET's UTF8Encoding(false, true) decodes it: no overlong forms, no surrogates,
// nothing past U+10FFFF, no truncated sequences. A BOM is an ordinary U+FEFF.
bool IsStrictUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1fu, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0fu, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

const std::string* FindHeader(const http1::Headers& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;  // the fetcher lower-cases response header names
  }
  return nullptr;
}

// The request's headers with their secrets in, wiped when done.
class OutgoingHeaders {
 public:
  ~OutgoingHeaders() {
    for (auto& [name, value] : list) Wipe(value);
    for (std::string& value : secret_values) Wipe(value);
  }

  // Credentials were meant for the origin that was asked, not wherever it points.
  void DropCredentials() {
    for (size_t i = list.size(); i-- > 0;) {
      const std::string name = http1::Lower(list[i].first);
      if (holds_secret[i] || name == "authorization" || name == "cookie" || name == "proxy-authorization") {
        Wipe(list[i].second);
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
        holds_secret.erase(holds_secret.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }

  http1::Headers list;
  std::vector<bool> holds_secret;          // per entry of `list`
  std::vector<std::string> secret_values;  // every value put in, to keep out of outcomes
};

// Fills `out` from `given`, reading each placeholder's secret. kError naming the secret when it
// cannot be read or cannot go in a header.
std::optional<SourceOutcome> Interpolate(const std::vector<std::pair<std::string, std::string>>& given,
                                         const SecretLookup& secrets, OutgoingHeaders& out) {
  for (const auto& [name, value] : given) {
    auto segments = SplitPlaceholders(value);
    if (!segments.ok()) {
      return Fail(ResponseCode::kError, "header " + name + ": " + std::string(segments.status().message()));
    }
    std::string filled;
    bool holds_secret = false;
    for (const Segment& segment : *segments) {
      if (!segment.secret) {
        filled += segment.text;
        continue;
      }
      const std::string secret_name(segment.text);
      StatusOr<std::string> secret = secrets ? secrets(secret_name) : NotFoundError("no secrets");
      if (!secret.ok()) {
        Wipe(filled);
        return Fail(ResponseCode::kError, "secret " + secret_name + " is not available to this request");
      }
      std::string secret_value = std::move(secret).value();
      const bool fits = secret_value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
      if (fits) filled += secret_value;
      out.secret_values.push_back(std::move(secret_value));
      if (!fits) {
        Wipe(filled);
        return Fail(ResponseCode::kError, "secret " + secret_name + " cannot be sent in a header (CR, LF or NUL)");
      }
      holds_secret = true;
    }
    out.list.emplace_back(name, std::move(filled));
    out.holds_secret.push_back(holds_secret);
  }
  return std::nullopt;
}

SourceOutcome FromFetchError(const Status& status, const std::string& host) {
  const std::string message(status.message());
  switch (status.code()) {
    case StatusCode::kDeadlineExceeded: return Fail(ResponseCode::kTimeout, "timed out fetching from " + host);
    case StatusCode::kPermissionDenied: return Fail(ResponseCode::kForbidden, message);
    case StatusCode::kResourceExhausted:
      if (message.starts_with("response body over")) {
        return Fail(ResponseCode::kResponseTooLarge,
                    "the response from " + host + " is over " + std::to_string(kMaxBodyBytes) + " bytes");
      }
      if (message.starts_with("rate limit")) return Fail(ResponseCode::kError, "rate limited: " + host);
      return Fail(ResponseCode::kError, message);
    default: return Fail(ResponseCode::kError, message);
  }
}

// Neo's checks on a final (non-redirect) response, then the filter.
SourceOutcome Check(const net::FetchResponse& response, const std::string& host, const SourceRequest& request,
                    const SourceLimits& limits) {
  if (response.status == 404) return Fail(ResponseCode::kNotFound, host + " answered HTTP 404");
  if (response.status == 403) return Fail(ResponseCode::kForbidden, host + " answered HTTP 403");
  if (response.status < 200 || response.status > 299) {
    return Fail(ResponseCode::kError, host + " answered HTTP " + std::to_string(response.status));
  }

  const std::string* content_type = FindHeader(response.headers, "content-type");
  if (content_type == nullptr) {
    return Fail(ResponseCode::kContentTypeNotSupported, host + " sent no Content-Type");
  }
  std::string_view rest = *content_type;
  const size_t semicolon = rest.find(';');
  const std::string media = http1::Lower(Trim(rest.substr(0, semicolon)));
  if (!ContainsNoCase(limits.content_types, media)) {
    // The type is the server's text: shown only when it looks like one.
    const size_t slash = media.find('/');
    const bool showable = media.size() <= 64 && slash != std::string::npos &&
                          http1::IsToken(std::string_view(media).substr(0, slash)) &&
                          http1::IsToken(std::string_view(media).substr(slash + 1));
    return Fail(ResponseCode::kContentTypeNotSupported,
                host + " sent " + (showable ? media : std::string("a Content-Type")) + ", which is not allowed");
  }
  // Neo: a charset parameter must name UTF-8.
  std::string_view params = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
  while (!params.empty()) {
    const size_t end = params.find(';');
    const std::string_view param = Trim(params.substr(0, end));
    params = end == std::string_view::npos ? std::string_view() : params.substr(end + 1);
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos || http1::Lower(Trim(param.substr(0, eq))) != "charset") continue;
    std::string_view charset = Trim(param.substr(eq + 1));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
      charset = charset.substr(1, charset.size() - 2);
    }
    const std::string lower = http1::Lower(charset);
    if (lower != "utf-8" && lower != "utf8") {
      return Fail(ResponseCode::kError, host + " sent a charset other than UTF-8");
    }
  }

  const std::string_view body(reinterpret_cast<const char*>(response.body.data()), response.body.size());
  if (!IsStrictUtf8(body)) return Fail(ResponseCode::kError, "the response from " + host + " is not valid UTF-8");

  auto filtered = ApplyJPath(body, request.filter);
  if (!filtered.ok()) return Fail(ResponseCode::kError, host + ": " + std::string(filtered.status().message()));
  if (filtered->size() > limits.max_result_bytes) {
    return Fail(ResponseCode::kResponseTooLarge, "the result from " + host + " is " + std::to_string(filtered->size()) +
                                                     " bytes, over " + std::to_string(limits.max_result_bytes));
  }
  return SourceOutcome{.code = ResponseCode::kSuccess, .result = *std::move(filtered), .detail = {}};
}

// GET with Neo's redirect loop. The fetcher's own following is not used: a header that held a
// secret must not follow a redirect to another origin, which the fetcher cannot know.
SourceOutcome Run(const net::Fetcher& fetcher, http1::Url url, OutgoingHeaders& headers, const SourceRequest& request,
                  const SourceLimits& limits) {
  const auto deadline = std::chrono::steady_clock::now() + limits.timeout;
  for (int redirects = 0;; ++redirects) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Fail(ResponseCode::kTimeout, "timed out fetching from " + url.host);
    net::FetchRequest hop{
        .url = url.Spec(), .headers = headers.list, .timeout = left, .redirect = net::RedirectMode::kManual};
    auto response = fetcher.Fetch(hop);
    for (auto& [name, value] : hop.headers) Wipe(value);
    if (!response.ok()) return FromFetchError(response.status(), url.host);
    const std::string* location = FindHeader(response->headers, "location");
    if (!http1::IsRedirectStatus(response->status) || location == nullptr) {
      return Check(*response, url.host, request, limits);
    }
    if (redirects == kMaxRedirects) {
      return Fail(ResponseCode::kTimeout,
                  "more than " + std::to_string(kMaxRedirects) + " redirects (the last from " + url.host + ")");
    }
    auto next = http1::ResolveReference(url, *location);
    if (!next.ok()) return Fail(ResponseCode::kError, "redirect from " + url.host + " to a bad URL");
    if (url.https && !next->https) {
      return Fail(ResponseCode::kForbidden, "redirect from https://" + url.Authority() + " to plain http refused");
    }
    if (!Contains(limits.schemes, next->https ? "https" : "http")) {
      return Fail(ResponseCode::kProtocolNotSupported, "redirect from " + url.host + " to a scheme not allowed");
    }
    if (next->Origin() != url.Origin()) headers.DropCredentials();
    url = *std::move(next);
  }
}

}  // namespace

net::FetcherOptions OracleFetcherOptions(net::FetcherOptions base) {
  base.max_redirects = kMaxRedirects;
  base.max_response_bytes = kMaxBodyBytes;
  base.default_timeout = milliseconds(5000);
  base.user_agent = "neosl-oracle";
  return base;
}

bool IsSecretName(std::string_view name) {
  if (name.empty() || name.size() > kMaxSecretNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::vector<std::string> SecretNamesIn(std::string_view header_value) {
  std::vector<std::string> names;
  auto segments = SplitPlaceholders(header_value);
  if (!segments.ok()) {
    // Malformed further on: still report the names that are well-formed before that point.
    for (size_t at = header_value.find(kSecretPlaceholderOpen); at != std::string_view::npos;
         at = header_value.find(kSecretPlaceholderOpen, at + 1)) {
      std::string_view rest = header_value.substr(at + kSecretPlaceholderOpen.size());
      const size_t close = rest.find(kSecretPlaceholderClose);
      if (close != std::string_view::npos && IsSecretName(rest.substr(0, close)))
        names.emplace_back(rest.substr(0, close));
    }
    return names;
  }
  for (const Segment& s : *segments) {
    if (s.secret) names.emplace_back(s.text);
  }
  return names;
}

bool HasAllowedScheme(std::string_view url, const SourceLimits& limits) {
  const std::optional<std::string> scheme = SchemeOf(url);
  return scheme && Contains(limits.schemes, *scheme);
}

Status ValidateSourceRequest(const SourceRequest& request, const SourceLimits& limits) {
  RETURN_IF_ERROR(ValidateFetchable(request, limits));
  if (!request.filter.empty()) {
    // Any path Neo accepts runs on an empty object; one it does not fails whatever the data.
    auto filtered = ApplyJPath("{}", request.filter);
    if (!filtered.ok() && filtered.status().message().starts_with("filter")) return filtered.status();
  }
  return Status();
}

SourceOutcome FetchSource(const net::Fetcher& fetcher, const SourceRequest& request, const SourceLimits& limits,
                          const SecretLookup& secrets) {
  const std::optional<std::string> scheme = SchemeOf(request.url);
  if (!scheme) return Fail(ResponseCode::kError, "the url is not an absolute URL");
  // Neo answers a URL whose scheme it has no protocol for with ProtocolNotSupported.
  if (!Contains(limits.schemes, *scheme)) {
    return Fail(ResponseCode::kProtocolNotSupported, "the scheme '" + *scheme + "' is not supported");
  }
  if (Status valid = ValidateFetchable(request, limits); !valid.ok()) {
    return Fail(ResponseCode::kError, std::string(valid.message()));
  }
  auto url = http1::ParseUrl(request.url);
  if (!url.ok()) return Fail(ResponseCode::kError, std::string(url.status().message()));

  OutgoingHeaders headers;
  if (auto failed = Interpolate(request.headers, secrets, headers)) return *std::move(failed);
  const bool has_accept = std::any_of(headers.list.begin(), headers.list.end(),
                                      [](const auto& h) { return http1::Lower(h.first) == "accept"; });
  if (!has_accept && !limits.content_types.empty()) {
    // As Neo's client asks: the allowed types.
    headers.list.emplace_back("Accept", Join(limits.content_types));
    headers.holds_secret.push_back(false);
  }

  SourceOutcome outcome = Run(fetcher, *url, headers, request, limits);

  // Nothing that came back may carry a secret out: not a detail (which could quote what a server
  // echoed), and not a result, which would be published.
  for (const std::string& value : headers.secret_values) {
    if (value.size() >= kMinCheckedSecretBytes && outcome.result.find(value) != std::string::npos) {
      Wipe(outcome.result);
      outcome =
          Fail(ResponseCode::kError, "the response from " + url->host + " contains a secret sent with the request");
      break;
    }
  }
  // Details are compared without case: a server's text (a media type) may have been lower-cased.
  const std::string detail = http1::Lower(outcome.detail);
  for (const std::string& value : headers.secret_values) {
    std::string lower = http1::Lower(value);
    const bool found = !lower.empty() && detail.find(lower) != std::string::npos;
    Wipe(lower);
    if (found) {
      outcome.detail = std::string(ResponseCodeName(outcome.code)) + " (detail withheld: it held a secret)";
      break;
    }
  }
  return outcome;
}

}  // namespace neosl::oracle
