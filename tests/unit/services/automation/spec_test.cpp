// The API's checks on a CreateTriggerRequest (spec.h): each rule with a request that passes and
// one that fails naming the field, and the defaults and canonical forms it fills in.
#include "services/automation/spec.h"

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "support/status_details.h"

namespace neosl::automation {
namespace {

using ::neosl::testing::FieldOf;

using Request = automationpb::CreateTriggerRequest;

constexpr int64_t kNow = 1'780'000'000'000;                                 // 2026-05-28T20:26:40Z
constexpr char kContract[] = "0xd2a4cff31913016155e38e474a2c06d08be276cf";  // GAS
constexpr char kFunction[] = "fn_abcdefghijklmnopqrst";

// A valid request: every day at 09:00 UTC, POST to a webhook.
Request Base() {
  Request r;
  r.set_name("nightly");
  r.mutable_cron()->set_expression("0 9 * * *");
  r.mutable_action()->mutable_webhook()->set_url("https://example.com/hook");
  return r;
}

struct Case {
  std::string what;
  std::function<void(Request&)> edit;
  std::string field;  // "" : the request is valid
};

void Check(const std::vector<Case>& cases, const SpecLimits& limits = {}) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Request r = Base();
    c.edit(r);
    StatusOr<TriggerSpec> spec = SpecFromRequest(r, kNow, limits);
    if (c.field.empty()) {
      EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    } else {
      EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(FieldOf(spec.status()), c.field) << spec.status().ToString();
      EXPECT_NE(spec.status().message().find(c.field), std::string_view::npos) << spec.status().ToString();
    }
  }
}

TriggerSpec Must(const Request& r, const SpecLimits& limits = {}) {
  StatusOr<TriggerSpec> spec = SpecFromRequest(r, kNow, limits);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : TriggerSpec{};
}

TEST(SpecTest, NameAndExactlyOneConditionAndAction) {
  Check({
      {"name ok", [](Request& r) { r.set_name("a.B-c_9"); }, ""},
      {"name 64", [](Request& r) { r.set_name(std::string(64, 'x')); }, ""},
      {"name 65", [](Request& r) { r.set_name(std::string(65, 'x')); }, "name"},
      {"name empty", [](Request& r) { r.clear_name(); }, "name"},
      {"name space", [](Request& r) { r.set_name("a b"); }, "name"},
      {"no condition", [](Request& r) { r.clear_cron(); }, "condition"},
      {"two conditions", [](Request& r) { r.mutable_interval()->set_every_ms(5000); }, "interval"},
      {"three conditions",
       [](Request& r) {
         r.mutable_block()->set_every(2);
         r.mutable_price()->set_pair("NEO/USD");
       },
       "block"},
      {"no action", [](Request& r) { r.clear_action(); }, "action"},
      {"empty action", [](Request& r) { r.mutable_action()->clear_webhook(); }, "action"},
      {"two actions", [](Request& r) { r.mutable_action()->mutable_function()->set_function_id(kFunction); },
       "action.webhook"},
  });
  Request both = Base();
  both.mutable_interval()->set_every_ms(5000);
  Status s = SpecFromRequest(both, kNow, {}).status();
  EXPECT_NE(s.message().find("cron and interval"), std::string_view::npos) << s.ToString();
}

TEST(SpecTest, Cron) {
  Check({
      {"six fields", [](Request& r) { r.mutable_cron()->set_expression("*/30 * * * * *"); }, ""},
      {"macro", [](Request& r) { r.mutable_cron()->set_expression("@hourly"); }, ""},
      {"zone", [](Request& r) { r.mutable_cron()->set_timezone("Europe/Berlin"); }, ""},
      {"bad minute", [](Request& r) { r.mutable_cron()->set_expression("61 * * * *"); }, "cron.expression"},
      {"empty", [](Request& r) { r.mutable_cron()->clear_expression(); }, "cron.expression"},
      {"never fires", [](Request& r) { r.mutable_cron()->set_expression("0 0 30 2 *"); }, "cron.expression"},
      {"unknown zone", [](Request& r) { r.mutable_cron()->set_timezone("Mars/Olympus_Mons"); }, "cron.timezone"},
      {"zone escapes", [](Request& r) { r.mutable_cron()->set_timezone("../../etc/passwd"); }, "cron.timezone"},
  });
  Request r = Base();
  r.mutable_cron()->set_expression("61 * * * *");
  // The cron parser's own words reach the caller.
  Status s = SpecFromRequest(r, kNow, {}).status();
  EXPECT_NE(s.message().find("61"), std::string_view::npos) << s.ToString();

  r = Base();
  r.mutable_cron()->set_timezone("Europe/Berlin");
  const auto cron = std::get<CronCondition>(Must(r).condition);
  EXPECT_EQ(cron.expression, "0 9 * * *");
  EXPECT_EQ(cron.timezone, "Europe/Berlin");
  SpecLimits nowhere;
  nowhere.zoneinfo_dir = "/nonexistent";
  EXPECT_EQ(FieldOf(SpecFromRequest(r, kNow, nowhere).status()), "cron.timezone");
  r.mutable_cron()->clear_timezone();  // UTC needs no file
  EXPECT_TRUE(SpecFromRequest(r, kNow, nowhere).ok());
}

Request Interval(int64_t every_ms, const std::string& start = "") {
  Request r = Base();
  r.clear_cron();
  r.mutable_interval()->set_every_ms(every_ms);
  r.mutable_interval()->set_start_at(start);
  return r;
}

TEST(SpecTest, Interval) {
  auto interval = [](int64_t every, std::string start = "") { return [=](Request& r) { r = Interval(every, start); }; };
  Check({
      {"1 s", interval(1000), ""},
      {"under 1 s", interval(999), "interval.every_ms"},
      {"zero", interval(0), "interval.every_ms"},
      {"negative", interval(-5), "interval.every_ms"},
      {"a year", interval(366LL * 86'400'000), ""},
      {"over a year", interval(366LL * 86'400'000 + 1), "interval.every_ms"},
      {"start", interval(60'000, "2026-06-01T00:00:00Z"), ""},
      {"start in the past", interval(60'000, "2020-01-01T00:00:00+02:00"), ""},
      {"bad start", interval(60'000, "tomorrow"), "interval.start_at"},
  });
  SpecLimits slow;
  slow.min_interval_ms = 60'000;
  Check({{"under the operator's minimum", interval(59'999), "interval.every_ms"}, {"at it", interval(60'000), ""}},
        slow);

  auto c = std::get<IntervalCondition>(Must(Interval(60'000)).condition);
  EXPECT_EQ(c.every_ms, 60'000);
  EXPECT_EQ(c.start_at_ms, kNow + 60'000);  // default: one period from now
  c = std::get<IntervalCondition>(Must(Interval(60'000, "2026-06-01T02:00:00.250+02:00")).condition);
  EXPECT_EQ(c.start_at_ms, *ParseRfc3339Millis("2026-06-01T00:00:00.250Z"));
}

TEST(SpecTest, Block) {
  auto block = [](uint32_t at, uint32_t every) {
    return [=](Request& r) {
      r.clear_cron();
      r.mutable_block()->set_at(at);
      r.mutable_block()->set_every(every);
    };
  };
  Check({
      {"at", block(100, 0), ""},
      {"every", block(0, 1), ""},
      {"both", block(100, 10), "block.every"},
      {"neither", block(0, 0), "block"},
  });
  Request r = Base();
  block(100, 0)(r);
  auto c = std::get<BlockCondition>(Must(r).condition);
  EXPECT_EQ(c.at, 100u);
  EXPECT_EQ(c.every, 0u);
}

TEST(SpecTest, EventAndItsFilters) {
  auto event = [](std::function<void(automationpb::EventCondition&)> edit) {
    return [=](Request& r) {
      r.clear_cron();
      automationpb::EventCondition* e = r.mutable_event();
      e->set_contract(kContract);
      e->set_event("Transfer");
      edit(*e);
    };
  };
  auto filter = [](uint32_t param, const std::string& type, const std::string& equals) {
    return [=](automationpb::EventCondition& e) {
      auto* f = e.add_filters();
      f->set_param(param);
      f->set_type(type);
      f->set_equals(equals);
    };
  };
  Check({
      {"plain", event([](auto&) {}), ""},
      {"upper-case hash", event([](auto& e) { e.set_contract("0xD2A4CFF31913016155E38E474A2C06D08BE276CF"); }), ""},
      {"no 0x", event([](auto& e) { e.set_contract(std::string(kContract).substr(2)); }), "event.contract"},
      {"short hash", event([](auto& e) { e.set_contract(std::string(kContract).substr(0, 41)); }), "event.contract"},
      {"address", event([](auto& e) { e.set_contract("NNpbB25aNMY2pD5JkWeAEbsNfp7C3GoZF1"); }), "event.contract"},
      {"no name", event([](auto& e) { e.clear_event(); }), "event.event"},
      {"name 32", event([](auto& e) { e.set_event(std::string(32, 'E')); }), ""},
      {"name 33", event([](auto& e) { e.set_event(std::string(33, 'E')); }), "event.event"},
      {"name newline", event([](auto& e) { e.set_event("Trans\nfer"); }), "event.event"},
      {"filters", event(filter(2, "Integer", "100")), ""},
      {"bad filter type", event(filter(0, "Map", "x")), "event.filters[0].type"},
      {"ByteArray is for args", event(filter(0, "ByteArray", "00")), "event.filters[0].type"},
      {"bad filter value", event([&](auto& e) {
         filter(0, "Hash160", kContract)(e);
         filter(2, "Integer", "1.5")(e);
       }),
       "event.filters[1].equals"},
      {"eight filters", event([&](auto& e) {
         for (uint32_t i = 0; i < 8; ++i) filter(i, "Boolean", "true")(e);
       }),
       ""},
      {"nine filters", event([&](auto& e) {
         for (uint32_t i = 0; i < 9; ++i) filter(i, "Boolean", "true")(e);
       }),
       "event.filters"},
  });

  Request r = Base();
  event([&](auto& e) {
    e.set_contract("0xD2A4CFF31913016155E38E474A2C06D08BE276CF");
    filter(1, "Hash160", "NNpbB25aNMY2pD5JkWeAEbsNfp7C3GoZF1")(e);
    filter(2, "Integer", "-007")(e);
  })(r);
  TriggerSpec spec = Must(r);
  const auto& c = std::get<EventCondition>(spec.condition);
  EXPECT_EQ(c.contract, kContract);
  ASSERT_EQ(c.filters.size(), 2u);
  EXPECT_EQ(c.filters[0].equals, "0xa7271ccc82bb311db369719d1868e6ac19ece31f");
  EXPECT_EQ(c.filters[1].equals, "-7");
  EXPECT_EQ(spec.catch_up, CatchUp::kAll);  // event triggers catch up every missed event by default
}

TEST(SpecTest, Price) {
  auto price = [](std::string pair, std::string above, std::string below, uint32_t bps) {
    return [=](Request& r) {
      r.clear_cron();
      auto* p = r.mutable_price();
      p->set_pair(pair);
      p->set_above(above);
      p->set_below(below);
      p->set_change_bps(bps);
    };
  };
  Check({
      {"above", price("NEO/USD", "12.5", "", 0), ""},
      {"below", price("NEO/USD", "", "0.001", 0), ""},
      {"change", price("NEO/USD", "", "", 100'000), ""},
      {"pair spelled with -", price("neo-usd", "1", "", 0), ""},
      {"no slash", price("NEOUSD", "1", "", 0), "price.pair"},
      {"long symbol", price("NEO/ABCDEFGHIJK", "1", "", 0), "price.pair"},
      {"none", price("NEO/USD", "", "", 0), "price"},
      {"above and below", price("NEO/USD", "2", "1", 0), "price.below"},
      {"above and change", price("NEO/USD", "2", "", 50), "price.change_bps"},
      {"change too big", price("NEO/USD", "", "", 100'001), "price.change_bps"},
      {"zero", price("NEO/USD", "0.000", "", 0), "price.above"},
      {"negative", price("NEO/USD", "", "-1", 0), "price.below"},
      {"exponent", price("NEO/USD", "1e3", "", 0), "price.above"},
      {"trailing point", price("NEO/USD", "12.", "", 0), "price.above"},
      {"leading point", price("NEO/USD", ".5", "", 0), "price.above"},
      {"19 digits", price("NEO/USD", "1234567890123456789", "", 0), "price.above"},
  });
  Request r = Base();
  price("neo_usd", "0012.500", "", 0)(r);
  auto c = std::get<PriceCondition>(Must(r).condition);
  EXPECT_EQ(c.pair, "NEO/USD");
  EXPECT_EQ(c.mode, PriceCondition::Mode::kAbove);
  EXPECT_EQ(c.value, "12.5");
  r = Base();
  price("NEO/USD", "", "", 250)(r);
  c = std::get<PriceCondition>(Must(r).condition);
  EXPECT_EQ(c.mode, PriceCondition::Mode::kChange);
  EXPECT_EQ(c.change_bps, 250u);
  EXPECT_EQ(c.value, "");
}

TEST(SpecTest, FunctionAndContractActions) {
  auto function = [](std::string id) {
    return [=](Request& r) {
      r.mutable_action()->clear_webhook();
      r.mutable_action()->mutable_function()->set_function_id(id);
    };
  };
  auto contract = [](std::function<void(automationpb::ContractAction&)> edit) {
    return [=](Request& r) {
      r.mutable_action()->clear_webhook();
      auto* c = r.mutable_action()->mutable_contract();
      c->set_contract(kContract);
      c->set_method("transfer");
      edit(*c);
    };
  };
  auto arg = [](automationpb::ContractAction& c, std::string type, std::string value) {
    auto* a = c.add_args();
    a->set_type(type);
    a->set_value(value);
    return a;
  };
  Check({
      {"function", function(kFunction), ""},
      {"not a function id", function("fn_short"), "action.function.function_id"},
      {"execution id", function("ex_abcdefghijklmnopqrst"), "action.function.function_id"},
      {"contract", contract([](auto&) {}), ""},
      {"bad hash", contract([](auto& c) { c.set_contract("0x1234"); }), "action.contract.contract"},
      {"private method", contract([](auto& c) { c.set_method("_deploy"); }), "action.contract.method"},
      {"method 32", contract([](auto& c) { c.set_method(std::string(32, 'm')); }), ""},
      {"method 33", contract([](auto& c) { c.set_method(std::string(33, 'm')); }), "action.contract.method"},
      {"method dash", contract([](auto& c) { c.set_method("do-it"); }), "action.contract.method"},
      {"no method", contract([](auto& c) { c.clear_method(); }), "action.contract.method"},
      {"max_fee 0", contract([](auto& c) { c.set_max_fee(0); }), ""},
      {"max_fee negative", contract([](auto& c) { c.set_max_fee(-1); }), "action.contract.max_fee"},
      {"max_fee over automation.max_tx_fee", contract([](auto& c) { c.set_max_fee(50'000'001); }),
       "action.contract.max_fee"},
      {"max_fee at automation.max_tx_fee", contract([](auto& c) { c.set_max_fee(50'000'000); }), ""},
      {"args", contract([&](auto& c) {
         arg(c, "Hash160", "NNpbB25aNMY2pD5JkWeAEbsNfp7C3GoZF1");
         arg(c, "Integer", "100000000");
         arg(c, "Any", "");
         arg(c, "ByteArray", "");
         auto* array = arg(c, "Array", "");
         array->add_items()->set_type("Boolean");
         array->mutable_items(0)->set_value("true");
       }),
       ""},
      {"unknown type", contract([&](auto& c) { arg(c, "Map", ""); }), "action.contract.args[0].type"},
      {"ByteString is for filters", contract([&](auto& c) { arg(c, "ByteString", "00"); }),
       "action.contract.args[0].type"},
      {"Any with a value", contract([&](auto& c) { arg(c, "Any", "1"); }), "action.contract.args[0].value"},
      {"Array with a value", contract([&](auto& c) { arg(c, "Array", "1"); }), "action.contract.args[0].value"},
      {"items on an Integer", contract([&](auto& c) { arg(c, "Integer", "1")->add_items()->set_type("Any"); }),
       "action.contract.args[0].items"},
      {"bad nested value", contract([&](auto& c) {
         arg(c, "String", "ok");
         auto* item = arg(c, "Array", "")->add_items();
         item->set_type("Hash256");
         item->set_value("0x12");
       }),
       "action.contract.args[1].items[0].value"},
      {"16 args, counting items", contract([&](auto& c) {
         auto* array = arg(c, "Array", "");
         for (int i = 0; i < 15; ++i) array->add_items()->set_type("Any");
       }),
       ""},
      {"17 args, counting items", contract([&](auto& c) {
         auto* array = arg(c, "Array", "");
         for (int i = 0; i < 16; ++i) array->add_items()->set_type("Any");
       }),
       "action.contract.args"},
  });

  Request r = Base();
  contract([&](auto& c) {
    c.set_contract("0xD2A4CFF31913016155E38E474A2C06D08BE276CF");
    arg(c, "Hash160", "NNpbB25aNMY2pD5JkWeAEbsNfp7C3GoZF1");
    arg(c, "ByteArray", "DEADbeef");
    arg(c, "Array", "")->add_items()->set_type("Integer");
    c.mutable_args(2)->mutable_items(0)->set_value("+42");
    c.set_max_fee(5'000'000);
  })(r);
  const auto action = std::get<ContractAction>(Must(r).action);
  EXPECT_EQ(action.contract, kContract);
  EXPECT_EQ(action.method, "transfer");
  ASSERT_EQ(action.args.size(), 3u);
  EXPECT_EQ(action.args[0].value, "0xa7271ccc82bb311db369719d1868e6ac19ece31f");
  EXPECT_EQ(action.args[1].value, "deadbeef");
  ASSERT_EQ(action.args[2].items.size(), 1u);
  EXPECT_EQ(action.args[2].items[0].value, "42");
  EXPECT_EQ(action.max_fee, 5'000'000);
}

TEST(SpecTest, WebhookAction) {
  auto url = [](std::string u) { return [=](Request& r) { r.mutable_action()->mutable_webhook()->set_url(u); }; };
  auto header = [](std::string name, std::string value) {
    return [=](Request& r) { (*r.mutable_action()->mutable_webhook()->mutable_headers())[name] = value; };
  };
  Check({
      {"https", url("https://hooks.example.com:8443/a/b?c=d#e"), ""},
      {"IPv6", url("https://[2001:db8::1]:443/"), ""},
      {"http refused", url("http://example.com/hook"), "action.webhook.url"},
      {"other scheme", url("ftp://example.com/"), "action.webhook.url"},
      {"no scheme", url("example.com/hook"), "action.webhook.url"},
      {"credentials", url("https://user:secret@example.com/"), "action.webhook.url"},
      {"no host", url("https:///path"), "action.webhook.url"},
      {"port 0", url("https://example.com:0/"), "action.webhook.url"},
      {"port 65536", url("https://example.com:65536/"), "action.webhook.url"},
      {"empty port", url("https://example.com:/"), "action.webhook.url"},
      {"space", url("https://example.com/a b"), "action.webhook.url"},
      {"too long", url("https://example.com/" + std::string(2048, 'a')), "action.webhook.url"},
      {"header", header("X-Api-Key", "k1"), ""},
      {"header name not a token", header("Bad Name", "v"), "action.webhook.headers"},
      {"Host", header("Host", "evil.example"), "action.webhook.headers.Host"},
      {"content-length", header("content-length", "1"), "action.webhook.headers.content-length"},
      {"Transfer-Encoding", header("Transfer-Encoding", "chunked"), "action.webhook.headers.Transfer-Encoding"},
      {"Connection", header("Connection", "keep-alive"), "action.webhook.headers.Connection"},
      {"CR LF", header("X-Token", "a\r\nX-Evil: 1"), "action.webhook.headers.X-Token"},
      {"same name twice",
       [](Request& r) {
         (*r.mutable_action()->mutable_webhook()->mutable_headers())["X-A"] = "1";
         (*r.mutable_action()->mutable_webhook()->mutable_headers())["x-a"] = "2";
       },
       "action.webhook.headers.x-a"},
      {"16 headers",
       [](Request& r) {
         for (int i = 0; i < 16; ++i)
           (*r.mutable_action()->mutable_webhook()->mutable_headers())["X-" + std::to_string(i)];
       },
       ""},
      {"17 headers",
       [](Request& r) {
         for (int i = 0; i < 17; ++i)
           (*r.mutable_action()->mutable_webhook()->mutable_headers())["X-" + std::to_string(i)];
       },
       "action.webhook.headers"},
  });
  SpecLimits dev;
  dev.allow_http_webhooks = true;
  Check({{"http allowed", url("http://localhost:8080/hook"), ""}}, dev);
  // With the relay's judgement of the host (as `neosl serve` sets it), a private address is
  // refused when the trigger is created; the host is given as written, an IPv6 one bracketed.
  SpecLimits relay;
  std::vector<std::string> asked;
  relay.check_destination = [&asked](const std::string& host) {
    asked.push_back(host);
    return host == "hooks.example.com" ? Status() : PermissionDeniedError("destination resolves to a private address");
  };
  Check({{"public", url("https://HOOKS.example.com/a"), ""},
         {"private", url("https://10.0.0.1/hook"), "action.webhook.url"},
         {"private IPv6", url("https://[::1]:8443/"), "action.webhook.url"},
         {"form first", url("https://user:pw@10.0.0.1/"), "action.webhook.url"}},
        relay);
  EXPECT_EQ(asked, (std::vector<std::string>{"hooks.example.com", "10.0.0.1", "[::1]"}));

  Request r = Base();
  header("X-Api-Key", "k1")(r);
  const auto w = std::get<WebhookAction>(Must(r).action);
  EXPECT_EQ(w.url, "https://example.com/hook");
  EXPECT_EQ(w.headers, (std::map<std::string, std::string>{{"X-Api-Key", "k1"}}));
}

TEST(SpecTest, PayloadCatchUpRetryEndAndRuns) {
  auto payload = [](std::string p) { return [=](Request& r) { r.set_payload_json(p); }; };
  auto retry = [](uint32_t attempts, int64_t initial, int64_t max) {
    return [=](Request& r) {
      r.mutable_retry()->set_max_attempts(attempts);
      r.mutable_retry()->set_initial_backoff_ms(initial);
      r.mutable_retry()->set_max_backoff_ms(max);
    };
  };
  Check({
      {"payload", payload(R"({"a": [1, 2.50, "x"]})"), ""},
      {"not JSON", payload("{bad"), "payload"},
      {"two values", payload("1 2"), "payload"},
      {"16 KiB", payload("\"" + std::string(16 * 1024 - 2, 'x') + "\""), ""},
      {"over 16 KiB", payload("\"" + std::string(16 * 1024 - 1, 'x') + "\""), "payload"},
      {"catch_up once", [](Request& r) { r.set_catch_up("once"); }, ""},
      {"catch_up all", [](Request& r) { r.set_catch_up("all"); }, ""},
      {"catch_up other", [](Request& r) { r.set_catch_up("sometimes"); }, "catch_up"},
      {"retry limits", retry(10, 100, 3'600'000), ""},
      {"11 attempts", retry(11, 0, 0), "retry.max_attempts"},
      {"initial 99", retry(0, 99, 0), "retry.initial_backoff_ms"},
      {"initial negative", retry(0, -1, 0), "retry.initial_backoff_ms"},
      {"max over an hour", retry(0, 0, 3'600'001), "retry.max_backoff_ms"},
      {"max under initial", retry(0, 5000, 4000), "retry.max_backoff_ms"},
      {"end_at", [](Request& r) { r.set_end_at("2027-01-01T00:00:00Z"); }, ""},
      {"end_at now", [](Request& r) { r.set_end_at(FormatRfc3339Millis(kNow)); }, "end_at"},
      {"end_at past", [](Request& r) { r.set_end_at("2020-01-01T00:00:00Z"); }, "end_at"},
      {"end_at garbage", [](Request& r) { r.set_end_at("soon"); }, "end_at"},
  });

  TriggerSpec spec = Must(Base());  // defaults
  EXPECT_EQ(spec.payload_json, "null");
  EXPECT_EQ(spec.catch_up, CatchUp::kSkip);
  EXPECT_EQ(spec.max_runs, 0u);
  EXPECT_FALSE(spec.end_at_ms);
  EXPECT_EQ(spec.retry.max_attempts, 3u);
  EXPECT_EQ(spec.retry.initial_backoff_ms, 1000);
  EXPECT_EQ(spec.retry.max_backoff_ms, 300'000);

  Request r = Base();
  payload(R"({"a": [1, 2.50, "x"]})")(r);  // kept exactly as sent
  r.set_catch_up("once");
  r.set_max_runs(7);
  r.set_end_at("2027-01-01T00:00:00.5Z");
  retry(1, 600'000, 0)(r);  // a larger initial backoff raises the default cap with it
  spec = Must(r);
  EXPECT_EQ(spec.payload_json, R"({"a": [1, 2.50, "x"]})");
  EXPECT_EQ(spec.catch_up, CatchUp::kOnce);
  EXPECT_EQ(spec.max_runs, 7u);
  EXPECT_EQ(spec.end_at_ms, *ParseRfc3339Millis("2027-01-01T00:00:00.500Z"));
  EXPECT_EQ(spec.retry.max_attempts, 1u);
  EXPECT_EQ(spec.retry.max_backoff_ms, 600'000);
}

}  // namespace
}  // namespace neosl::automation
