// The behaviour every Store backend owes its callers, as one value-parameterised suite. A
// backend's test file instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
//                            ::testing::Values(StoreBackend{"sqlite", OpenInDir}), BackendName);
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/status.h"
#include "store/store.h"
#include "support/temp_dir.h"

namespace neosl::store::conformance {

struct StoreBackend {
  std::string name;  // test-name suffix: letters, digits and '_' only
  // Opens a store whose data lives in `dir`, a fresh empty directory per test. Calling it again
  // with the same `dir` must reach the same data: the suite re-opens stores.
  std::function<StatusOr<std::unique_ptr<Store>>(const std::string& dir)> open;
};

// Keeps gtest from dumping the struct's bytes in test names and failure messages.
void PrintTo(const StoreBackend& backend, std::ostream* os);
std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info);

using ::neosl::testing::TempDir;  // from tests/support

::testing::AssertionResult HasCode(const Status& status, StatusCode want);
template <typename T>
::testing::AssertionResult HasCode(const StatusOr<T>& s, StatusCode want) {
  return HasCode(s.status(), want);
}

class StoreConformanceTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  Store& store() { return *store_; }
  // Another store on the same data, as a restarted process would see it.
  StatusOr<std::unique_ptr<Store>> Reopen() { return GetParam().open(dir_->path()); }
  // Runs `sql` in a write transaction of its own: the tests' shorthand for setting up.
  Status Write(std::string_view sql, const Params& params = {});
  // COUNT(*) of `table`, or -1 (with a test failure) if it cannot be read.
  int64_t CountRows(std::string_view table);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace neosl::store::conformance

#define ASSERT_STORE_OK(expr)                                                     \
  do {                                                                            \
    const ::neosl::Status store_status_ = ::neosl::internal::AsStatus(expr);      \
    ASSERT_TRUE(store_status_.ok()) << #expr << ": " << store_status_.ToString(); \
  } while (0)

#define ASSERT_STORE_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_STORE_OK_AND_ASSIGN_IMPL_(NEOSL_CONCAT_(store_or_, __LINE__), lhs, expr)
#define ASSERT_STORE_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)             \
  auto tmp = (expr);                                                 \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

#define EXPECT_STORE_CODE(expr, code) \
  EXPECT_TRUE(::neosl::store::conformance::HasCode((expr), ::neosl::StatusCode::code))
