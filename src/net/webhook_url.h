// The one check of a URL that neosl will POST to on a caller's behalf: an operation's webhook
// (gateway/operations.h) and an automation trigger's webhook action (automation/spec.h). Both
// are checked when they are given, long before the first delivery, and the relay checks the
// destination again at every attempt (a name may come to resolve elsewhere).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace neosl::net {

inline constexpr size_t kMaxWebhookUrlBytes = 2048;

struct WebhookUrlRules {
  // http:// as well as https:// (development); `http_setting` names the setting that allows it,
  // for the error that refuses an http:// URL where it is not set.
  bool allow_http = false;
  std::string http_setting;
  // Whether the relay would let the host through (tee::SocketRelay::CheckDestination):
  // PERMISSION_DENIED for a private address the operator has not allowed, UNAVAILABLE when the
  // name does not resolve. Given the host as written in the URL (an IPv6 literal in brackets).
  // Unset: only the URL's form is checked.
  std::function<Status(const std::string& host)> check_destination;
};

// INVALID_ARGUMENT naming `field` unless `url` is an absolute https:// URL (http:// where
// allowed) of at most kMaxWebhookUrlBytes, without spaces or control characters, that the
// fetcher can parse (tee::http1::ParseUrl: a valid host name or IP literal, a port of 1 to
// 65535, no credentials), and whose host the relay would reach.
Status CheckWebhookUrl(std::string_view url, std::string_view field, const WebhookUrlRules& rules);

}  // namespace neosl::net
