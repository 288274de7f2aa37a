#include "core/log.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdlib.h>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace neosl::log {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

boost::json::object ParseObject(const std::string& line) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << ec.message() << " in: " << line;
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << line;
    return {};
  }
  return v.as_object();
}

TEST(LogFormatTest, JsonLineHasTimestampLevelAndMessage) {
  auto obj = ParseObject(FormatLine(true, Level::kWarn, "disk low", {}, ""));
  ASSERT_TRUE(obj.contains("ts"));
  std::string ts(obj.at("ts").as_string());
  // 2026-11-21T10:00:00.123Z
  EXPECT_EQ(ts.size(), 24u) << ts;
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(obj.at("level").as_string(), "warn");
  EXPECT_EQ(obj.at("msg").as_string(), "disk low");
  EXPECT_FALSE(obj.contains("trace_id"));
  EXPECT_EQ(obj.size(), 3u);
}

TEST(LogFormatTest, JsonLineCarriesTraceIdWhenSet) {
  auto obj = ParseObject(FormatLine(true, Level::kInfo, "m", {}, "4bf92f3577b34da6a3ce929d0e0e4736"));
  ASSERT_TRUE(obj.contains("trace_id"));
  EXPECT_EQ(obj.at("trace_id").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(LogFormatTest, JsonFieldsKeepTheirTypes) {
  std::string owned = "owned string";
  auto obj = ParseObject(FormatLine(true, Level::kInfo, "typed",
                                    {{"s", "text"},
                                     {"owned", owned},
                                     {"i", 42},
                                     {"neg", -7},
                                     {"big", int64_t{1} << 40},
                                     {"u8", uint8_t{200}},
                                     {"d", 1.5},
                                     {"b", true},
                                     {"f", false}},
                                    ""));
  ASSERT_TRUE(obj.at("s").is_string());
  EXPECT_EQ(obj.at("s").as_string(), "text");
  EXPECT_EQ(obj.at("owned").as_string(), "owned string");
  ASSERT_TRUE(obj.at("i").is_int64());
  EXPECT_EQ(obj.at("i").as_int64(), 42);
  EXPECT_EQ(obj.at("neg").as_int64(), -7);
  EXPECT_EQ(obj.at("big").as_int64(), int64_t{1} << 40);
  // A uint8_t is a number, not a character.
  EXPECT_EQ(obj.at("u8").as_int64(), 200);
  ASSERT_TRUE(obj.at("d").is_double());
  EXPECT_DOUBLE_EQ(obj.at("d").as_double(), 1.5);
  ASSERT_TRUE(obj.at("b").is_bool());
  EXPECT_TRUE(obj.at("b").as_bool());
  EXPECT_FALSE(obj.at("f").as_bool());
}

TEST(LogFormatTest, NonFiniteDoubleIsNullInJson) {
  auto obj = ParseObject(FormatLine(true, Level::kInfo, "m", {{"ratio", 0.0 / 0.0}}, ""));
  EXPECT_TRUE(obj.at("ratio").is_null());
}

TEST(LogFormatTest, AwkwardStringsSurviveJsonRoundTrip) {
  const std::string awkward =
      "line1\nline2\r\ttab \"quoted\" back\\slash \x01\x02\x1f del\x7f "
      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82";
  const std::string key = "k\"e\\y\n";
  std::string line = FormatLine(true, Level::kError, awkward, {{key, awkward}}, "t\"1");
  // One record per line: a raw newline would split it.
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto obj = ParseObject(line);
  EXPECT_EQ(obj.at("msg").as_string(), awkward);
  ASSERT_TRUE(obj.contains(key));
  EXPECT_EQ(obj.at(key).as_string(), awkward);
  EXPECT_EQ(obj.at("trace_id").as_string(), "t\"1");
}

TEST(LogFormatTest, TextLineHasKeyValuePairs) {
  std::string line =
      FormatLine(false, Level::kInfo, "listening", {{"address", "127.0.0.1:8080"}, {"tls", false}, {"n", 3}}, "abc");
  EXPECT_THAT(line, HasSubstr(" info listening"));
  EXPECT_THAT(line, HasSubstr("address=127.0.0.1:8080"));
  EXPECT_THAT(line, HasSubstr("tls=false"));
  EXPECT_THAT(line, HasSubstr("n=3"));
  EXPECT_THAT(line, HasSubstr("trace_id=abc"));
  EXPECT_THAT(line, Not(StartsWith("{")));
  EXPECT_THAT(FormatLine(false, Level::kInfo, "m", {}, ""), Not(HasSubstr("trace_id")));
}

TEST(LogLevelTest, ParseLevelAcceptsTheSixNames) {
  const std::pair<const char*, Level> names[] = {{"trace", Level::kTrace}, {"debug", Level::kDebug},
                                                 {"info", Level::kInfo},   {"warn", Level::kWarn},
                                                 {"error", Level::kError}, {"off", Level::kOff}};
  for (const auto& [name, level] : names) {
    auto parsed = ParseLevel(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, level) << name;
    EXPECT_EQ(LevelName(level), name);
  }
}

TEST(LogLevelTest, ParseLevelRejectsOthers) {
  for (const char* name : {"", "INFO", "warning", "fatal", "info "}) {
    auto parsed = ParseLevel(name);
    ASSERT_FALSE(parsed.ok()) << "'" << name << "'";
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(TraceIdTest, ScopedTraceIdNestsAndRestores) {
  EXPECT_EQ(CurrentTraceId(), "");
  {
    ScopedTraceId outer("outer");
    EXPECT_EQ(CurrentTraceId(), "outer");
    {
      ScopedTraceId inner("inner-trace-id-long-enough-to-live-on-the-heap");
      EXPECT_EQ(CurrentTraceId(), "inner-trace-id-long-enough-to-live-on-the-heap");
      {
        ScopedTraceId innermost("x");
        EXPECT_EQ(CurrentTraceId(), "x");
      }
      EXPECT_EQ(CurrentTraceId(), "inner-trace-id-long-enough-to-live-on-the-heap");
    }
    EXPECT_EQ(CurrentTraceId(), "outer");
  }
  EXPECT_EQ(CurrentTraceId(), "");
}

// A view of the current id (CurrentTraceId()) must survive the scope's move of the old id.
TEST(TraceIdTest, ScopedTraceIdFromCurrentTraceId) {
  for (std::string id : {"short", "a-trace-id-that-is-longer-than-the-sso-buffer"}) {
    ScopedTraceId outer(id);
    {
      ScopedTraceId again(CurrentTraceId());
      EXPECT_EQ(CurrentTraceId(), id);
    }
    EXPECT_EQ(CurrentTraceId(), id);
  }
}

// Init with a file: Write lands there one line per call, filtered by level.
class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_.path(); }
  void TearDown() override {
    // Back to the default logger, which also closes the file.
    EXPECT_TRUE(Init(Options{}).ok());
  }

  static std::vector<std::string> ReadLines(const std::string& path) {
    Flush();  // file logs are buffered between the periodic flushes
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  ::neosl::testing::TempDir temp_;  // removed with its files after the test
  std::string dir_;
};

TEST_F(LogFileTest, WritesOneJsonLinePerCallAndFiltersByLevel) {
  const std::string path = dir_ + "/neosl.log";
  ASSERT_TRUE(Init(Options{Level::kInfo, true, path}).ok());
  EXPECT_TRUE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  EXPECT_FALSE(Enabled(Level::kDebug));
  EXPECT_FALSE(Enabled(Level::kOff));

  Info("first", {{"n", 1}});
  Debug("hidden");
  {
    ScopedTraceId trace("trace-1");
    Warn("second\nstill second", {{"n", 2}});
  }
  Error("third");

  auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 3u);
  auto first = ParseObject(lines[0]);
  EXPECT_EQ(first.at("msg").as_string(), "first");
  EXPECT_EQ(first.at("level").as_string(), "info");
  EXPECT_EQ(first.at("n").as_int64(), 1);
  EXPECT_FALSE(first.contains("trace_id"));
  auto second = ParseObject(lines[1]);
  EXPECT_EQ(second.at("msg").as_string(), "second\nstill second");
  EXPECT_EQ(second.at("level").as_string(), "warn");
  EXPECT_EQ(second.at("trace_id").as_string(), "trace-1");
  EXPECT_EQ(ParseObject(lines[2]).at("level").as_string(), "error");
  for (const auto& line : lines) EXPECT_THAT(line, Not(HasSubstr("hidden")));
}

TEST_F(LogFileTest, TextFormatAndDebugLevel) {
  const std::string path = dir_ + "/text.log";
  ASSERT_TRUE(Init(Options{Level::kDebug, false, path}).ok());
  Debug("shown", {{"k", "v"}});
  Write(Level::kTrace, "too verbose");
  auto lines = ReadLines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("debug shown"));
  EXPECT_THAT(lines[0], HasSubstr("k=v"));
}

TEST_F(LogFileTest, LevelOffWritesNothing) {
  const std::string path = dir_ + "/off.log";
  ASSERT_TRUE(Init(Options{Level::kOff, true, path}).ok());
  Error("not even errors");
  Write(Level::kOff, "nor off");
  EXPECT_TRUE(ReadLines(path).empty());
}

TEST_F(LogFileTest, UnopenableFileIsAnError) {
  // A directory cannot be opened as the log file.
  Status s = Init(Options{Level::kInfo, true, dir_});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(dir_));
}

}  // namespace
}  // namespace neosl::log
