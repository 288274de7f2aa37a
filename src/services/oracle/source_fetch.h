// One source of an oracle request, fetched inside the enclave the way Neo's OracleService fetches
// a URL (neo-project/neo src/Plugins/OracleService/OracleService.cs and
// Protocols/OracleHttpsProtocol.cs), so a contract sees the same response codes from neosl as
// from Neo's native oracle:
//
//   scheme not allowed                      ProtocolNotSupported   (Neo: no protocol for it)
//   destination refused by the host relay   Forbidden              (Neo: IsInternal() host)
//   HTTP 404 / 403                          NotFound / Forbidden
//   any other non-2xx (401 included)        Error                  (Neo: !IsSuccessStatusCode)
//   more than 2 redirects                   Timeout                (Neo: the loop ends without a
//                                                                   response, which it calls Timeout)
//   the time limit passed                   Timeout
//   Content-Type missing or not allowed     ContentTypeNotSupported
//   a charset other than UTF-8              Error                  (Neo: encoding != UTF8)
//   a body that is not strict UTF-8         Error                  (Neo: StrictUTF8 throws)
//   the JPath filter fails                  Error                  (Neo: Filter throws)
//   the filtered result over the limit      ResponseTooLarge       (Neo: CreateResponseTx)
//   the body over 2 MiB                     ResponseTooLarge
//   a host that cannot be reached, TLS      Error
//   the relay's per-host rate limit         Error, "rate limited: <host>"
//   a malformed URL or header               Error, without fetching
//
// The filter applies only to a successful response, as in Neo: a bad filter on a source that
// answers 404 is NotFound.
//
// Where neosl differs, on purpose: Neo caps the raw body at OracleResponse.MaxResultSize
// (65,535 bytes) while neosl reads up to 2 MiB and caps the filtered result, so a large document
// can still be filtered down; a missing Content-Type is ContentTypeNotSupported (Neo fails with
// Error on its null reference); a host that cannot be reached is Error (Neo's catch-all calls
// every exception Timeout); only 301/302/303/307/308 redirect (Neo follows any Location);
// https → http redirects are Forbidden. A byte-order mark is valid UTF-8 and kept, as Neo's
// StrictUTF8.GetString keeps it.
//
// Headers may carry `{{secrets.NAME}}` in their values, replaced with the secret only here, at
// fetch time. A secret value never appears in an outcome's detail (compared without case); a
// result that contains one of 8 bytes or more (a server echoing the credential) is Error rather
// than published. Shorter values cannot be told from ordinary data and are not looked for. Headers that held a
// secret are dropped, with Authorization and Cookie, when a redirect leaves the origin.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "net/fetcher.h"
#include "services/oracle/consensus.h"

namespace neosl::oracle {

// The shared fetcher's limits for the oracle: at most 2 redirects (Neo's loop), bodies up to
// 2 MiB, a 5 s default timeout, user agent "neosl-oracle". Other fields come from `base` (the
// trust anchors, say).
net::FetcherOptions OracleFetcherOptions(net::FetcherOptions base = {});

struct SourceLimits {
  // The whole call, redirects included (Neo's Https.Timeout default: 5 s).
  std::chrono::milliseconds timeout{5000};
  // Allowed media types, compared without case; parameters such as charset are not part of it.
  std::vector<std::string> content_types{"application/json", "text/plain"};
  // Neo's OracleResponse.MaxResultSize, applied to the filtered result.
  size_t max_result_bytes = 65535;
  // Lower-case; only "http" and "https" can be fetched.
  std::vector<std::string> schemes{"https", "http"};
};

struct SourceRequest {
  std::string url;
  std::string filter;  // Neo JPath; empty: the body as it came
  std::vector<std::pair<std::string, std::string>> headers;
};

// A secret's value by name; NOT_FOUND (or any error) when the request may not read it.
using SecretLookup = std::function<StatusOr<std::string>(std::string_view name)>;

// The placeholders' syntax: `{{secrets.NAME}}` with NAME as the secrets service names secrets,
// [A-Za-z0-9_-]{1,64}. No spaces inside the braces.
inline constexpr std::string_view kSecretPlaceholderOpen = "{{secrets.";
inline constexpr std::string_view kSecretPlaceholderClose = "}}";
inline constexpr size_t kMaxSecretNameLength = 64;
bool IsSecretName(std::string_view name);

// The NAMEs of the well-formed placeholders in a header value, in order, repeats included.
std::vector<std::string> SecretNamesIn(std::string_view header_value);

// What can be checked before fetching, for the REST layer's 400s. INVALID_ARGUMENT for:
// a URL without a scheme or with one not in `limits.schemes`, or that is not a well-formed
// absolute http(s) URL (host, port, no credentials); a `{{` in the URL; a header name that is
// not a token or is one the fetcher frames itself (Host, Content-Length, Transfer-Encoding,
// Connection); CR, LF or NUL in a value; a `{{` in a value that does not open a well-formed
// placeholder; a filter that is not a JPath Neo accepts. Messages name the header, never its
// value.
Status ValidateSourceRequest(const SourceRequest& request, const SourceLimits& limits);

// Whether `url` starts with a scheme in `limits.schemes`. A chain request for another scheme is
// not malformed: Neo answers it ProtocolNotSupported, and FetchSource does the same.
bool HasAllowedScheme(std::string_view url, const SourceLimits& limits);

// Fetches `request.url` with GET through `fetcher` (made with OracleFetcherOptions), checks the
// answer as above and filters it. Never fails: every problem is a response code, with `detail`
// saying why in a few words that name the host, never a path, query, header value or secret.
// `result` is empty unless the code is Success. `secrets` may be empty (no secrets to read).
SourceOutcome FetchSource(const net::Fetcher& fetcher, const SourceRequest& request, const SourceLimits& limits,
                          const SecretLookup& secrets);

}  // namespace neosl::oracle
