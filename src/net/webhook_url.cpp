#include "net/webhook_url.h"

#include <cctype>

#include "tee/http1.h"

namespace neosl::net {

Status CheckWebhookUrl(std::string_view url, std::string_view field, const WebhookUrlRules& rules) {
  const std::string scheme = rules.allow_http ? "an http:// or https:// URL" : "an https:// URL";
  if (url.empty()) return FieldViolationError(field, "must be " + scheme);
  if (url.size() > kMaxWebhookUrlBytes) {
    return FieldViolationError(field, "must be at most " + std::to_string(kMaxWebhookUrlBytes) + " characters");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return FieldViolationError(field, "must be a URL without spaces or control characters");
    }
  }
  const std::string lower = tee::http1::Lower(url.substr(0, 8));
  if (lower.starts_with("http://") && !rules.allow_http) {
    return FieldViolationError(field, rules.http_setting.empty()
                                          ? "must be an https:// URL"
                                          : "must be https:// (http:// only where " + rules.http_setting + " is set)");
  }
  if (!lower.starts_with("https://") && !lower.starts_with("http://")) {
    return FieldViolationError(field, "must be " + scheme);
  }
  // What the fetcher will parse when it delivers: a host name or IP literal it can use, a port
  // of 1 to 65535, no credentials. Its messages never repeat the URL.
  auto parsed = tee::http1::ParseUrl(url);
  if (!parsed.ok()) return FieldViolationError(field, "is not usable: " + std::string(parsed.status().message()));
  if (!rules.check_destination) return Status();
  const std::string host = parsed->ipv6 ? "[" + parsed->host + "]" : parsed->host;
  const Status reachable = rules.check_destination(host);
  if (reachable.code() == StatusCode::kPermissionDenied) {
    return FieldViolationError(field, "points at a private address (" + std::string(reachable.message()) +
                                          "); webhooks go to public hosts only");
  }
  if (!reachable.ok()) {
    return FieldViolationError(field, "names a host that cannot be used: " + std::string(reachable.message()));
  }
  return Status();
}

}  // namespace neosl::net
