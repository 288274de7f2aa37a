#include "core/redis_client.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace neosl::redis {
namespace {

std::string Password(const Endpoint& e) {
  return std::string(e.password.bytes().begin(), e.password.bytes().end());
}

TEST(RedisDsnTest, ReadsEveryPart) {
  auto e = ParseDsn("redis://limiter:p%40ss:w@rd@cache.internal:6380/3");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host, "cache.internal");
  EXPECT_EQ(e->port, 6380);
  EXPECT_EQ(e->user, "limiter");
  EXPECT_EQ(Password(*e), "p@ss:w@rd");  // the last '@' ends the credentials
  EXPECT_EQ(e->db, 3);
  EXPECT_EQ(e->Describe(), "cache.internal:6380/3");  // no credentials in what is logged
}

TEST(RedisDsnTest, DefaultsAndShortForms) {
  auto e = ParseDsn("redis://127.0.0.1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, 6379);
  EXPECT_EQ(e->db, 0);
  EXPECT_TRUE(e->password.empty());
  EXPECT_TRUE(e->user.empty());

  auto p = ParseDsn("redis://:secret@localhost:7000/");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->user, "");
  EXPECT_EQ(Password(*p), "secret");
  EXPECT_EQ(p->port, 7000);
  EXPECT_EQ(p->db, 0);

  auto v6 = ParseDsn("redis://[::1]:6390/1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 6390);
  EXPECT_EQ(v6->Describe(), "[::1]:6390/1");
}

TEST(RedisDsnTest, RefusesWhatItCannotHonourWithoutEchoingThePassword) {
  for (std::string dsn :
       {"http://host:6379", "rediss://:hunter2@host:6379", "redis://", "redis://:hunter2@:6379", "redis://host:0",
        "redis://host:65536", "redis://host:port", "redis://host/db", "redis://host/-1", "redis://host?db=1",
        "redis://hunter2@host", "redis://:hunt%2@host", "redis://[::1", "redis://[::1]x"}) {
    auto e = ParseDsn(dsn);
    ASSERT_FALSE(e.ok()) << dsn;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << dsn;
    EXPECT_EQ(e.status().message().find("hunter2"), std::string_view::npos) << e.status().ToString();
  }
}

TEST(RespTest, CommandsAreArraysOfBulkStrings) {
  std::string out;
  std::vector<std::string_view> args = {"EVALSHA", "ab", "1", "", "x\r\ny"};
  AppendCommand(out, args);
  EXPECT_EQ(out, "*5\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$0\r\n\r\n$4\r\nx\r\ny\r\n");
}

TEST(RespTest, ParsesEachReplyType) {
  Reply r;
  EXPECT_EQ(*ParseReply("+OK\r\n", r), 5u);
  EXPECT_EQ(r.type, Reply::Type::kSimpleString);
  EXPECT_EQ(r.text, "OK");

  EXPECT_EQ(*ParseReply("-NOSCRIPT No matching script\r\n", r), 30u);
  EXPECT_TRUE(r.is_error());
  EXPECT_EQ(r.text, "NOSCRIPT No matching script");

  EXPECT_EQ(*ParseReply(":-42\r\n", r), 6u);
  EXPECT_EQ(r.type, Reply::Type::kInteger);
  EXPECT_EQ(r.integer, -42);

  EXPECT_EQ(*ParseReply("$5\r\na\r\nbc\r\n", r), 11u);  // a bulk string may hold CRLF
  EXPECT_EQ(r.type, Reply::Type::kBulkString);
  EXPECT_EQ(r.text, "a\r\nbc");

  EXPECT_EQ(*ParseReply("$-1\r\n", r), 5u);
  EXPECT_EQ(r.type, Reply::Type::kNil);

  EXPECT_EQ(*ParseReply("*2\r\n:1\r\n*1\r\n$0\r\n\r\n+rest", r), 18u);  // stops at the reply's end
  ASSERT_EQ(r.type, Reply::Type::kArray);
  ASSERT_EQ(r.elements.size(), 2u);
  EXPECT_EQ(r.elements[0].integer, 1);
  ASSERT_EQ(r.elements[1].elements.size(), 1u);
  EXPECT_EQ(r.elements[1].elements[0].type, Reply::Type::kBulkString);
  EXPECT_EQ(r.elements[1].elements[0].text, "");
}

TEST(RespTest, EveryStrictPrefixIsIncomplete) {
  const std::string whole = "*3\r\n:1\r\n$3\r\nabc\r\n*2\r\n+x\r\n-y\r\n";
  Reply r;
  for (size_t n = 0; n < whole.size(); ++n) {
    auto parsed = ParseReply(std::string_view(whole).substr(0, n), r);
    ASSERT_TRUE(parsed.ok()) << n;
    EXPECT_EQ(*parsed, 0u) << n;
  }
  EXPECT_EQ(*ParseReply(whole, r), whole.size());
}

TEST(RespTest, RefusesWhatIsNotRespOrTooBig) {
  Reply r;
  for (std::string bad : {"hello\r\n", ":12x\r\n", ":\r\n", "$-2\r\n", "$abc\r\n", "$3\r\nabcd\r\n", "$2000000\r\n",
                          "*-2\r\n", "*5000\r\n", "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"}) {
    auto parsed = ParseReply(bad, r);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kDataLoss) << bad;
  }
  // A line that never ends must not be buffered without limit.
  auto endless = ParseReply("+" + std::string(size_t{70} * 1024, 'a'), r);
  EXPECT_FALSE(endless.ok());
}

}  // namespace
}  // namespace neosl::redis
