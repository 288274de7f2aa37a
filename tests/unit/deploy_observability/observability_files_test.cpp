// deploy/observability (the Grafana dashboard and the Prometheus alert rules) against the metrics
// the code exports: both files parse; every metric name in a query or an alert expression is one
// that neosl serves on /metrics (the business metrics of core/business_metrics.h, the gateway's
// HTTP metrics, the mesh's); every label a selector matches on or groups by is one that metric
// has; every alert has a severity, a summary, a description and a runbook that is a heading of
// docs/operations.md; and every business metric appears on the dashboard. A typo anywhere fails.
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "core/business_metrics.h"
#include "core/clock.h"
#include "core/random.h"
#include "gateway/metrics.h"
#include "mesh/metrics.h"
#include "mesh/server.h"

namespace neosl {
namespace {

namespace json = boost::json;

std::string ReadSource(const std::string& path) {
  std::ifstream in(std::string(NEOSL_SOURCE_DIR) + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A metric's sample name → its label names; nullopt-like (`known` false) when only the name is
// known (a family rendered without samples).
struct Labels {
  bool known = false;
  std::set<std::string> names;
};
using Catalogue = std::map<std::string, Labels>;

// Every sample name neosl serves, with its labels. Added by Prometheus to every series: job,
// instance.
Catalogue Exported() {
  Catalogue out;
  metrics::RegisterAll();
  for (const metrics::FamilyInfo& f : metrics::Default().Families()) {
    for (const std::string& sample : f.SampleNames()) {
      Labels& l = out[sample];
      l.known = true;
      l.names.insert(f.labels.begin(), f.labels.end());
      if (sample.ends_with("_bucket")) l.names.insert("le");
    }
  }
  // The gateway's and the mesh's own renderers, read back from their text.
  gateway::HttpMetrics http({"GetHealth"});
  http.Observe(0, 200, std::chrono::milliseconds(1));
  http.RateLimited(0);
  ManualClock clock;
  DeterministicRandom random(1);
  mesh::Pipeline pipeline(mesh::PipelineOptions{}, clock, random);
  std::istringstream text(http.Render() + mesh::RenderMetrics(&pipeline, {}, {}));
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      const std::vector<std::string> samples =
          type == "histogram" ? std::vector<std::string>{name + "_bucket", name + "_sum", name + "_count"}
                              : std::vector<std::string>{name};
      for (const std::string& s : samples) out.emplace(s, Labels{});
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const size_t brace = line.find('{');
    const std::string name = line.substr(0, std::min(brace, line.find(' ')));
    Labels& l = out[name];
    l.known = true;
    // name{a="…",b="…"} value: each label name up to its '=', then its quoted value skipped.
    for (size_t i = brace; i != std::string::npos && i < line.size() && line[i] != '}';) {
      const size_t eq = line.find('=', i + 1);
      if (eq == std::string::npos) break;
      l.names.insert(line.substr(i + 1, eq - i - 1));
      for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\') ++i;
      }
      ++i;  // now at ',' or '}'
    }
  }
  return out;
}

bool IdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IdentChar(char c) {
  return IdentStart(c) || std::isdigit(static_cast<unsigned char>(c));
}

// What a PromQL (or Grafana templating) query names: metrics, the labels of each metric's
// selector, the labels it groups by, and label_values(metric, label).
struct Query {
  std::vector<std::string> metrics;
  std::vector<std::pair<std::string, std::string>> selector_labels;  // metric, label
  std::vector<std::string> grouping_labels;
};

Query Parse(const std::string& q) {
  Query out;
  std::string last_word;
  for (size_t i = 0; i < q.size();) {
    const char c = q[i];
    if (c == '"' || c == '\'' || c == '`') {  // a string: a label value or a regex
      for (++i; i < q.size() && q[i] != c; ++i) {
        if (q[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (c == '[') {  // a range or a subquery's duration
      i = q.find(']', i);
      i = i == std::string::npos ? q.size() : i + 1;
      continue;
    }
    if (c == '$') {  // a Grafana variable
      for (++i; i < q.size() && (IdentChar(q[i]) || q[i] == '{' || q[i] == '}'); ++i) {
      }
      continue;
    }
    if (c == '{' && !last_word.empty()) {  // a selector: label names before their operator
      const std::string metric = last_word.starts_with("neosl_") ? last_word : "";
      for (++i; i < q.size() && q[i] != '}';) {
        if (q[i] == '"') {
          for (++i; i < q.size() && q[i] != '"'; ++i) {
            if (q[i] == '\\') ++i;
          }
          ++i;
        } else if (IdentStart(q[i])) {
          const size_t start = i;
          while (i < q.size() && IdentChar(q[i])) ++i;
          if (!metric.empty()) out.selector_labels.emplace_back(metric, q.substr(start, i - start));
        } else {
          ++i;
        }
      }
      ++i;
      last_word.clear();
      continue;
    }
    if (c == '(' && (last_word == "by" || last_word == "without" || last_word == "on" || last_word == "ignoring" ||
                     last_word == "group_left" || last_word == "group_right")) {
      const size_t end = q.find(')', i);
      std::string list = q.substr(i + 1, end - i - 1);
      for (char& ch : list) {
        if (ch == ',') ch = ' ';
      }
      std::istringstream labels(list);
      for (std::string l; labels >> l;) out.grouping_labels.push_back(l);
      i = end == std::string::npos ? q.size() : end + 1;
      last_word.clear();
      continue;
    }
    if (c == '(' && last_word == "label_values") {  // label_values(metric, label)
      const size_t end = q.find(')', i);
      std::string args = q.substr(i + 1, end - i - 1);
      const size_t comma = args.find(',');
      auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(' '));
        s.erase(s.find_last_not_of(' ') + 1);
        return s;
      };
      const std::string metric = trim(args.substr(0, comma));
      out.metrics.push_back(metric);
      if (comma != std::string::npos) out.selector_labels.emplace_back(metric, trim(args.substr(comma + 1)));
      i = end == std::string::npos ? q.size() : end + 1;
      last_word.clear();
      continue;
    }
    if (IdentStart(c)) {
      const size_t start = i;
      while (i < q.size() && IdentChar(q[i])) ++i;
      last_word = q.substr(start, i - start);
      if (last_word.starts_with("neosl_")) out.metrics.push_back(last_word);
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) last_word.clear();
    ++i;
  }
  return out;
}

const std::set<std::string> kTargetLabels = {"instance", "job"};
const std::string kAnyLabel = "*";

// The problems of one query (empty: none), each naming `where`.
std::vector<std::string> Check(const Catalogue& exported, const std::string& where, const std::string& query,
                               std::set<std::string>* labels_out = nullptr) {
  std::vector<std::string> problems;
  const Query q = Parse(query);
  std::set<std::string> available = kTargetLabels;
  bool all_known = true;
  for (const std::string& m : q.metrics) {
    auto it = exported.find(m);
    if (it == exported.end()) {
      problems.push_back(where + ": no metric " + m);
      continue;
    }
    all_known = all_known && it->second.known;
    available.insert(it->second.names.begin(), it->second.names.end());
  }
  for (const auto& [metric, label] : q.selector_labels) {
    auto it = exported.find(metric);
    if (it == exported.end() || !it->second.known || kTargetLabels.count(label) || label == "__name__") continue;
    if (!it->second.names.count(label)) problems.push_back(where + ": " + metric + " has no label " + label);
  }
  if (all_known) {
    for (const std::string& label : q.grouping_labels) {
      if (!available.count(label)) problems.push_back(where + ": no metric of the query has the label " + label);
    }
  } else {
    available.insert(kAnyLabel);  // a family served without samples here (the mesh client's)
  }
  if (labels_out) *labels_out = available;
  return problems;
}

// Every string under a key "expr" or "query" (a panel target's, a templating variable's).
void CollectQueries(const json::value& v, const std::string& path,
                    std::vector<std::pair<std::string, std::string>>* out) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.as_object()) {
      const std::string here = path + "/" + std::string(key);
      if ((key == "expr" || key == "query") && value.is_string()) {
        out->emplace_back(here, std::string(value.as_string()));
      } else {
        CollectQueries(value, here, out);
      }
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.as_array().size(); ++i)
      CollectQueries(v.as_array()[i], path + "/" + std::to_string(i), out);
  }
}

// GitHub's anchors of a Markdown file's headings.
std::set<std::string> Anchors(const std::string& markdown) {
  std::set<std::string> out;
  std::istringstream in(markdown);
  bool fenced = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("```")) fenced = !fenced;
    if (fenced || !line.starts_with("#")) continue;
    const std::string text = line.substr(line.find_first_not_of('#'));
    std::string anchor;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
        anchor += char(std::tolower(static_cast<unsigned char>(c)));
      } else if (c == ' ') {
        anchor += '-';
      }
    }
    if (!anchor.empty() && anchor[0] == '-') anchor.erase(0, 1);
    out.insert(anchor);
  }
  return out;
}

class ObservabilityFilesTest : public ::testing::Test {
 protected:
  const Catalogue exported_ = Exported();
};

TEST_F(ObservabilityFilesTest, TheCheckerCatchesTypos) {
  EXPECT_THAT(Check(exported_, "ok", R"(sum by (trigger) (rate(neosl_functions_invocations_total{outcome="ok"}[5m])))"),
              ::testing::IsEmpty());
  EXPECT_THAT(
      Check(
          exported_, "ok",
          R"(histogram_quantile(0.99, sum by (le) (rate(neosl_http_request_duration_seconds_bucket{route!~"A|B"}[$__rate_interval]))))"),
      ::testing::IsEmpty());
  EXPECT_THAT(Check(exported_, "name", "rate(neosl_functions_invocation_total[5m])"), ::testing::SizeIs(1));
  EXPECT_THAT(Check(exported_, "selector", R"(neosl_pricefeed_staleness_seconds{pari="NEO/USD"})"),
              ::testing::SizeIs(1));
  EXPECT_THAT(Check(exported_, "grouping", "sum by (pari) (neosl_pricefeed_staleness_seconds)"), ::testing::SizeIs(1));
  EXPECT_THAT(Check(exported_, "http", R"(neosl_http_requests_total{rout="x"})"), ::testing::SizeIs(1));
  EXPECT_THAT(Check(exported_, "values", "label_values(neosl_build_info, instanc)"), ::testing::SizeIs(1));
}

TEST_F(ObservabilityFilesTest, TheDashboardUsesOnlyExportedMetricsAndShowsEveryBusinessMetric) {
  const std::string text = ReadSource("deploy/observability/grafana-dashboard.json");
  ASSERT_FALSE(text.empty()) << "deploy/observability/grafana-dashboard.json is missing";
  boost::system::error_code ec;
  const json::value dashboard = json::parse(text, ec);
  ASSERT_FALSE(ec) << "grafana-dashboard.json does not parse: " << ec.message();
  ASSERT_TRUE(dashboard.is_object());
  const json::object& d = dashboard.as_object();
  EXPECT_TRUE(d.contains("uid") && d.contains("title") && d.contains("schemaVersion"));

  // Importable anywhere: the data source is a variable, and every panel uses it.
  bool datasource_variable = false;
  for (const json::value& v : d.at("templating").at("list").as_array()) {
    if (v.at("type") == "datasource" && v.at("query") == "prometheus" && v.at("name") == "datasource") {
      datasource_variable = true;
    }
  }
  EXPECT_TRUE(datasource_variable) << "no Prometheus data source variable named datasource";
  std::set<int64_t> ids;
  size_t rows = 0, graphs = 0;
  for (const json::value& p : d.at("panels").as_array()) {
    const int64_t id = p.at("id").to_number<int64_t>();
    EXPECT_TRUE(ids.insert(id).second) << "panel id " << id << " repeats";
    if (p.at("type") == "row") {
      ++rows;
      continue;
    }
    ++graphs;
    EXPECT_EQ(p.at("datasource").at("uid"), "${datasource}") << p.at("title");
    EXPECT_FALSE(p.at("targets").as_array().empty()) << p.at("title");
  }
  EXPECT_GE(rows, 8u);
  EXPECT_GE(graphs, 30u);

  std::vector<std::pair<std::string, std::string>> queries;
  CollectQueries(dashboard, "", &queries);
  std::set<std::string> shown;
  for (const auto& [where, query] : queries) {
    for (const std::string& problem : Check(exported_, "grafana-dashboard.json" + where, query))
      ADD_FAILURE() << problem;
    for (const std::string& m : Parse(query).metrics) shown.insert(m);
  }
  EXPECT_GT(queries.size(), 50u);
  for (const metrics::FamilyInfo& f : metrics::Default().Families()) {
    bool on_dashboard = false;
    for (const std::string& sample : f.SampleNames()) on_dashboard = on_dashboard || shown.count(sample) > 0;
    EXPECT_TRUE(on_dashboard) << f.name << " is on no panel of the dashboard";
  }
}

TEST_F(ObservabilityFilesTest, AlertsUseOnlyExportedMetricsAndEachHasASeverityAndARunbook) {
  const std::string path = std::string(NEOSL_SOURCE_DIR) + "/deploy/observability/alerts.yaml";
  YAML::Node rules;
  try {
    rules = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    FAIL() << "alerts.yaml does not parse: " << e.what();
  }
  const std::set<std::string> anchors = Anchors(ReadSource("docs/operations.md"));
  std::set<std::string> names;
  size_t count = 0;
  ASSERT_TRUE(rules["groups"].IsSequence());
  for (const YAML::Node& group : rules["groups"]) {
    ASSERT_TRUE(group["name"].IsScalar());
    for (const YAML::Node& rule : group["rules"]) {
      ++count;
      const std::string name = rule["alert"].as<std::string>("");
      const std::string where = "alerts.yaml " + name;
      ASSERT_FALSE(name.empty()) << "a rule of group " << group["name"].as<std::string>() << " is not an alert";
      EXPECT_TRUE(names.insert(name).second) << where << " repeats";
      const std::string severity = rule["labels"]["severity"].as<std::string>("");
      EXPECT_TRUE(severity == "critical" || severity == "warning") << where << ": severity " << severity;
      std::set<std::string> labels;
      for (const std::string& problem : Check(exported_, where, rule["expr"].as<std::string>(""), &labels)) {
        ADD_FAILURE() << problem;
      }
      const YAML::Node annotations = rule["annotations"];
      for (const char* key : {"summary", "description", "runbook_url"}) {
        EXPECT_FALSE(annotations[key].as<std::string>("").empty()) << where << " has no " << key;
      }
      // Template references to labels: ones the expression's series can have.
      for (const char* key : {"summary", "description"}) {
        const std::string text = annotations[key].as<std::string>("");
        for (size_t at = text.find("$labels."); at != std::string::npos; at = text.find("$labels.", at + 1)) {
          size_t end = at + 8;
          while (end < text.size() && IdentChar(text[end])) ++end;
          const std::string label = text.substr(at + 8, end - at - 8);
          EXPECT_TRUE(labels.count(label) || labels.count(kAnyLabel))
              << where << ": " << key << " uses $labels." << label;
        }
      }
      const std::string runbook = annotations["runbook_url"].as<std::string>("");
      const std::string prefix = "docs/operations.md#";
      ASSERT_TRUE(runbook.starts_with(prefix)) << where << ": runbook " << runbook;
      EXPECT_TRUE(anchors.count(runbook.substr(prefix.size())))
          << where << ": docs/operations.md has no heading for " << runbook;
    }
  }
  EXPECT_GE(count, 10u);
  // The ones operators were promised (issue #14).
  for (const char* required :
       {"NeoslHttp5xxRatio", "NeoslHttpLatencyP99", "NeoslPriceFeedStale", "NeoslEnclaveRestarting",
        "NeoslOutboxTransactionsFaulting", "NeoslOutboxTransactionsExpiring", "NeoslChainFollowerBehind",
        "NeoslAutomationRunsFailing"}) {
    EXPECT_TRUE(names.count(required)) << "no alert " << required;
  }
  // Insufficient funds is the account's problem, not the platform's: never paged on.
  EXPECT_EQ(ReadSource("deploy/observability/alerts.yaml").find("expr: neosl_gasbank_insufficient_funds"),
            std::string::npos);
}

}  // namespace
}  // namespace neosl
