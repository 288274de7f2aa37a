// The rest of spec.h: the canonical text of every parameter type (with a published address
// vector and one made from a published key), and triggers and runs rendered for the API.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "services/automation/spec.h"

namespace neosl::automation {
namespace {

using Request = automationpb::CreateTriggerRequest;

constexpr int64_t kNow = 1'780'000'000'000;                                 // 2026-05-28T20:26:40Z
constexpr char kContract[] = "0xd2a4cff31913016155e38e474a2c06d08be276cf";  // GAS

Request Base() {
  Request r;
  r.set_name("nightly");
  r.mutable_cron()->set_expression("0 9 * * *");
  r.mutable_action()->mutable_webhook()->set_url("https://example.com/hook");
  return r;
}

TriggerSpec Must(const Request& r) {
  StatusOr<TriggerSpec> spec = SpecFromRequest(r, kNow, {});
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  return spec.ok() ? *spec : TriggerSpec{};
}

TEST(CanonicalParamTextTest, EveryType) {
  struct Vector {
    std::string type, in, out;  // out "": refused
  };
  const std::string key = "02232ce8d2e2063dce0451131851d47421bfc4fc1da4db116fca5302c0756462fa";
  auto point = crypto::PublicKey::FromHex(key);
  ASSERT_TRUE(point.ok());
  const std::string uncompressed = HexEncode(point->Uncompressed());
  std::string off_curve = uncompressed;  // y + 1 (its last digit is not f)
  ASSERT_NE(off_curve.back(), 'f');
  off_curve.back() = off_curve.back() == '9' ? 'a' : char(off_curve.back() + 1);
  for (const Vector& v : std::vector<Vector>{
           {"Hash160", kContract, kContract},
           {"Hash160", "0XD2A4CFF31913016155E38E474A2C06D08BE276CF", kContract},
           {"Hash160", std::string(kContract).substr(2), kContract},  // as Neo's UInt160.Parse
           {"Hash160", "0x1234", ""},
           {"Hash160", "Nhfg3TbpwogLvDGVvAvqyThbsHgoSUKwtm", ""},  // checksum
           {"Hash160", "", ""},
           {"Hash256", "0x" + std::string(64, 'A'), "0x" + std::string(64, 'a')},
           {"Hash256", std::string(64, 'b'), "0x" + std::string(64, 'b')},
           {"Hash256", "0x" + std::string(63, 'a'), ""},
           {"Integer", "0", "0"},
           {"Integer", "-0", "0"},
           {"Integer", "000123", "123"},
           {"Integer", "-42", "-42"},
           {"Integer", "57896044618658097711785492504343953926634992332820282019728792003956564819967",
            "57896044618658097711785492504343953926634992332820282019728792003956564819967"},  // 2^255 - 1
           {"Integer", "57896044618658097711785492504343953926634992332820282019728792003956564819968", ""},
           {"Integer", "1.0", ""},
           {"Integer", "", ""},
           {"Integer", "0x10", ""},
           {"Boolean", "true", "true"},
           {"Boolean", "FALSE", "false"},
           {"Boolean", "1", ""},
           {"String", "héllo", "héllo"},
           {"String", "", ""},
           {"String", "\xff", ""},
           {"ByteString", "", ""},
           {"ByteString", "00FFab", "00ffab"},
           {"ByteArray", "00FFab", "00ffab"},
           {"ByteString", "0x00", ""},
           {"ByteString", "abc", ""},
           {"PublicKey", key, key},
           {"PublicKey", "05" + key.substr(2), ""},
           {"PublicKey", off_curve, ""},
           {"PublicKey", uncompressed, key},
           {"PublicKey", key.substr(2), ""},
           {"Signature", "00", ""},
           {"Any", "", ""},
       }) {
    SCOPED_TRACE(v.type + " " + v.in);
    StatusOr<std::string> got = CanonicalParamText(v.type, v.in);
    const bool valid =
        !v.out.empty() || (v.type == "ByteString" && v.in.empty()) || (v.type == "String" && v.in.empty());
    if (valid) {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(*got, v.out);
    } else {
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(CanonicalParamTextTest, AnAddressAndItsScriptHashReadTheSame) {
  // Published pair (the neo-toolbox README): NNpbB25aNMY2pD5JkWeAEbsNfp7C3GoZF1 is the script hash
  // a7271ccc…e31f, whose wire bytes start 1f e3 ec.
  EXPECT_EQ(*CanonicalParamText("Hash160", "NNpbB25aNMY2pD5JkWeAEbsNfp7C3GoZF1"),
            "0xa7271ccc82bb311db369719d1868e6ac19ece31f");
  EXPECT_EQ(*CanonicalParamText("Hash160", "0xa7271ccc82bb311db369719d1868e6ac19ece31f"),
            "0xa7271ccc82bb311db369719d1868e6ac19ece31f");
  // And one made here: the single-signature account of a published key (neon-js's test vectors).
  auto key = crypto::PublicKey::FromHex("02232ce8d2e2063dce0451131851d47421bfc4fc1da4db116fca5302c0756462fa");
  ASSERT_TRUE(key.ok());
  const neo::UInt160 hash = neo::ScriptHash(neo::SingleSigScript(*key));
  ASSERT_EQ(neo::ToAddress(hash), "NfVdwyaJbijrWkRagrvs4eSRQUpP7WpukT");
  EXPECT_EQ(*CanonicalParamText("Hash160", "NfVdwyaJbijrWkRagrvs4eSRQUpP7WpukT"), hash.ToString());
  EXPECT_EQ(*CanonicalParamText("Hash160", hash.ToString()), hash.ToString());
}

TEST(RenderTest, TriggerShowsItsSpecStateAndTimes) {
  Request r = Base();
  r.clear_cron();
  r.mutable_interval()->set_every_ms(60'000);
  r.set_payload_json(R"({"k":1})");
  r.set_end_at("2027-01-01T00:00:00Z");
  TriggerRecord t;
  t.id = "tg_abcdefghijklmnopqrst";
  t.account = "acc_abcdefghijklmnopqrst";
  t.spec = Must(r);
  t.runs = 4;
  t.next_due_ms = kNow + 60'000;
  t.last_fired_at_ms = kNow;
  t.created_at_ms = 0;
  t.updated_at_ms = kNow + 1;

  automationpb::Trigger out;
  RenderTrigger(t, &out);
  EXPECT_EQ(out.id(), t.id);
  EXPECT_EQ(out.name(), "nightly");
  EXPECT_EQ(out.kind(), "interval");
  EXPECT_FALSE(out.has_cron());
  EXPECT_EQ(out.interval().every_ms(), 60'000);
  EXPECT_EQ(out.interval().start_at(), "2026-05-28T20:27:40.000Z");
  EXPECT_EQ(out.action().webhook().url(), "https://example.com/hook");
  EXPECT_EQ(out.payload_json(), R"({"k":1})");
  EXPECT_EQ(out.catch_up(), "skip");
  EXPECT_EQ(out.end_at(), "2027-01-01T00:00:00.000Z");
  EXPECT_EQ(out.retry().max_attempts(), 3u);
  EXPECT_EQ(out.retry().initial_backoff_ms(), 1000);
  EXPECT_EQ(out.retry().max_backoff_ms(), 300'000);
  EXPECT_EQ(out.status(), "active");
  EXPECT_EQ(out.runs(), 4u);
  EXPECT_EQ(out.next_fire_at(), "2026-05-28T20:27:40.000Z");
  EXPECT_EQ(out.last_fired_at(), "2026-05-28T20:26:40.000Z");
  EXPECT_EQ(out.created_at(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(out.updated_at(), "2026-05-28T20:26:40.001Z");

  // Paused: no next firing shown; never fired: no last.
  t.status = TriggerStatus::kPaused;
  t.last_fired_at_ms.reset();
  out.Clear();
  RenderTrigger(t, &out);
  EXPECT_EQ(out.status(), "paused");
  EXPECT_EQ(out.next_fire_at(), "");
  EXPECT_EQ(out.last_fired_at(), "");

  // A contract action with nested arguments and a price condition.
  r = Base();
  r.clear_cron();
  r.mutable_price()->set_pair("NEO/USD");
  r.mutable_price()->set_below("9.75");
  auto* c = r.mutable_action()->mutable_contract();
  r.mutable_action()->clear_webhook();
  c->set_contract(kContract);
  c->set_method("settle");
  c->add_args()->set_type("Array");
  c->mutable_args(0)->add_items()->set_type("Integer");
  c->mutable_args(0)->mutable_items(0)->set_value("5");
  t.spec = Must(r);
  t.status = TriggerStatus::kCompleted;
  t.status_reason = "max_runs reached";
  out.Clear();
  RenderTrigger(t, &out);
  EXPECT_EQ(out.kind(), "price");
  EXPECT_EQ(out.price().below(), "9.75");
  EXPECT_EQ(out.price().above(), "");
  EXPECT_EQ(out.action().contract().args(0).items(0).value(), "5");
  EXPECT_EQ(out.status(), "completed");
  EXPECT_EQ(out.status_reason(), "max_runs reached");
  EXPECT_EQ(out.end_at(), "");
}

TEST(RenderTest, RunShowsTimesAndLatency) {
  RunRecord run;
  run.id = TimeRunId("tg_abcdefghijklmnopqrst", kNow);
  run.trigger_id = "tg_abcdefghijklmnopqrst";
  run.status = RunStatus::kRetrying;
  run.scheduled_at_ms = kNow;
  run.recorded_at_ms = kNow + 35;
  run.attempts = 2;
  run.next_attempt_at_ms = kNow + 2035;
  run.context_json = R"({"height":7})";
  run.http_status = 503;
  run.error = "the webhook answered 503";
  run.catch_up = true;
  automationpb::TriggerRun out;
  RenderRun(run, &out);
  EXPECT_EQ(out.id(), "tg_abcdefghijklmnopqrst:t:1780000000000");
  EXPECT_EQ(out.status(), "retrying");
  EXPECT_EQ(out.scheduled_at(), "2026-05-28T20:26:40.000Z");
  EXPECT_EQ(out.recorded_at(), "2026-05-28T20:26:40.035Z");
  EXPECT_EQ(out.latency_ms(), 35);
  EXPECT_EQ(out.finished_at(), "");
  EXPECT_EQ(out.next_attempt_at(), "2026-05-28T20:26:42.035Z");
  EXPECT_EQ(out.attempts(), 2u);
  EXPECT_EQ(out.context_json(), R"({"height":7})");
  EXPECT_EQ(out.http_status(), 503);
  EXPECT_EQ(out.error(), "the webhook answered 503");
  EXPECT_TRUE(out.catch_up());

  run.status = RunStatus::kSucceeded;
  run.finished_at_ms = kNow + 900;
  run.next_attempt_at_ms.reset();
  out.Clear();
  RenderRun(run, &out);
  EXPECT_EQ(out.finished_at(), "2026-05-28T20:26:40.900Z");
  EXPECT_EQ(out.next_attempt_at(), "");
}

}  // namespace
}  // namespace neosl::automation
