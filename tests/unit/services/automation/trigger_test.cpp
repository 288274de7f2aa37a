// The trigger model (trigger.h): a spec as stored JSON and back, exactly, for every condition and
// action; stored text that is not a spec refused without crashing; retry backoff; names and the
// deterministic run ids.
#include "services/automation/trigger.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace neosl::automation {
namespace {

std::vector<ContractArg> NestedArgs() {
  ContractArg inner{"Array", "", {{"Integer", "-7", {}}, {"Hash256", "0x" + std::string(64, 'e'), {}}}};
  return {{"Hash160", "0xd2a4cff31913016155e38e474a2c06d08be276cf", {}},
          {"String", "h\xc3\xa9llo \"q\"\n", {}},
          {"ByteArray", "", {}},
          {"Any", "", {}},
          {"Array", "", {inner, {"Boolean", "true", {}}}},
          {"Array", "", {}}};
}

std::vector<TriggerSpec> EveryKind() {
  std::vector<Condition> conditions = {
      CronCondition{"0 9 * * MON-FRI", "Europe/Berlin"},
      CronCondition{"@daily", ""},
      IntervalCondition{1000, std::numeric_limits<int64_t>::max() - 1},
      IntervalCondition{86'400'000, -5},
      BlockCondition{100, 0},
      BlockCondition{std::nullopt, 4'294'967'295u},
      BlockCondition{0, 0},  // at height 0: present, though the API never makes it
      EventCondition{"0xd2a4cff31913016155e38e474a2c06d08be276cf",
                     "Transfer",
                     {{0, "Hash160", "0xa7271ccc82bb311db369719d1868e6ac19ece31f"}, {4'294'967'295u, "String", "é"}}},
      EventCondition{"0xef4073a0f2b305a38ec4050e4d3d28bc40ea63f5", "Vote", {}},
      PriceCondition{"NEO/USD", PriceCondition::Mode::kAbove, "12.5", 0},
      PriceCondition{"GAS/USDT", PriceCondition::Mode::kBelow, "0.001", 0},
      PriceCondition{"NEO/USD", PriceCondition::Mode::kChange, "", 100'000},
  };
  std::vector<Action> actions = {
      FunctionAction{"fn_abcdefghijklmnopqrst"},
      ContractAction{"0xd2a4cff31913016155e38e474a2c06d08be276cf", "transfer", NestedArgs(), 5'000'000},
      ContractAction{"0xd2a4cff31913016155e38e474a2c06d08be276cf", "ping", {}, 0},
      WebhookAction{"https://example.com/hook?a=1", {{"X-Api-Key", "k\"1\\"}, {"X-Other", ""}}},
      WebhookAction{"https://example.com/", {}},
  };
  std::vector<TriggerSpec> specs;
  for (size_t i = 0; i < conditions.size(); ++i) {
    for (size_t j = 0; j < actions.size(); ++j) {
      TriggerSpec s;
      s.name = "t-" + std::to_string(i) + "." + std::to_string(j);
      s.condition = conditions[i];
      s.action = actions[j];
      if (i % 2 == 0) {
        s.payload_json = R"({"n": 1.50, "big": 123456789012345678901234567890, "s": "\u00e9"})";
        s.catch_up = CatchUp::kAll;
        s.max_runs = std::numeric_limits<uint64_t>::max();
        s.end_at_ms = 1'780'000'000'123;
        s.retry = RetryPolicy{10, 100, 3'600'000};
      } else if (j % 2 == 0) {
        s.catch_up = CatchUp::kOnce;
        s.max_runs = 1;
        s.end_at_ms = -1;
      }
      specs.push_back(std::move(s));
    }
  }
  return specs;
}

void ExpectArgsEqual(const std::vector<ContractArg>& a, const std::vector<ContractArg>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].type, b[i].type);
    EXPECT_EQ(a[i].value, b[i].value);
    ExpectArgsEqual(a[i].items, b[i].items);
  }
}

// Field by field, so that the test does not lean on SpecToJson to compare.
void ExpectSameSpec(const TriggerSpec& a, const TriggerSpec& b) {
  EXPECT_EQ(a.name, b.name);
  ASSERT_EQ(a.kind(), b.kind());
  if (const auto* c = std::get_if<CronCondition>(&a.condition)) {
    EXPECT_EQ(c->expression, std::get<CronCondition>(b.condition).expression);
    EXPECT_EQ(c->timezone, std::get<CronCondition>(b.condition).timezone);
  } else if (const auto* i = std::get_if<IntervalCondition>(&a.condition)) {
    EXPECT_EQ(i->every_ms, std::get<IntervalCondition>(b.condition).every_ms);
    EXPECT_EQ(i->start_at_ms, std::get<IntervalCondition>(b.condition).start_at_ms);
  } else if (const auto* k = std::get_if<BlockCondition>(&a.condition)) {
    EXPECT_EQ(k->at, std::get<BlockCondition>(b.condition).at);
    EXPECT_EQ(k->every, std::get<BlockCondition>(b.condition).every);
  } else if (const auto* e = std::get_if<EventCondition>(&a.condition)) {
    const auto& f = std::get<EventCondition>(b.condition);
    EXPECT_EQ(e->contract, f.contract);
    EXPECT_EQ(e->event, f.event);
    ASSERT_EQ(e->filters.size(), f.filters.size());
    for (size_t n = 0; n < f.filters.size(); ++n) {
      EXPECT_EQ(e->filters[n].param, f.filters[n].param);
      EXPECT_EQ(e->filters[n].type, f.filters[n].type);
      EXPECT_EQ(e->filters[n].equals, f.filters[n].equals);
    }
  } else {
    const auto& p = std::get<PriceCondition>(a.condition);
    const auto& q = std::get<PriceCondition>(b.condition);
    EXPECT_EQ(p.pair, q.pair);
    EXPECT_EQ(p.mode, q.mode);
    EXPECT_EQ(p.value, q.value);
    EXPECT_EQ(p.change_bps, q.change_bps);
  }
  ASSERT_EQ(a.action.index(), b.action.index());
  if (const auto* f = std::get_if<FunctionAction>(&a.action)) {
    EXPECT_EQ(f->function_id, std::get<FunctionAction>(b.action).function_id);
  } else if (const auto* c = std::get_if<ContractAction>(&a.action)) {
    const auto& d = std::get<ContractAction>(b.action);
    EXPECT_EQ(c->contract, d.contract);
    EXPECT_EQ(c->method, d.method);
    EXPECT_EQ(c->max_fee, d.max_fee);
    ExpectArgsEqual(c->args, d.args);
  } else {
    EXPECT_EQ(std::get<WebhookAction>(a.action).url, std::get<WebhookAction>(b.action).url);
    EXPECT_EQ(std::get<WebhookAction>(a.action).headers, std::get<WebhookAction>(b.action).headers);
  }
  EXPECT_EQ(a.payload_json, b.payload_json);
  EXPECT_EQ(a.catch_up, b.catch_up);
  EXPECT_EQ(a.max_runs, b.max_runs);
  EXPECT_EQ(a.end_at_ms, b.end_at_ms);
  EXPECT_EQ(a.retry.max_attempts, b.retry.max_attempts);
  EXPECT_EQ(a.retry.initial_backoff_ms, b.retry.initial_backoff_ms);
  EXPECT_EQ(a.retry.max_backoff_ms, b.retry.max_backoff_ms);
}

TEST(SpecJsonTest, EveryConditionAndActionRoundTripsExactly) {
  const std::vector<TriggerSpec> specs = EveryKind();
  ASSERT_EQ(specs.size(), 60u);
  for (const TriggerSpec& spec : specs) {
    SCOPED_TRACE(spec.name);
    const std::string text = SpecToJson(spec);
    StatusOr<TriggerSpec> back = SpecFromJson(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
    ExpectSameSpec(spec, *back);
    EXPECT_EQ(SpecToJson(*back), text);
  }
}

TEST(SpecJsonTest, GarbageIsRefusedWithAStatus) {
  TriggerSpec spec;
  spec.name = "t-1.0";
  spec.condition = CronCondition{"@daily", ""};
  spec.action = ContractAction{"0xd2a4cff31913016155e38e474a2c06d08be276cf", "transfer", NestedArgs(), 5'000'000};
  spec.catch_up = CatchUp::kOnce;
  spec.max_runs = 1;
  const std::string good = SpecToJson(spec);
  std::vector<std::string> bad = {
      "", "null", "[]", "\"spec\"", "{", "{}", good + "x", good + "{}", R"({"name":1})",
  };
  // Every strict prefix of a good spec.
  for (size_t n = 0; n < good.size(); ++n) bad.push_back(good.substr(0, n));
  // Members edited one at a time.
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {R"("name":")", R"("nom":")"},
           {R"("name":"t-1.0")", R"("name":"")"},
           {R"("catch_up":"once")", R"("catch_up":"never")"},
           {R"("max_runs":1)", R"("max_runs":-1)"},
           {R"("max_runs":1)", R"("max_runs":1.5)"},
           {R"("max_runs":1)", R"("max_runs":"1")"},
           {R"("max_attempts":3)", R"("max_attempts":0)"},
           {R"("max_attempts":3)", R"("max_attempts":11)"},
           {R"("max_backoff_ms":300000)", R"("max_backoff_ms":999)"},
           {R"("cron":{)", R"("crontab":{)"},
           {R"("cron":{)", R"("interval":{"every_ms":1000,"start_at_ms":0},"cron":{)"},
           {R"("expression":"@daily")", R"("expression":"")"},
           {R"("expression":"@daily")", R"("expression":7)"},
           {R"("timezone":"")", R"("timezone":"","extra":1)"},
           {R"("contract":{)", R"("contract":[)"},
           {R"("method":"transfer")", R"("method":null)"},
           {R"("max_fee":5000000)", R"("max_fee":-1)"},
           {R"("args":[)", R"("args":{)"},
           {R"({"type":"Any","value":""})", R"({"type":"Any","value":"","items":[]})"},
           {R"({"type":"Any","value":""})", R"({"type":"Any"})"},
           {R"({"type":"Any","value":""})", R"(7)"},
           {R"("payload_json":"null")", R"("payload_json":"{")"},
           {R"("payload_json":"null")", R"("payload_json":null)"},
       }) {
    bad.push_back(edit(from, to));
  }
  // Stored specs of the other kinds, broken.
  bad.push_back(R"({"name":"x","condition":{"block":{"at":1,"every":2}},"action":{"function":{"function_id":"f"}},)"
                R"("payload_json":"null","catch_up":"skip","max_runs":0,"retry":{"max_attempts":3,)"
                R"("initial_backoff_ms":1000,"max_backoff_ms":300000}})");
  bad.push_back(R"({"name":"x","condition":{"price":{"pair":"NEO/USD","mode":"sideways","value":"1",)"
                R"("change_bps":0}},"action":{"function":{"function_id":"f"}},"payload_json":"null",)"
                R"("catch_up":"skip","max_runs":0,"retry":{"max_attempts":3,"initial_backoff_ms":1000,)"
                R"("max_backoff_ms":300000}})");
  // Arrays nested past any depth a spec could have.
  std::string deep = R"({"type":"Integer","value":"1"})";
  for (int i = 0; i < 20; ++i) deep = R"({"type":"Array","value":"","items":[)" + deep + "]}";
  bad.push_back(edit(R"({"type":"Any","value":""})", deep));

  for (const std::string& text : bad) {
    SCOPED_TRACE(text);
    StatusOr<TriggerSpec> read = SpecFromJson(text);
    EXPECT_FALSE(read.ok());
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  }
  // Every byte of a good spec flipped to a few others: refused or read, never a crash.
  for (size_t i = 0; i < good.size(); ++i) {
    for (char c : {'"', '{', '9', '\0', '\\'}) {
      std::string s = good;
      s[i] = c;
      (void)SpecFromJson(s);
    }
  }
  EXPECT_TRUE(SpecFromJson(good).ok());
}

TEST(RetryPolicyTest, BackoffDoublesUpToTheCap) {
  RetryPolicy r;  // 1 s, doubling, at most 5 min
  EXPECT_EQ(r.BackoffAfter(0), 1000);
  EXPECT_EQ(r.BackoffAfter(1), 1000);
  EXPECT_EQ(r.BackoffAfter(2), 2000);
  EXPECT_EQ(r.BackoffAfter(3), 4000);
  EXPECT_EQ(r.BackoffAfter(9), 256'000);
  EXPECT_EQ(r.BackoffAfter(10), 300'000);
  EXPECT_EQ(r.BackoffAfter(4'000'000'000u), 300'000);
  RetryPolicy tight{5, 100, 150};
  EXPECT_EQ(tight.BackoffAfter(1), 100);
  EXPECT_EQ(tight.BackoffAfter(2), 150);
  RetryPolicy flat{5, 3'600'000, 3'600'000};
  EXPECT_EQ(flat.BackoffAfter(64), 3'600'000);
}

TEST(TriggerNamesTest, NamesParseBackAndRunIdsAreDeterministic) {
  EXPECT_EQ(TriggerKindName(KindOf(CronCondition{})), "cron");
  EXPECT_EQ(TriggerKindName(KindOf(IntervalCondition{})), "interval");
  EXPECT_EQ(TriggerKindName(KindOf(BlockCondition{})), "block");
  EXPECT_EQ(TriggerKindName(KindOf(EventCondition{})), "event");
  EXPECT_EQ(TriggerKindName(KindOf(PriceCondition{})), "price");
  EXPECT_EQ(ActionKindName(FunctionAction{}), "function");
  EXPECT_EQ(ActionKindName(ContractAction{}), "contract");
  EXPECT_EQ(ActionKindName(WebhookAction{}), "webhook");
  EXPECT_EQ(CatchUpName(CatchUp::kSkip), "skip");
  EXPECT_EQ(CatchUpName(CatchUp::kOnce), "once");
  EXPECT_EQ(CatchUpName(CatchUp::kAll), "all");
  for (TriggerStatus s : {TriggerStatus::kActive, TriggerStatus::kPaused, TriggerStatus::kCompleted}) {
    EXPECT_EQ(*ParseTriggerStatus(TriggerStatusName(s)), s);
  }
  EXPECT_EQ(ParseTriggerStatus("deleted").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseTriggerStatus("Active").status().code(), StatusCode::kInvalidArgument);
  for (RunStatus s :
       {RunStatus::kPending, RunStatus::kRunning, RunStatus::kRetrying, RunStatus::kSucceeded, RunStatus::kFailed}) {
    EXPECT_EQ(*ParseRunStatus(RunStatusName(s)), s);
    EXPECT_EQ(IsFinal(s), s == RunStatus::kSucceeded || s == RunStatus::kFailed);
  }
  EXPECT_EQ(ParseRunStatus("").status().code(), StatusCode::kInvalidArgument);

  const std::string id = "tg_abcdefghijklmnopqrst";
  EXPECT_EQ(TimeRunId(id, 1'763'776'800'000), "tg_abcdefghijklmnopqrst:t:1763776800000");
  EXPECT_EQ(BlockRunId(id, 4'294'967'295u), "tg_abcdefghijklmnopqrst:b:4294967295");
  EXPECT_EQ(EventRunId(id, "0x" + std::string(64, 'a'), 3),
            "tg_abcdefghijklmnopqrst:e:0x" + std::string(64, 'a') + ":3");
  EXPECT_EQ(PriceRunId(id, "NEO/USD", 42), "tg_abcdefghijklmnopqrst:p:NEO/USD:42");
  EXPECT_EQ(TimeRunId(id, 5), TimeRunId(id, 5));
  EXPECT_NE(TimeRunId(id, 5), TimeRunId(id, 6));
  // Manual runs are told apart by their kind alone, whatever the rest of the id holds.
  EXPECT_EQ(ManualRunId(id, 1'763'776'800'123), "tg_abcdefghijklmnopqrst:m:1763776800123");
  EXPECT_TRUE(IsManualRunId(ManualRunId(id, 1)));
  EXPECT_FALSE(IsManualRunId(TimeRunId(id, 1)));
  EXPECT_FALSE(IsManualRunId(PriceRunId(id, "A:m:B", 1)));
  EXPECT_FALSE(IsManualRunId(EventRunId(id, "0x" + std::string(64, 'a'), 3)));
  EXPECT_FALSE(IsManualRunId("tg_x"));
}

}  // namespace
}  // namespace neosl::automation
