// The API's side of triggers (issue #13): a CreateTriggerRequest checked and turned into a
// TriggerSpec, and triggers and runs rendered as the proto messages the REST routes print.
//
// Every mistake is INVALID_ARGUMENT with a FieldViolation naming the field by its JSON path
// ("cron.expression", "action.contract.args[2].value", "event.filters[0].equals") and saying what
// is wrong and what would be right; nothing is stored.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "neosl/automation/v1/automation.pb.h"
#include "services/automation/trigger.h"

namespace neosl::automation {

namespace automationpb = ::neosl::automation::v1;

struct SpecLimits {
  int64_t min_interval_ms = 1000;
  size_t max_payload_bytes = size_t{16} * 1024;
  size_t max_filters = 8;
  size_t max_args = 16;              // contract args, counting nested items
  size_t max_headers = 16;           // webhook
  bool allow_http_webhooks = false;  // automation.allow_http: http:// webhook URLs (development)
  int64_t max_tx_fee = 50'000'000;   // automation.max_tx_fee: a contract action's max_fee at most
  std::string zoneinfo_dir = "/usr/share/zoneinfo";
  // A webhook's host as the relay would judge it (tee::SocketRelay::CheckDestination), so that a
  // private address is refused when the trigger is created, not first when it fires; unset: the
  // URL's form only (net/webhook_url.h).
  std::function<Status(const std::string& host)> check_destination;
};

// The canonical text of `value` read as `type` (EventFilter.type / ContractArg.type), or
// INVALID_ARGUMENT saying why it cannot be:
//   Hash160    "0x" + 40 lower-case hex, big-endian as Neo prints it; an N… address is accepted
//              and turned into that
//   Hash256    "0x" + 64 lower-case hex
//   Integer    decimal, optional '-', no leading zeros, within Neo's 256-bit integers
//   Boolean    "true" | "false"
//   String     the text itself (valid UTF-8)
//   ByteString / ByteArray   lower-case hex without 0x (empty allowed)
//   PublicKey  66 lower-case hex: a valid compressed P-256 point
// Matching (sources.h) compares notification arguments in this form.
StatusOr<std::string> CanonicalParamText(std::string_view type, std::string_view value);

// Checks `request` and returns the spec, with values canonical and defaults filled in (retry,
// catch_up: skip, or all for event triggers; interval start: now + every). `now_ms` decides
// whether end_at / start_at are in the past (end_at in the past is refused).
StatusOr<TriggerSpec> SpecFromRequest(const automationpb::CreateTriggerRequest& request, int64_t now_ms,
                                      const SpecLimits& limits);

// The trigger as the API shows it (RFC 3339 times with milliseconds, UTC).
void RenderTrigger(const TriggerRecord& trigger, automationpb::Trigger* out);
void RenderRun(const RunRecord& run, automationpb::TriggerRun* out);

}  // namespace neosl::automation
