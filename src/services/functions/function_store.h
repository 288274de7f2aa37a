// The functions service's tables (migration 4, src/schema/migrations.cpp): functions, every
// version of their code and settings, and their executions. Every query is scoped to an
// account: another account's ids are simply not found.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "runtime/runner.h"
#include "store/store.h"

namespace neosl::services::functions {

struct FunctionVersion {
  uint32_t version = 0;
  std::string source;  // empty when not loaded (lists)
  std::array<uint8_t, 32> source_hash{};
  std::vector<std::string> secrets;  // sorted
  runtime::Limits limits;
  std::string description;
  int64_t created_at_ms = 0;
};

struct FunctionRecord {
  std::string id;
  std::string account;
  std::string name;
  uint32_t current_version = 0;
  int64_t created_at_ms = 0;
  FunctionVersion version;  // the version loaded
};

struct ExecutionRecord {
  std::string id;
  std::string account;
  std::string function_id;
  int64_t seq = 0;  // per function, increasing: newest first is seq descending
  uint32_t version = 0;
  std::string trigger;  // api | schedule | chain_event
  bool succeeded = false;
  std::string result_json;
  std::string error_json;
  std::string error_code;  // canonical code name when failed
  runtime::ScriptError error;
  std::vector<runtime::LogLine> logs;
  bool logs_truncated = false;
  int64_t started_at_ms = 0;
  int64_t duration_us = 0;
  bool cold = false;
  std::string args_json;
  std::array<uint8_t, 32> source_hash{}, args_hash{}, result_hash{};
  std::array<uint8_t, 64> signature{};
  std::vector<uint8_t> signing_key;  // compressed report key the signature is by
};

class FunctionStore {
 public:
  explicit FunctionStore(store::Store& store) : store_(store) {}

  // Inserts the function and its version 1. ALREADY_EXISTS for a taken name;
  // RESOURCE_EXHAUSTED (QuotaFailure) when the account has `max_per_account` functions.
  Status Create(const FunctionRecord& function, int64_t max_per_account);
  // Whether the account could create `name` now (the same checks as Create, before granting).
  Status CheckCreate(const std::string& account, const std::string& name, int64_t max_per_account);
  // The function at `version` (0: current), with its source. NOT_FOUND if absent.
  StatusOr<FunctionRecord> Get(const std::string& account, const std::string& id, uint32_t version = 0);
  // Adds `version` as the function's new current version; ABORTED if another update made that
  // version first (retry), NOT_FOUND if the function is gone.
  Status AddVersion(const std::string& account, const std::string& id, const FunctionVersion& version);
  // Deletes the function, its versions and its executions. NOT_FOUND if absent.
  Status Delete(const std::string& account, const std::string& id);
  // By name, after `after_name`; at most `limit` (+1 to tell whether more follow). No sources.
  StatusOr<std::vector<FunctionRecord>> List(const std::string& account, const std::string& after_name, int limit);

  // Stores the execution as the function's newest (sets record.seq) and deletes the oldest ones
  // beyond `max_kept`. NOT_FOUND if the function was deleted meanwhile.
  Status AddExecution(ExecutionRecord& record, int64_t max_kept);
  // The same for several executions in one transaction (group commit), with one status each: a
  // deleted function fails only its own executions. If the transaction fails as a whole, each
  // execution is tried again in a transaction of its own, so one bad record fails alone.
  std::vector<Status> AddExecutions(std::span<ExecutionRecord* const> records, int64_t max_kept);
  StatusOr<ExecutionRecord> GetExecution(const std::string& account, const std::string& id);
  // Newest first, with seq below `before_seq` (0: from the newest); summaries (no args, result or
  // logs).
  StatusOr<std::vector<ExecutionRecord>> ListExecutions(const std::string& account, const std::string& function_id,
                                                        int64_t before_seq, int limit);

 private:
  store::Store& store_;
};

}  // namespace neosl::services::functions
