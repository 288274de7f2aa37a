#include "core/ids.h"

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/random.h"
#include "core/secret.h"

namespace neosl {
namespace {

// Strong types: one id cannot be passed where the other is expected.
static_assert(!std::is_convertible_v<AccountId, ApiKeyId>);
static_assert(!std::is_convertible_v<ApiKeyId, AccountId>);
static_assert(!std::is_constructible_v<ApiKeyId, AccountId>);
static_assert(!std::is_constructible_v<AccountId, ApiKeyId>);
static_assert(!std::is_convertible_v<std::string, AccountId>);
// Secrets are move-only.
static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

bool IsBase32(const std::string& s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

TEST(IdsTest, AccountIdShape) {
  DeterministicRandom random(1);
  AccountId id = AccountId::Generate(random);
  EXPECT_EQ(id.str().substr(0, 4), "acc_");
  EXPECT_EQ(id.str().size(), 24u);
  EXPECT_TRUE(IsBase32(id.str().substr(4))) << id.str();
  EXPECT_TRUE(AccountId::IsWellFormed(id.str())) << id.str();
  EXPECT_FALSE(id.empty());
  EXPECT_TRUE(AccountId().empty());
}

TEST(IdsTest, ApiKeyIdShape) {
  DeterministicRandom random(2);
  ApiKeyId id = ApiKeyId::Generate(random);
  EXPECT_EQ(id.str().size(), 16u);
  EXPECT_EQ(id.str().find('_'), std::string::npos);
  EXPECT_TRUE(IsBase32(id.str())) << id.str();
  EXPECT_TRUE(ApiKeyId::IsWellFormed(id.str())) << id.str();
}

TEST(IdsTest, IsWellFormedRejectsOtherShapes) {
  const std::string good = "acc_abcdefghijklmnop2345";
  ASSERT_TRUE(AccountId::IsWellFormed(good));
  EXPECT_FALSE(AccountId::IsWellFormed(""));
  EXPECT_FALSE(AccountId::IsWellFormed("key_abcdefghijklmnop2345"));  // wrong prefix
  EXPECT_FALSE(AccountId::IsWellFormed("acc-abcdefghijklmnop2345"));
  EXPECT_FALSE(AccountId::IsWellFormed("abcdefghijklmnop23456789"));   // no prefix
  EXPECT_FALSE(AccountId::IsWellFormed("acc_abcdefghijklmnop234"));    // too short
  EXPECT_FALSE(AccountId::IsWellFormed("acc_abcdefghijklmnop23456"));  // too long
  EXPECT_FALSE(AccountId::IsWellFormed("acc_Abcdefghijklmnop2345"));   // upper case
  EXPECT_FALSE(AccountId::IsWellFormed("acc_abcdefghijklmnop_345"));   // underscore
  EXPECT_FALSE(AccountId::IsWellFormed("acc_abcdefghijklmnop1345"));   // '1' is not base32
  EXPECT_FALSE(AccountId::IsWellFormed("acc_abcdefghijklmnop8345"));   // '8' is not base32
  EXPECT_FALSE(AccountId::IsWellFormed("ACC_abcdefghijklmnop2345"));

  EXPECT_TRUE(ApiKeyId::IsWellFormed("abcdefgh234567zz"));
  EXPECT_FALSE(ApiKeyId::IsWellFormed("abcdefgh234567z"));
  EXPECT_FALSE(ApiKeyId::IsWellFormed("abcdefgh234567zzz"));
  EXPECT_FALSE(ApiKeyId::IsWellFormed("abcdefgh_34567zz"));
  EXPECT_FALSE(ApiKeyId::IsWellFormed("ABCDEFGH234567ZZ"));
  EXPECT_FALSE(ApiKeyId::IsWellFormed("abcdefgh134567zz"));
  EXPECT_FALSE(ApiKeyId::IsWellFormed("abcdefgh834567zz"));
  // An account id is not a key id.
  EXPECT_FALSE(ApiKeyId::IsWellFormed(good));
}

TEST(IdsTest, DeterministicRandomGivesReproducibleIds) {
  DeterministicRandom a(42), b(42), c(43);
  AccountId first = AccountId::Generate(a);
  EXPECT_EQ(first, AccountId::Generate(b));
  EXPECT_NE(first, AccountId::Generate(c));
  // And the sequence moves on.
  EXPECT_NE(first, AccountId::Generate(a));
}

TEST(IdsTest, SecureRandomIdsDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    AccountId id = AccountId::Generate(SecureRandom::Instance());
    ASSERT_TRUE(AccountId::IsWellFormed(id.str())) << id.str();
    EXPECT_TRUE(seen.insert(id.str()).second) << "duplicate " << id.str();
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdsTest, IdsCompareByValue) {
  AccountId a("acc_aaaaaaaaaaaaaaaaaaaa"), b("acc_bbbbbbbbbbbbbbbbbbbb");
  EXPECT_LT(a, b);
  EXPECT_EQ(a, AccountId("acc_aaaaaaaaaaaaaaaaaaaa"));
  EXPECT_NE(a, b);
}

TEST(SecretBytesTest, MovesLeaveTheSourceEmpty) {
  SecretBytes a(std::string_view("hunter2"));
  ASSERT_EQ(a.size(), 7u);
  SecretBytes b(std::move(a));
  EXPECT_TRUE(a.empty());   // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move)
  ASSERT_EQ(b.size(), 7u);
  EXPECT_EQ(std::string(b.bytes().begin(), b.bytes().end()), "hunter2");

  const std::vector<uint8_t> raw = {1, 2, 3};
  SecretBytes c(raw);
  c = std::move(b);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  ASSERT_EQ(c.size(), 7u);
  EXPECT_EQ(std::string(c.bytes().begin(), c.bytes().end()), "hunter2");
}

TEST(ClockTest, ManualClockAdvancesWallAndSteadyTogether) {
  ManualClock clock(1'700'000'000'000);
  EXPECT_EQ(clock.NowUnixMillis(), 1'700'000'000'000);
  auto wall = clock.Now();
  auto steady = clock.SteadyNow();
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Now() - wall, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.SteadyNow() - steady, std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.NowUnixMillis(), 1'700'000'001'500);
  // Without Advance it stands still.
  EXPECT_EQ(clock.Now(), clock.Now());
  EXPECT_EQ(clock.SteadyNow() - steady, std::chrono::milliseconds(1500));
}

TEST(RandomTest, DeterministicFillIsReproducibleForOddLengths) {
  DeterministicRandom a(7), b(7), c(8);
  std::vector<uint8_t> x(13), y(13), z(13);
  a.Fill(x);
  b.Fill(y);
  c.Fill(z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  EXPECT_NE(x, std::vector<uint8_t>(13, 0));
  // The next draw differs from the first.
  std::vector<uint8_t> next(13);
  a.Fill(next);
  EXPECT_NE(x, next);
  b.Fill(y);
  EXPECT_EQ(next, y);
}

TEST(RandomTest, NextU64IsReproducible) {
  DeterministicRandom a(99), b(99);
  uint64_t first = a.NextU64();
  EXPECT_EQ(first, b.NextU64());
  EXPECT_NE(first, a.NextU64());
}

TEST(RandomTest, SecureRandomFillsBuffers) {
  std::vector<uint8_t> x(32), y(32);
  SecureRandom::Instance().Fill(x);
  SecureRandom::Instance().Fill(y);
  EXPECT_NE(x, y);
  SecureRandom::Instance().Fill({});  // an empty span is fine
}

}  // namespace
}  // namespace neosl
