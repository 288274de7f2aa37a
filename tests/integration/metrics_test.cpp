// GET /metrics through `neosl serve`: the business metrics of the services move by exactly what
// was done (one function invocation, one random request, one refused for want of GAS), and the
// whole page is valid Prometheus text — every line a comment or `name{labels} value`, each family
// described once, no series twice.
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/fixture.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;

// Series (name and label text as served) → value.
using Samples = std::map<std::string, double>;

class MetricsTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.env = {{"NEOSL_FUNCTIONS_WORKERS", "1"}};
    StartServer(options);
  }

  // Scrapes /metrics (no key: it is public), checking the format on the way.
  Samples Scrape() {
    auto r = client_->Get("/metrics");
    EXPECT_EQ(r.status, 200);
    page_ = r.body;
    const std::regex sample(
        R"(^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")*\})?) (NaN|[+-]Inf|-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)$)");
    const std::regex comment(R"(^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
    Samples out;
    std::set<std::string> described;
    std::istringstream in(r.body);
    size_t lines = 0;
    for (std::string line; std::getline(in, line);) {
      ++lines;
      std::smatch m;
      if (std::regex_match(line, m, comment)) {
        EXPECT_TRUE(described.insert(m[1].str() + " " + m[2].str()).second) << "described twice: " << line;
        continue;
      }
      if (!std::regex_match(line, m, sample)) {
        ADD_FAILURE() << "not a Prometheus sample line: " << line;
        continue;
      }
      EXPECT_TRUE(out.emplace(m[1].str(), std::stod(m[3].str())).second) << "series twice: " << line;
    }
    EXPECT_GT(lines, 100u);
    return out;
  }

  std::string page_;  // the last page scraped

  static double Get(const Samples& s, const std::string& series) {
    auto it = s.find(series);
    return it == s.end() ? 0 : it->second;
  }
};

TEST_F(MetricsTest, BusinessCountersMoveByExactlyWhatWasDoneAndThePageIsValidText) {
  const Samples before = Scrape();
  // Every family is there from the first scrape, counted or not.
  for (const char* family :
       {"neosl_functions_invocations_total", "neosl_random_requests_total", "neosl_gasbank_ledger_volume_datoshi_total",
        "neosl_pricefeed_staleness_seconds", "neosl_automation_lateness_seconds", "neosl_enclave_restarts_total",
        "neosl_outbox_items_finished_total", "neosl_chain_requests_answered_total"}) {
    EXPECT_THAT(page_, HasSubstr(std::string("\n# TYPE ") + family + " ")) << family;
  }
  EXPECT_EQ(Get(before, "neosl_enclave_up"), 1);

  auto created = Send("POST", "/v1/functions",
                      R"({"name":"double","source":"export default function (request) { return request.args * 2; }"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Str(Json(created), "id");
  auto invoked = Send("POST", "/v1/functions/" + id + "/invoke", R"({"args":21})");
  ASSERT_EQ(invoked.status, 200) << invoked.body;
  ASSERT_EQ(Str(Json(invoked), "status"), "succeeded") << invoked.body;

  auto drawn = Send("POST", "/v1/random", R"({"num_words": 3})");
  ASSERT_EQ(drawn.status, 200) << drawn.body;
  // Refused at the front door (the schema): the service never sees it.
  ASSERT_EQ(Send("POST", "/v1/random", R"({"num_words": 0})").status, 400);
  // Refused by the service: an account without GAS cannot pay for its words.
  const std::string account = CreateAccount("broke");
  const std::string key = CreateKey(account, R"(["invoker"])").second;
  auto unpaid = client_->Request("POST", "/v1/random", R"({"num_words": 1})",
                                 {{"authorization", "Bearer " + key}, {"content-type", "application/json"}});
  ASSERT_EQ(ErrorCode(unpaid), "FAILED_PRECONDITION") << unpaid.body;

  const Samples after = Scrape();
  auto delta = [&](const std::string& series) { return Get(after, series) - Get(before, series); };
  EXPECT_EQ(delta(R"(neosl_functions_invocations_total{trigger="api",outcome="ok"})"), 1);
  EXPECT_EQ(delta(R"(neosl_functions_invocations_total{trigger="api",outcome="error"})"), 0);
  EXPECT_EQ(delta(R"(neosl_functions_invocations_total{trigger="api",outcome="refused"})"), 0);
  EXPECT_EQ(delta(R"(neosl_functions_execution_seconds_count{trigger="api"})"), 1);
  EXPECT_EQ(delta(R"(neosl_functions_execution_seconds_bucket{trigger="api",le="+Inf"})"), 1);
  EXPECT_EQ(delta(R"(neosl_random_requests_total{source="api",outcome="ok"})"), 1);
  EXPECT_EQ(delta(R"(neosl_random_requests_total{source="api",outcome="refused"})"), 1);
  EXPECT_EQ(delta(R"(neosl_random_requests_total{source="api",outcome="error"})"), 0);
  EXPECT_EQ(delta(R"(neosl_random_words_total{source="api"})"), 3);
  EXPECT_EQ(delta(R"(neosl_gasbank_insufficient_funds_total{service="random"})"), 1);
  // The HTTP metrics around them moved too.
  EXPECT_EQ(delta(R"(neosl_http_requests_total{route="GenerateRandom",code="200"})"), 1);
  EXPECT_EQ(delta(R"(neosl_http_requests_total{route="GenerateRandom",code="400"})"), 2);

  // No label carries a user's identifiers, nor the key.
  EXPECT_EQ(page_.find(id), std::string::npos);
  EXPECT_EQ(page_.find(admin_), std::string::npos);
}

}  // namespace
}  // namespace neosl::testing
