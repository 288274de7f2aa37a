#include "apps/neosl/audit_cli.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "apps/neosl/cli_store.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "services/secrets/audit_log.h"

namespace neosl::app {
namespace {

namespace json = boost::json;
using services::secrets::AuditVerification;

struct AuditFlags {
  std::string db_path, file_path, account;
  std::optional<std::string> data_dir, config_file;
  std::vector<std::string> report_keys;
};

struct AccountResult {
  std::string account;
  AuditVerification verification;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "neosl audit verify: %.*s\n", int(s.message().size()), s.message().data());
  return 1;
}

StatusOr<std::vector<crypto::PublicKey>> TrustedKeys(const AuditFlags& f) {
  std::vector<crypto::PublicKey> keys;
  for (const std::string& hex : f.report_keys) {
    auto key = crypto::PublicKey::FromHex(hex);
    if (!key.ok()) return InvalidArgumentError("--report-key: not a P-256 public key in hex: " + hex);
    keys.push_back(*key);
  }
  return keys;
}

StatusOr<std::vector<AccountResult>> VerifyDb(const AuditFlags& f, std::span<const crypto::PublicKey> trusted) {
  ASSIGN_OR_RETURN(Config config, LoadCliConfig(f.config_file, f.data_dir));
  const std::string flag = f.db_path.empty() ? "--data" : "--db";
  auto opened = OpenExistingStore(config, f.db_path);
  if (!opened.ok()) return opened.status().Annotate(flag);
  std::unique_ptr<store::Store> store = *std::move(opened);
  std::vector<AccountId> accounts;
  if (!f.account.empty()) {
    accounts.emplace_back(f.account);
  } else {
    auto listed = services::secrets::ListAuditAccounts(*store);
    if (!listed.ok()) return listed.status().Annotate(flag + ": the store has no readable audit log");
    accounts = *std::move(listed);
  }
  std::vector<AccountResult> out;
  for (const AccountId& account : accounts) {
    auto v = services::secrets::VerifyAuditLog(*store, account, trusted);
    if (!v.ok()) return v.status().Annotate(flag + ": reading the audit log of " + account.str());
    out.push_back({account.str(), *std::move(v)});
  }
  return out;
}

StatusOr<std::vector<AccountResult>> VerifyFile(const AuditFlags& f, std::span<const crypto::PublicKey> trusted) {
  std::ifstream in(f.file_path, std::ios::binary);
  if (!in) return NotFoundError("--file: cannot read " + f.file_path);
  std::ostringstream text;
  text << in.rdbuf();
  json::error_code ec;
  json::value doc = json::parse(text.str(), ec);
  if (ec) return InvalidArgumentError("--file: " + f.file_path + " is not valid JSON");
  // One account's export, or {"accounts":[export, …]}.
  std::vector<const json::value*> exports;
  const json::value* many = doc.is_object() ? doc.as_object().if_contains("accounts") : nullptr;
  if (many != nullptr && many->is_array()) {
    for (const json::value& e : many->as_array()) exports.push_back(&e);
  } else {
    exports.push_back(&doc);
  }
  std::vector<AccountResult> out;
  for (const json::value* e : exports) {
    auto parsed = services::secrets::AuditExportFromJson(*e);
    if (!parsed.ok()) return parsed.status().Annotate("--file");
    if (!f.account.empty() && parsed->account.str() != f.account) continue;
    out.push_back({parsed->account.str(), services::secrets::VerifyAuditEntries(parsed->account, parsed->entries,
                                                                                parsed->checkpoints, trusted)});
  }
  if (!f.account.empty() && out.empty()) return NotFoundError("--account: " + f.account + " is not in the file");
  return out;
}

int Verify(const AuditFlags& f) {
  const int sources = int(!f.db_path.empty()) + int(!f.file_path.empty()) + int(f.data_dir.has_value());
  if (sources != 1) return Fail(InvalidArgumentError("give exactly one of --data, --db, --file"));
  auto trusted = TrustedKeys(f);
  if (!trusted.ok()) return Fail(trusted.status());
  auto results = f.file_path.empty() ? VerifyDb(f, *trusted) : VerifyFile(f, *trusted);
  if (!results.ok()) return Fail(results.status());

  bool all_ok = true;
  json::array accounts;
  for (const AccountResult& r : *results) {
    accounts.push_back(json::object{{"account", r.account},
                                    {"verification", services::secrets::AuditVerificationToJson(r.verification)}});
    if (!r.verification.ok) {
      all_ok = false;
      std::fprintf(stderr, "neosl audit verify: %s: %s\n", r.account.c_str(), r.verification.reason.c_str());
    }
  }
  json::object out{{"ok", all_ok}, {"accounts", std::move(accounts)}};
  std::printf("%s\n", json::serialize(out).c_str());
  return all_ok ? 0 : 1;
}

}  // namespace

std::function<int()> AddAuditCommands(CLI::App& app) {
  auto f = std::make_shared<AuditFlags>();
  auto* audit = app.add_subcommand("audit", "The secrets audit log");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand(
      "verify",
      "Verify the hash chain and signed checkpoints; exit 0 only when no entry was edited, removed or reordered");
  auto* data = verify->add_option("--data", f->data_dir,
                                  "the data directory of `neosl serve`: its configured store, SQLite or PostgreSQL");
  auto* config = verify->add_option("--config", f->config_file,
                                    "with --data: the configuration serve runs with (env NEOSL_CONFIG)");
  config->needs(data);
  auto* db = verify->add_option("--db", f->db_path, "a SQLite database file (neosl.db); never migrated");
  auto* file = verify->add_option("--file", f->file_path, "an export: the JSON of GET /v1/secrets/audit");
  db->excludes(file);
  data->excludes(db);
  data->excludes(file);
  verify->add_option("--account", f->account, "verify only this account (default: every account)");
  verify->add_option("--report-key", f->report_keys,
                     "trusted enclave report key (compressed hex; repeatable): every checkpoint must be signed by one");
  return [=]() -> int {
    if (verify->parsed()) return Verify(*f);
    return -1;
  };
}

}  // namespace neosl::app
