// `neosl ca init|issue|revoke|list` through the real binary (apps/neosl/ca_cli.h).
#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace neosl::testing {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

json::object ParseObject(const CommandResult& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.out, ec);
  EXPECT_FALSE(ec) << r.out << r.err;
  return v.is_object() ? v.as_object() : json::object();
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(CaCliTest, InitIssueListRevoke) {
  TempDir tmp;
  std::string dir = tmp.File("ca");
  std::string out = tmp.File("echo-identity");

  CommandResult init = RunNeosl({"ca", "init", "--dir", dir, "--name", "test mesh CA"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  json::object created = ParseObject(init);
  EXPECT_EQ(Str(created, "dir"), dir);
  EXPECT_EQ(Str(created, "ca_cert"), dir + "/ca.crt");
  EXPECT_EQ(Str(created, "fingerprint").size(), 64u);
  EXPECT_THAT(Str(created, "not_after"), ::testing::EndsWith("Z"));
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/ca.key"), 0600u);
  EXPECT_THAT(ReadFile(dir + "/ca.crt"), HasSubstr("-----BEGIN CERTIFICATE-----"));

  CommandResult again = RunNeosl({"ca", "init", "--dir", dir});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already holds a CA"));
  EXPECT_TRUE(again.out.empty());

  CommandResult issue = RunNeosl({"ca", "issue", "--dir", dir, "--service", "echo", "--hours", "36", "--out", out});
  ASSERT_EQ(issue.exit_code, 0) << issue.err;
  json::object issued = ParseObject(issue);
  EXPECT_EQ(Str(issued, "service"), "echo");
  std::string serial = Str(issued, "serial");
  EXPECT_EQ(serial.size(), 32u);
  EXPECT_EQ(Str(issued, "cert"), out + "/echo.crt");
  EXPECT_EQ(Str(issued, "key"), out + "/echo.key");
  EXPECT_FALSE(Str(issued, "not_before").empty());
  EXPECT_FALSE(Str(issued, "not_after").empty());
  EXPECT_EQ(ModeOf(out + "/echo.key"), 0600u);
  EXPECT_EQ(ReadFile(out + "/ca.crt"), ReadFile(dir + "/ca.crt"));
  EXPECT_EQ(ReadFile(out + "/crl.pem"), ReadFile(dir + "/crl.pem"));
  EXPECT_THAT(ReadFile(out + "/echo.key"), HasSubstr("-----BEGIN PRIVATE KEY-----"));
  // The key never reaches stdout or stderr.
  EXPECT_THAT(issue.out + issue.err, ::testing::Not(HasSubstr("PRIVATE KEY")));

  CommandResult list = RunNeosl({"ca", "list", "--dir", dir});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  json::object listed = ParseObject(list);
  ASSERT_TRUE(listed["certificates"].is_array());
  json::array& certs = listed["certificates"].as_array();
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(Str(certs[0].as_object(), "service"), "echo");
  EXPECT_EQ(Str(certs[0].as_object(), "serial"), serial);
  EXPECT_EQ(Str(certs[0].as_object(), "not_after"), Str(issued, "not_after"));
  EXPECT_FALSE(certs[0].as_object().contains("revoked_at"));

  std::string crl_before = ReadFile(dir + "/crl.pem");
  CommandResult revoke = RunNeosl({"ca", "revoke", "--dir", dir, "--serial", serial});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  json::object revoked = ParseObject(revoke);
  EXPECT_EQ(Str(revoked, "serial"), serial);
  EXPECT_EQ(revoked["revoked"], json::value(true));
  EXPECT_EQ(Str(revoked, "crl"), dir + "/crl.pem");
  EXPECT_NE(ReadFile(dir + "/crl.pem"), crl_before);

  CommandResult relist = RunNeosl({"ca", "list", "--dir", dir});
  ASSERT_EQ(relist.exit_code, 0) << relist.err;
  json::object after = ParseObject(relist);
  ASSERT_EQ(after["certificates"].as_array().size(), 1u);
  EXPECT_FALSE(Str(after["certificates"].as_array()[0].as_object(), "revoked_at").empty());
}

TEST(CaCliTest, ErrorsExitNonZeroWithAMessage) {
  TempDir tmp;
  std::string dir = tmp.File("ca");

  CommandResult missing = RunNeosl({"ca", "list", "--dir", dir});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("neosl ca list: no CA in"));
  EXPECT_TRUE(missing.out.empty());

  ASSERT_EQ(RunNeosl({"ca", "init", "--dir", dir}).exit_code, 0);
  CommandResult bad_name = RunNeosl({"ca", "issue", "--dir", dir, "--service", "Bad_Name", "--out", tmp.path()});
  EXPECT_NE(bad_name.exit_code, 0);
  EXPECT_THAT(bad_name.err, HasSubstr("identity"));

  CommandResult too_long =
      RunNeosl({"ca", "issue", "--dir", dir, "--service", "echo", "--hours", "72", "--out", tmp.path()});
  EXPECT_NE(too_long.exit_code, 0);
  EXPECT_THAT(too_long.err, HasSubstr("validity"));

  CommandResult unknown = RunNeosl({"ca", "revoke", "--dir", dir, "--serial", "abcdef"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("not issued by this CA"));

  CommandResult no_serial = RunNeosl({"ca", "revoke", "--dir", dir});
  EXPECT_NE(no_serial.exit_code, 0);
  EXPECT_THAT(no_serial.err, HasSubstr("--serial"));
}

TEST(CaCliTest, HelpDescribesTheCommands) {
  CommandResult help = RunNeosl({"ca", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  for (const char* command : {"init", "issue", "revoke", "list"}) EXPECT_THAT(help.out, HasSubstr(command));

  CommandResult issue_help = RunNeosl({"ca", "issue", "--help"});
  EXPECT_EQ(issue_help.exit_code, 0) << issue_help.err;
  EXPECT_THAT(issue_help.out, HasSubstr("--service"));
  EXPECT_THAT(issue_help.out, HasSubstr("--hours"));
}

}  // namespace
}  // namespace neosl::testing
