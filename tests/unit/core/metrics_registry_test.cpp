#include "core/metrics_registry.h"

#include <cmath>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/business_metrics.h"

namespace neosl::metrics {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(MetricsRegistryTest, RendersTheTextFormatWithHelpTypeAndSortedSeries) {
  Registry r;
  Counter& c = r.AddCounter("neosl_test_things_total", "Things done.", {"kind", "outcome"});
  Gauge& g = r.AddGauge("neosl_test_level", "A level.");
  c.Inc({"b", "ok"}, 3);
  c.Inc({"a", "error"});
  c.Inc({"a", "ok"}, 2);
  g.Set({}, 2.5);
  EXPECT_EQ(r.Render(),
            "# HELP neosl_test_level A level.\n"
            "# TYPE neosl_test_level gauge\n"
            "neosl_test_level 2.5\n"
            "# HELP neosl_test_things_total Things done.\n"
            "# TYPE neosl_test_things_total counter\n"
            "neosl_test_things_total{kind=\"a\",outcome=\"error\"} 1\n"
            "neosl_test_things_total{kind=\"a\",outcome=\"ok\"} 2\n"
            "neosl_test_things_total{kind=\"b\",outcome=\"ok\"} 3\n");
  EXPECT_EQ(c.Value({"b", "ok"}), 3u);
  EXPECT_EQ(c.Value({"zz", "ok"}), 0u);
}

TEST(MetricsRegistryTest, APlainCounterShowsZeroBeforeItsFirstIncrement) {
  Registry r;
  r.AddCounter("neosl_test_plain_total", "Plain.");
  EXPECT_THAT(r.Render(), HasSubstr("\nneosl_test_plain_total 0\n"));
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry r;
  Histogram& h = r.AddHistogram("neosl_test_seconds", "Durations.", {"op"}, {0.1, 1, 10});
  h.Observe({"x"}, 0.05);
  h.Observe({"x"}, 0.1);  // le is inclusive
  h.Observe({"x"}, 5);
  h.Observe({"x"}, 100);
  EXPECT_EQ(r.Render(),
            "# HELP neosl_test_seconds Durations.\n"
            "# TYPE neosl_test_seconds histogram\n"
            "neosl_test_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n"
            "neosl_test_seconds_bucket{op=\"x\",le=\"1\"} 2\n"
            "neosl_test_seconds_bucket{op=\"x\",le=\"10\"} 3\n"
            "neosl_test_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"
            "neosl_test_seconds_sum{op=\"x\"} 105.15\n"
            "neosl_test_seconds_count{op=\"x\"} 4\n");
  EXPECT_EQ(h.Count({"x"}), 4u);
  EXPECT_DOUBLE_EQ(h.Sum({"x"}), 105.15);
}

TEST(MetricsRegistryTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  Counter& c = r.AddCounter("neosl_test_escaped_total", "Help with a \\ and a\nnewline.", {"v"});
  c.Inc({"a\"quote\" a \\ and a\nnewline"});
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP neosl_test_escaped_total Help with a \\\\ and a\\nnewline.\n"));
  EXPECT_THAT(text, HasSubstr("neosl_test_escaped_total{v=\"a\\\"quote\\\" a \\\\ and a\\nnewline\"} 1\n"));
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(MetricsRegistryTest, ValuesUseTheFormatsSpellings) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(1e15), "1000000000000000");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatValue(-INFINITY), "-Inf");
}

TEST(MetricsRegistryTest, ConcurrentIncrementsAreNeverLost) {
  Registry r;
  Counter& c = r.AddCounter("neosl_test_concurrent_total", "Concurrent.", {"worker_kind"});
  Histogram& h = r.AddHistogram("neosl_test_concurrent_seconds", "Concurrent.", {"worker_kind"}, {0.5});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread races to create the same series and one of its own.
      const std::string own = "own" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        c.Inc({"shared"});
        c.Inc({own});
        h.Observe({"shared"}, 1);
      }
    });
  }
  // Renders while they count: never torn, never crashing.
  for (int i = 0; i < 20; ++i) EXPECT_THAT(r.Render(), HasSubstr("# TYPE neosl_test_concurrent_total counter"));
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value({"shared"}), uint64_t{kThreads} * kPerThread);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(c.Value({"own" + std::to_string(t)}), uint64_t{kPerThread});
  EXPECT_EQ(h.Count({"shared"}), uint64_t{kThreads} * kPerThread);
  EXPECT_DOUBLE_EQ(h.Sum({"shared"}), double(kThreads) * kPerThread);
  // One series per label set, however many threads created it at once.
  const std::string text = r.Render();
  size_t shared = 0;
  for (const std::string& line : Lines(text))
    shared += line.starts_with("neosl_test_concurrent_total{worker_kind=\"shared\"}");
  EXPECT_EQ(shared, 1u);
}

TEST(MetricsRegistryTest, CallbacksAreEvaluatedAtRenderAndRemovedByOwner) {
  Registry r;
  Gauge& g = r.AddGauge("neosl_test_staleness_seconds", "Staleness.", {"pair"});
  Counter& c = r.AddCounter("neosl_test_callback_total", "Callback counter.", {"status"});
  double age = 5;
  int owner_a = 0, owner_b = 0;
  g.AddCallback(&owner_a, [&](Sink& s) { s.Add({"NEO/USD"}, age); });
  c.AddCallback(&owner_a, [](Sink& s) { s.Add({"ok"}, 2); });
  c.AddCallback(&owner_b, [](Sink& s) { s.Add({"ok"}, 3); });
  c.Inc({"ok"}, 1);
  EXPECT_THAT(r.Render(), HasSubstr("neosl_test_staleness_seconds{pair=\"NEO/USD\"} 5\n"));
  age = 7.5;
  std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("neosl_test_staleness_seconds{pair=\"NEO/USD\"} 7.5\n"));
  EXPECT_THAT(text, HasSubstr("neosl_test_callback_total{status=\"ok\"} 6\n"));  // direct + both callbacks
  g.RemoveCallbacks(&owner_a);
  c.RemoveCallbacks(&owner_a);
  text = r.Render();
  EXPECT_THAT(text, ::testing::Not(HasSubstr("NEO/USD")));
  EXPECT_THAT(text, HasSubstr("neosl_test_callback_total{status=\"ok\"} 4\n"));
}

TEST(MetricsRegistryTest, RegisteringTheSameFamilyTwiceGivesTheSameFamily) {
  Registry r;
  Counter& a = r.AddCounter("neosl_test_twice_total", "Twice.", {"x"});
  Counter& b = r.AddCounter("neosl_test_twice_total", "Twice.", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_DEATH(r.AddCounter("neosl_test_twice_total", "Twice.", {"y"}), "registered twice");
  EXPECT_DEATH(r.AddCounter("neosl_test_bad", "No _total."), "ends in _total");
  EXPECT_DEATH(r.AddGauge("neosl-test-bad", "Bad name."), "not a valid metric name");
  EXPECT_DEATH(r.AddHistogram("neosl_test_h", "Le.", {"le"}, {1}), "label le");
  EXPECT_DEATH(r.AddHistogram("neosl_test_h", "Order.", {}, {2, 1}), "increasing");
}

TEST(MetricsRegistryTest, TooManySeriesFoldIntoOverflow) {
  Registry r;
  Counter& c = r.AddCounter("neosl_test_cardinality_total", "Cardinality.", {"id"});
  for (size_t i = 0; i < kMaxSeriesPerFamily + 50; ++i) c.Inc({"id" + std::to_string(i)});
  EXPECT_EQ(c.Value({"_overflow"}), 50u);
  EXPECT_EQ(c.Value({"id0"}), 1u);
}

TEST(MetricsRegistryTest, TheBusinessMetricsRenderAsValidText) {
  RegisterAll();
  Functions().invocations.Inc({"api", "ok"});
  const std::string text = Default().Render();
  // name{label="value",…} value — the only kind of line besides # HELP and # TYPE.
  const std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? (NaN|[+-]Inf|-?[0-9.e+-]+)$)");
  size_t samples = 0;
  for (const std::string& line : Lines(text)) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    ++samples;
  }
  EXPECT_GT(samples, 10u);
  for (const FamilyInfo& f : Default().Families()) {
    EXPECT_TRUE(f.name.starts_with("neosl_")) << f.name;
    EXPECT_THAT(text, HasSubstr("# TYPE " + f.name + " ")) << f.name;
  }
  EXPECT_EQ(OutcomeOf(Status()), "ok");
  EXPECT_EQ(OutcomeOf(FailedPreconditionError("insufficient funds")), "refused");
  EXPECT_EQ(OutcomeOf(DeadlineExceededError("slow")), "timeout");
  EXPECT_EQ(OutcomeOf(InternalError("bug")), "error");
  EXPECT_EQ(ChainServiceLabel("oracle"), "oracle");
  EXPECT_EQ(ChainServiceLabel("anything a contract says"), "other");
}

}  // namespace
}  // namespace neosl::metrics
