// The TZif reader: offsets around the 2026 transitions in zones with 60- and 30-minute shifts
// and none, gaps and folds read back from civil time, POSIX footer rules (the table of a "fat"
// file ends in 2037), rejected names and corrupt files, and agreement with the system's zdump.
#include "services/automation/tzif.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace neosl::automation {
namespace {

int64_t Utc(int64_t y, int mo, int d, int h, int mi = 0, int s = 0) {
  return UnixSecondsFromCivil({y, mo, d, h, mi, s});
}

TimeZone MustLoad(std::string_view name) {
  auto zone = TimeZone::Load(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return zone.ok() ? *zone : TimeZone::Utc();
}

void ExpectLocal(const TimeZone& zone, int64_t t, int32_t offset, bool dst, std::string_view abbr, CivilTime civil) {
  LocalTime local = zone.ToLocal(t);
  EXPECT_EQ(local.utc_offset, offset) << zone.name() << " at " << FormatCivil(CivilFromUnixSeconds(t)) << "Z";
  EXPECT_EQ(local.is_dst, dst) << zone.name() << " at " << t;
  EXPECT_EQ(local.abbreviation, abbr) << zone.name() << " at " << t;
  EXPECT_EQ(FormatCivil(local.civil), FormatCivil(civil)) << zone.name() << " at " << t;
}

TEST(CivilTest, RoundTripsAndWeekdays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil(2026, 3, 8)), 0);    // a Sunday
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil(1969, 12, 31)), 3);  // a Wednesday
  EXPECT_EQ(DaysInMonth(2028, 2), 29);
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  for (int64_t t : {int64_t{-62135596800}, int64_t{-1}, int64_t{0}, int64_t{951782400}, int64_t{253402300799}}) {
    EXPECT_EQ(UnixSecondsFromCivil(CivilFromUnixSeconds(t)), t);
  }
  EXPECT_EQ(FormatCivil(CivilFromUnixSeconds(-1)), "1969-12-31T23:59:59");
}

TEST(TimeZoneTest, NewYork2026Transitions) {
  TimeZone ny = MustLoad("America/New_York");
  ExpectLocal(ny, Utc(2026, 3, 8, 6, 59, 59), -18000, false, "EST", {2026, 3, 8, 1, 59, 59});
  ExpectLocal(ny, Utc(2026, 3, 8, 7), -14400, true, "EDT", {2026, 3, 8, 3, 0, 0});
  ExpectLocal(ny, Utc(2026, 11, 1, 5, 59, 59), -14400, true, "EDT", {2026, 11, 1, 1, 59, 59});
  ExpectLocal(ny, Utc(2026, 11, 1, 6), -18000, false, "EST", {2026, 11, 1, 1, 0, 0});
}

TEST(TimeZoneTest, Berlin2026Transitions) {
  TimeZone berlin = MustLoad("Europe/Berlin");
  ExpectLocal(berlin, Utc(2026, 3, 29, 0, 59, 59), 3600, false, "CET", {2026, 3, 29, 1, 59, 59});
  ExpectLocal(berlin, Utc(2026, 3, 29, 1), 7200, true, "CEST", {2026, 3, 29, 3, 0, 0});
  ExpectLocal(berlin, Utc(2026, 10, 25, 0, 59, 59), 7200, true, "CEST", {2026, 10, 25, 2, 59, 59});
  ExpectLocal(berlin, Utc(2026, 10, 25, 1), 3600, false, "CET", {2026, 10, 25, 2, 0, 0});
}

TEST(TimeZoneTest, LordHoweShiftsByHalfAnHour) {
  TimeZone lh = MustLoad("Australia/Lord_Howe");
  ExpectLocal(lh, Utc(2026, 4, 4, 14, 59, 59), 39600, true, "+11", {2026, 4, 5, 1, 59, 59});
  ExpectLocal(lh, Utc(2026, 4, 4, 15), 37800, false, "+1030", {2026, 4, 5, 1, 30, 0});
  ExpectLocal(lh, Utc(2026, 10, 3, 15, 29, 59), 37800, false, "+1030", {2026, 10, 4, 1, 59, 59});
  ExpectLocal(lh, Utc(2026, 10, 3, 15, 30), 39600, true, "+11", {2026, 10, 4, 2, 30, 0});

  CivilLookup fold = lh.FromLocal({2026, 4, 5, 1, 45, 0});
  EXPECT_EQ(fold.kind, CivilLookup::Kind::kRepeated);
  EXPECT_EQ(fold.pre, Utc(2026, 4, 4, 14, 45));
  EXPECT_EQ(fold.trans, Utc(2026, 4, 4, 15));
  EXPECT_EQ(fold.post, Utc(2026, 4, 4, 15, 15));
  CivilLookup gap = lh.FromLocal({2026, 10, 4, 2, 15, 0});
  EXPECT_EQ(gap.kind, CivilLookup::Kind::kSkipped);
  EXPECT_EQ(gap.trans, Utc(2026, 10, 3, 15, 30));
  EXPECT_EQ(lh.FromLocal({2026, 10, 4, 2, 30, 0}).kind, CivilLookup::Kind::kUnique);
}

TEST(TimeZoneTest, KolkataAndUtcHaveNoTransitions) {
  TimeZone kolkata = MustLoad("Asia/Kolkata");
  for (int64_t t : {Utc(2026, 1, 1, 0), Utc(2026, 7, 1, 12), Utc(2045, 3, 8, 7)}) {
    EXPECT_EQ(kolkata.ToLocal(t).utc_offset, 19800);
    EXPECT_EQ(kolkata.ToLocal(t).abbreviation, "IST");
    EXPECT_FALSE(kolkata.ToLocal(t).is_dst);
  }
  ExpectLocal(kolkata, Utc(2026, 3, 8, 20, 0), 19800, false, "IST", {2026, 3, 9, 1, 30, 0});
  CivilLookup at = kolkata.FromLocal({2026, 3, 9, 1, 30, 0});
  EXPECT_EQ(at.kind, CivilLookup::Kind::kUnique);
  EXPECT_EQ(at.pre, Utc(2026, 3, 8, 20, 0));

  TimeZone utc = MustLoad("UTC");
  EXPECT_EQ(utc.name(), "UTC");
  ExpectLocal(utc, Utc(2026, 3, 8, 7), 0, false, "UTC", {2026, 3, 8, 7, 0, 0});
  EXPECT_EQ(utc.FromLocal({2026, 11, 1, 1, 30, 0}).pre, Utc(2026, 11, 1, 1, 30));
}

TEST(TimeZoneTest, NewYorkGapAndFoldFromLocal) {
  TimeZone ny = MustLoad("America/New_York");
  CivilLookup gap = ny.FromLocal({2026, 3, 8, 2, 30, 0});
  EXPECT_EQ(gap.kind, CivilLookup::Kind::kSkipped);
  EXPECT_EQ(gap.pre, Utc(2026, 3, 8, 7, 30));   // 02:30 EST
  EXPECT_EQ(gap.trans, Utc(2026, 3, 8, 7));     // 03:00 EDT
  EXPECT_EQ(gap.post, Utc(2026, 3, 8, 6, 30));  // 02:30 EDT
  CivilLookup fold = ny.FromLocal({2026, 11, 1, 1, 30, 0});
  EXPECT_EQ(fold.kind, CivilLookup::Kind::kRepeated);
  EXPECT_EQ(fold.pre, Utc(2026, 11, 1, 5, 30));  // 01:30 EDT
  EXPECT_EQ(fold.trans, Utc(2026, 11, 1, 6));
  EXPECT_EQ(fold.post, Utc(2026, 11, 1, 6, 30));  // 01:30 EST
  CivilLookup before = ny.FromLocal({2026, 3, 8, 1, 59, 59});
  EXPECT_EQ(before.kind, CivilLookup::Kind::kUnique);
  EXPECT_EQ(before.pre, Utc(2026, 3, 8, 6, 59, 59));
  EXPECT_EQ(ny.FromLocal({2026, 3, 8, 3, 0, 0}).pre, Utc(2026, 3, 8, 7));
  EXPECT_EQ(ny.FromLocal({2026, 11, 1, 2, 0, 0}).kind, CivilLookup::Kind::kUnique);
  EXPECT_EQ(ny.FromLocal({2026, 11, 1, 0, 59, 59}).kind, CivilLookup::Kind::kUnique);
}

TEST(TimeZoneTest, FarFutureUsesTheFooterRule) {
  TimeZone ny = MustLoad("America/New_York");  // the file's table ends in 2037
  // 2040: DST from Sunday March 11 to Sunday November 4.
  ExpectLocal(ny, Utc(2040, 3, 11, 6, 59, 59), -18000, false, "EST", {2040, 3, 11, 1, 59, 59});
  ExpectLocal(ny, Utc(2040, 3, 11, 7), -14400, true, "EDT", {2040, 3, 11, 3, 0, 0});
  ExpectLocal(ny, Utc(2040, 11, 4, 5, 59, 59), -14400, true, "EDT", {2040, 11, 4, 1, 59, 59});
  ExpectLocal(ny, Utc(2040, 11, 4, 6), -18000, false, "EST", {2040, 11, 4, 1, 0, 0});
  EXPECT_EQ(ny.FromLocal({2040, 3, 11, 2, 30, 0}).kind, CivilLookup::Kind::kSkipped);
  EXPECT_EQ(ny.FromLocal({2040, 11, 4, 1, 30, 0}).kind, CivilLookup::Kind::kRepeated);
  TimeZone lh = MustLoad("Australia/Lord_Howe");
  ExpectLocal(lh, Utc(2045, 1, 1, 0), 39600, true, "+11", {2045, 1, 1, 11, 0, 0});
  ExpectLocal(lh, Utc(2045, 7, 1, 0), 37800, false, "+1030", {2045, 7, 1, 10, 30, 0});
}

TEST(TimeZoneTest, ExtremeInstantsDoNotOverflow) {
  TimeZone ny = MustLoad("America/New_York");
  for (int64_t t : {INT64_MIN, INT64_MIN + 1, int64_t{-1} << 59, int64_t{1} << 59, INT64_MAX}) {
    LocalTime local = ny.ToLocal(t);
    EXPECT_TRUE(local.utc_offset == -18000 || local.utc_offset == -14400 || local.utc_offset == -17762) << t;
  }
}

TEST(PosixRuleTest, RuleForms) {
  auto us = TimeZone::FromPosixRule("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(us.ok()) << us.status().ToString();
  EXPECT_EQ(us->UtcOffsetAt(Utc(2026, 3, 8, 6, 59, 59)), -18000);
  EXPECT_EQ(us->UtcOffsetAt(Utc(2026, 3, 8, 7)), -14400);
  EXPECT_EQ(us->UtcOffsetAt(Utc(2026, 11, 1, 6)), -18000);

  auto eu = TimeZone::FromPosixRule("CET-1CEST,M3.5.0,M10.5.0/3");
  ASSERT_TRUE(eu.ok());
  EXPECT_EQ(eu->UtcOffsetAt(Utc(2026, 3, 29, 1)), 7200);
  EXPECT_EQ(eu->UtcOffsetAt(Utc(2026, 10, 25, 0, 59, 59)), 7200);
  EXPECT_EQ(eu->UtcOffsetAt(Utc(2026, 10, 25, 1)), 3600);
  EXPECT_EQ(eu->ToLocal(Utc(2026, 7, 1, 0)).abbreviation, "CEST");

  auto tehran = TimeZone::FromPosixRule("<+0330>-3:30");
  ASSERT_TRUE(tehran.ok());
  EXPECT_EQ(tehran->UtcOffsetAt(Utc(2030, 6, 1, 0)), 12600);
  EXPECT_EQ(tehran->ToLocal(0).abbreviation, "+0330");

  // Jn never counts Feb 29: J60 is March 1 every year. n counts it: 59 is Feb 29 in 2028.
  auto julian = TimeZone::FromPosixRule("AAA0BBB,J60/0,J300/0");
  ASSERT_TRUE(julian.ok());
  EXPECT_EQ(julian->UtcOffsetAt(Utc(2028, 2, 29, 23, 59, 59)), 0);
  EXPECT_EQ(julian->UtcOffsetAt(Utc(2028, 3, 1, 0)), 3600);
  EXPECT_EQ(julian->UtcOffsetAt(Utc(2026, 3, 1, 0)), 3600);
  auto zero_based = TimeZone::FromPosixRule("AAA0BBB,59/0,299/0");
  ASSERT_TRUE(zero_based.ok());
  EXPECT_EQ(zero_based->UtcOffsetAt(Utc(2028, 2, 28, 23, 59, 59)), 0);
  EXPECT_EQ(zero_based->UtcOffsetAt(Utc(2028, 2, 29, 0)), 3600);
  EXPECT_EQ(zero_based->UtcOffsetAt(Utc(2026, 3, 1, 0)), 3600);

  // Southern hemisphere: daylight time spans the new year.
  auto sydney = TimeZone::FromPosixRule("AEST-10AEDT,M10.1.0,M4.1.0/3");
  ASSERT_TRUE(sydney.ok());
  EXPECT_EQ(sydney->UtcOffsetAt(Utc(2026, 1, 15, 0)), 39600);
  EXPECT_EQ(sydney->UtcOffsetAt(Utc(2026, 6, 15, 0)), 36000);

  // Version 3 extensions: negative rule times, and daylight time all year.
  auto nuuk = TimeZone::FromPosixRule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
  ASSERT_TRUE(nuuk.ok());
  EXPECT_EQ(nuuk->UtcOffsetAt(Utc(2026, 3, 29, 0, 59, 59)), -7200);  // Sat 22:59:59 local
  EXPECT_EQ(nuuk->UtcOffsetAt(Utc(2026, 3, 29, 1)), -3600);
  auto always = TimeZone::FromPosixRule("EST5EDT,0/0,J365/25");
  ASSERT_TRUE(always.ok());
  for (int64_t t : {Utc(2026, 1, 1, 0), Utc(2026, 1, 1, 5), Utc(2026, 7, 1, 0), Utc(2026, 12, 31, 23)}) {
    EXPECT_EQ(always->UtcOffsetAt(t), -14400) << t;
  }

  for (std::string_view bad : {"", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
                               "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J365", "EST5EDT,M3.2.0", "<+03-3", "EST25",
                               "EST5EDT,M3.2.0/168,M11.1.0", "EST5EDT,M3.2.0,M11.1.0x"}) {
    EXPECT_EQ(TimeZone::FromPosixRule(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(TimeZoneTest, RejectsMalformedNames) {
  for (std::string_view name : {"", "../etc/passwd", "/etc/localtime", "America/../UTC", "America/New York",
                                "America//New_York", "America/", "Europe/Berlin\n", "zone.tab", "-rf"}) {
    EXPECT_EQ(TimeZone::Load(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(TimeZone::Load("Mars/Olympus_Mons").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(TimeZone::Load("America").status().code(), StatusCode::kNotFound);  // a directory
}

class ZoneDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/neosl_tzif_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  void Write(const std::string& name, const std::string& bytes) {
    ::mkdir((dir_ + "/Test").c_str(), 0700);
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
  }
  std::string dir_;
};

std::string ReadSystemZone(const std::string& name) {
  std::ifstream in(std::string(TimeZone::kDefaultZoneInfoDir) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(ZoneDirTest, UtcNeedsNoFileAndOtherZonesComeFromTheDirectory) {
  auto utc = TimeZone::Load("UTC", dir_);
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ(utc->UtcOffsetAt(0), 0);
  EXPECT_EQ(TimeZone::Load("America/New_York", dir_).status().code(), StatusCode::kNotFound);

  std::string ny = ReadSystemZone("America/New_York");
  ASSERT_FALSE(ny.empty());
  Write("Test/Copy", ny);
  auto copy = TimeZone::Load("Test/Copy", dir_);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->name(), "Test/Copy");
  EXPECT_EQ(copy->UtcOffsetAt(Utc(2026, 7, 1, 0)), -14400);

  Write("Test/Junk", "not a time zone at all, just some text that is long enough for a header");
  EXPECT_EQ(TimeZone::Load("Test/Junk", dir_).status().code(), StatusCode::kDataLoss);
}

TEST(TzifTest, EveryTruncationIsDataLoss) {
  std::string ny = ReadSystemZone("America/New_York");
  ASSERT_GT(ny.size(), 100u);
  ASSERT_TRUE(TimeZone::FromTzif("ny", ny).ok());
  for (size_t n = 0; n < ny.size(); ++n) {
    EXPECT_EQ(TimeZone::FromTzif("ny", ny.substr(0, n)).status().code(), StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(TimeZone::FromTzif("ny", ny + "x").status().code(), StatusCode::kDataLoss);
}

TEST(TzifTest, CorruptFieldsAreDataLoss) {
  std::string ny = ReadSystemZone("America/New_York");
  ASSERT_GT(ny.size(), 100u);
  std::string bad_magic = ny;
  bad_magic[0] = 'X';
  EXPECT_EQ(TimeZone::FromTzif("ny", bad_magic).status().code(), StatusCode::kDataLoss);
  std::string bad_version = ny;
  bad_version[4] = '9';
  EXPECT_EQ(TimeZone::FromTzif("ny", bad_version).status().code(), StatusCode::kDataLoss);
  std::string bad_footer = ny;
  bad_footer[bad_footer.size() - 3] = '!';  // "…M11.1.0" → "…M11.1!0"
  EXPECT_EQ(TimeZone::FromTzif("ny", bad_footer).status().code(), StatusCode::kDataLoss);
}

// Every transition zdump lists for 1970–2060 (from the table and from the footer) must match.
TEST(TzifTest, AgreesWithZdump) {
  if (::access("/usr/bin/zdump", X_OK) != 0) GTEST_SKIP() << "no zdump";
  const std::map<std::string, int> months = {{"Jan", 1}, {"Feb", 2}, {"Mar", 3}, {"Apr", 4},  {"May", 5},  {"Jun", 6},
                                             {"Jul", 7}, {"Aug", 8}, {"Sep", 9}, {"Oct", 10}, {"Nov", 11}, {"Dec", 12}};
  int checked = 0;
  for (std::string zone_name : {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"}) {
    TimeZone zone = MustLoad(zone_name);
    FILE* pipe = ::popen(("/usr/bin/zdump -v -c 1970,2060 " + zone_name).c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char line[512];
    while (std::fgets(line, sizeof line, pipe) != nullptr) {
      // "America/New_York  Sun Mar  8 06:59:59 2026 UT = Sun Mar  8 01:59:59 2026 EST isdst=0 gmtoff=-18000"
      std::istringstream in(line);
      std::string name, wday, mon, hms, eq, lwday, lmon, lhms, abbr, isdst, gmtoff;
      int day = 0, lday = 0;
      int64_t year = 0, lyear = 0;
      std::string ut;
      if (!(in >> name >> wday >> mon >> day >> hms >> year >> ut >> eq >> lwday >> lmon >> lday >> lhms >> lyear >>
            abbr >> isdst >> gmtoff) ||
          ut != "UT") {
        continue;
      }
      auto hmsv = [](const std::string& s) {
        return CivilTime{0, 1, 1, std::stoi(s.substr(0, 2)), std::stoi(s.substr(3, 2)), std::stoi(s.substr(6, 2))};
      };
      CivilTime u = hmsv(hms), l = hmsv(lhms);
      u.year = year, u.month = months.at(mon), u.day = day;
      l.year = lyear, l.month = months.at(lmon), l.day = lday;
      ExpectLocal(zone, UnixSecondsFromCivil(u), std::stoi(gmtoff.substr(7)), isdst == "isdst=1", abbr, l);
      ++checked;
    }
    ::pclose(pipe);
  }
  EXPECT_GT(checked, 400);
}

}  // namespace
}  // namespace neosl::automation
