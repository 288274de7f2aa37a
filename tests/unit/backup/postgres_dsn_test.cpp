// The PostgreSQL DSN split of apps/neosl/backup_postgres.h: the password leaves the connection
// string (which goes on pg_dump's command line, readable by every user) for PGPASSWORD.
#include <cstdlib>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "apps/neosl/backup_postgres.h"
#include "support/temp_dir.h"

namespace neosl::backup {
namespace {

struct Case {
  const char* dsn;
  const char* without;
  const char* password;
};

TEST(PostgresDsn, ThePasswordIsTakenOutOfEveryForm) {
  for (const Case& c : {
           Case{"host=db user=neosl password=s3cr3t dbname=neosl", "host=db user=neosl dbname=neosl", "s3cr3t"},
           Case{"host=db password = 'a b\\'c' dbname=x", "host=db dbname=x", "a b'c"},
           Case{"password=p", "", "p"},
           Case{"host=db dbname=x", "host=db dbname=x", ""},
           Case{"postgresql://neosl:p%40ss@db:5432/neosl?sslmode=require",
                "postgresql://neosl@db:5432/neosl?sslmode=require", "p@ss"},
           Case{"postgres://db/neosl?password=x&sslmode=disable", "postgres://db/neosl?sslmode=disable", "x"},
           Case{"postgres://u@db/neosl?password=x", "postgres://u@db/neosl", "x"},
           Case{"postgresql://db/neosl", "postgresql://db/neosl", ""},
       }) {
    auto split = SplitPassword(c.dsn);
    ASSERT_TRUE(split.ok()) << c.dsn << ": " << split.status().ToString();
    EXPECT_EQ(split->without_password, c.without) << c.dsn;
    EXPECT_EQ(split->password, c.password) << c.dsn;
  }
}

TEST(PostgresDsn, MalformedKeywordsAreRefusedWithoutEchoingThem) {
  for (const char* bad : {"host=db password='open", "host"}) {
    auto split = SplitPassword(bad);
    ASSERT_FALSE(split.ok()) << bad;
    EXPECT_EQ(split.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(split.status().message().find("open"), std::string_view::npos);
  }
}

TEST(PostgresDsn, AMissingToolIsUnimplementedAndLeavesNoFile) {
  // An empty directory as the whole PATH: no pg_dump on it. The test's one thread is the only
  // one reading the environment meanwhile.
  testing::TempDir dir;
  const char* old = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  const std::string saved = old != nullptr ? old : "";
  setenv("PATH", dir.path().c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  Status s = PostgresDump("host=127.0.0.1 dbname=x password=hunter2", dir.File("dump"));
  setenv("PATH", saved.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_NE(s.message().find("pg_dump is not installed"), std::string_view::npos) << s.ToString();
  EXPECT_EQ(s.message().find("hunter2"), std::string_view::npos);
  EXPECT_NE(::access(dir.File("dump").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace neosl::backup
