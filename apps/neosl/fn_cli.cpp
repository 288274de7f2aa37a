#include "apps/neosl/fn_cli.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "apps/neosl/attest_cli.h"
#include "apps/neosl/fn_verify.h"
#include "apps/neosl/rest_client.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "crypto/hash.h"
#include "tee/attestation.h"
#include "tee/verifier.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

struct FnFlags {
  std::string url = "http://127.0.0.1:8080";
  std::string key, key_file, ca_file;
  std::string name, id, file, secrets, description, args, args_file, page_token;
  int64_t timeout_ms = 0, memory_mb = 0, limit = 0, version = 0;
  // verify
  std::string execution_file, execution_id, report_key, policy_file, source_file;
  bool allow_simulation = false;
  std::vector<std::string> measurements;
};

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "neosl fn %.*s: %s\n", int(command.size()), command.data(), s.ToString().c_str());
  return 1;
}

void Print(const json::value& v) {
  std::printf("%s\n", json::serialize(v).c_str());
}

StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(std::string(what) + ": cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StatusOr<std::unique_ptr<RestClient>> Connect(const FnFlags& f) {
  RestClientOptions options;
  options.url = f.url;
  options.ca_file = f.ca_file;
  options.api_key = f.key;
  // An invocation may run for 30 s and wait in the runtime's queue first.
  options.timeout = std::chrono::milliseconds(60'000);
  if (!f.key_file.empty()) {
    ASSIGN_OR_RETURN(std::string key, ReadFile(f.key_file, "--key-file"));
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t')) {
      key.pop_back();
    }
    if (key.empty()) return InvalidArgumentError("--key-file: " + f.key_file + " is empty");
    options.api_key = std::move(key);
  }
  return RestClient::Create(std::move(options));
}

json::array SplitNames(const std::string& list) {
  json::array out;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

// Runs one request and prints its answer.
int Request(const FnFlags& f, std::string_view command, std::string_view method, const std::string& target,
            const std::string& body = {}) {
  auto client = Connect(f);
  if (!client.ok()) return Fail(command, client.status());
  auto answer = (*client)->Call(method, target, body);
  if (!answer.ok()) return Fail(command, answer.status());
  Print(*answer);
  return 0;
}

std::string FunctionPath(const std::string& id) {
  return "/v1/functions/" + RestClient::EscapeSegment(id);
}

std::string Paging(const FnFlags& f) {
  std::string q;
  if (f.limit > 0) q += "limit=" + std::to_string(f.limit);
  if (!f.page_token.empty()) q += (q.empty() ? "" : "&") + std::string("page_token=") + f.page_token;
  return q.empty() ? q : "?" + q;
}

// The body of create and update from the flags given.
StatusOr<json::object> FunctionBody(const FnFlags& f, const CLI::App* cmd) {
  json::object body;
  if (!f.file.empty()) {
    ASSIGN_OR_RETURN(std::string source, ReadFile(f.file, "--file"));
    body["source"] = source;
  }
  if (cmd->count("--secrets") > 0) body["secrets"] = SplitNames(f.secrets);
  json::object limits;
  if (f.timeout_ms > 0) limits["timeout_ms"] = f.timeout_ms;
  if (f.memory_mb > 0) limits["memory_mb"] = f.memory_mb;
  if (!limits.empty()) body["limits"] = std::move(limits);
  if (cmd->count("--description") > 0) body["description"] = f.description;
  return body;
}

int Create(const FnFlags& f, const CLI::App* cmd) {
  auto body = FunctionBody(f, cmd);
  if (!body.ok()) return Fail("create", body.status());
  (*body)["name"] = f.name;
  return Request(f, "create", "POST", "/v1/functions", json::serialize(*body));
}

int Update(const FnFlags& f, const CLI::App* cmd) {
  auto body = FunctionBody(f, cmd);
  if (!body.ok()) return Fail("update", body.status());
  if (body->empty()) {
    return Fail("update", InvalidArgumentError("nothing to update: give --file, --secrets, --timeout-ms, "
                                               "--memory-mb or --description"));
  }
  return Request(f, "update", "PUT", FunctionPath(f.id), json::serialize(*body));
}

int Invoke(const FnFlags& f) {
  std::string args = f.args;
  if (!f.args_file.empty()) {
    auto text = ReadFile(f.args_file, "--args-file");
    if (!text.ok()) return Fail("invoke", text.status());
    args = std::move(*text);
  }
  std::string body = "{}";
  if (!args.empty()) {
    boost::system::error_code ec;
    json::parse(args, ec);
    if (ec) return Fail("invoke", InvalidArgumentError("--args is not JSON: " + ec.message()));
    body = "{\"args\":" + args + "}";  // as given: the function gets exactly this text
  }
  return Request(f, "invoke", "POST", FunctionPath(f.id) + "/invoke", body);
}

// The report key to trust: --report-key, else the one in the server's verified evidence.
StatusOr<std::pair<crypto::PublicKey, std::string>> TrustedKey(const FnFlags& f, std::unique_ptr<RestClient>* client) {
  if (!f.report_key.empty()) {
    auto key = crypto::PublicKey::FromHex(f.report_key);
    if (!key.ok()) return InvalidArgumentError("--report-key: not a P-256 public key (hex)");
    return std::make_pair(*key, std::string("--report-key"));
  }
  auto policy = AttestationPolicyFromFlags(f.policy_file, f.allow_simulation, f.measurements);
  if (!policy.ok()) return policy.status().Annotate("attestation");
  if (!*client) {
    ASSIGN_OR_RETURN(*client, Connect(f));
  }
  std::vector<uint8_t> nonce(32);
  SecureRandom::Instance().Fill(nonce);
  auto doc = (*client)->Call("GET", "/v1/attestation?nonce=" + HexEncode(nonce));
  if (!doc.ok()) return doc.status().Annotate("attestation: fetching evidence");
  auto evidence = tee::EvidenceFromJson(*doc);
  if (!evidence.ok()) return evidence.status().Annotate("attestation");
  auto verified = tee::VerifyEvidence(*evidence, nonce, *policy, SystemClock::Instance());
  if (!verified.ok()) return verified.status().Annotate("attestation");
  return std::make_pair(verified->keys.report, std::string(verified->simulated ? "attestation (sim)" : "attestation"));
}

// Every failure message names what failed first ("result_hash: …").
int VerifyFail(const Status& s) {
  std::fprintf(stderr, "neosl fn verify: %.*s\n", int(s.message().size()), s.message().data());
  return 1;
}

int Verify(const FnFlags& f) {
  if (f.execution_file.empty() == f.execution_id.empty()) {
    return VerifyFail(InvalidArgumentError("give exactly one of --execution-file and --execution-id"));
  }
  std::unique_ptr<RestClient> client;
  json::value doc;
  if (!f.execution_file.empty()) {
    auto text = ReadFile(f.execution_file, "--execution-file");
    if (!text.ok()) return VerifyFail(text.status());
    boost::system::error_code ec;
    doc = json::parse(*text, ec);
    if (ec) return VerifyFail(InvalidArgumentError("--execution-file: not JSON"));
  } else {
    auto connected = Connect(f);
    if (!connected.ok()) return VerifyFail(connected.status());
    client = std::move(*connected);
    auto fetched = client->Call("GET", "/v1/executions/" + RestClient::EscapeSegment(f.execution_id));
    if (!fetched.ok()) return VerifyFail(fetched.status().Annotate("fetching the execution"));
    doc = std::move(*fetched);
  }
  if (!doc.is_object()) return VerifyFail(InvalidArgumentError("the execution is not a JSON object"));
  auto proof = ReadExecutionProof(doc.as_object());
  if (!proof.ok()) return VerifyFail(proof.status());

  if (!proof->source_hash) {
    if (!client) {
      auto connected = Connect(f);
      if (!connected.ok()) return VerifyFail(connected.status());
      client = std::move(*connected);
    }
    auto fn = client->Call("GET", FunctionPath(proof->function_id) + "?version=" + std::to_string(proof->version));
    if (!fn.ok()) return VerifyFail(fn.status().Annotate("source_hash: fetching the function's version"));
    const json::value* hash = fn->is_object() ? fn->as_object().if_contains("source_hash") : nullptr;
    auto bytes = hash && hash->is_string() ? HexDecode(hash->as_string()) : std::nullopt;
    if (!bytes || bytes->size() != 32) return VerifyFail(InvalidArgumentError("source_hash: the API gave none"));
    proof->source_hash.emplace();
    std::copy(bytes->begin(), bytes->end(), proof->source_hash->begin());
  }
  if (!f.source_file.empty()) {
    auto source = ReadFile(f.source_file, "--source-file");
    if (!source.ok()) return VerifyFail(source.status());
    auto digest = crypto::Sha256({reinterpret_cast<const uint8_t*>(source->data()), source->size()});
    if (digest != *proof->source_hash) {
      return VerifyFail(FailedPreconditionError("source_hash: SHA-256 of " + f.source_file + " is " +
                                                HexEncode(digest) + ", the execution ran " +
                                                HexEncode(*proof->source_hash)));
    }
  }
  auto trusted = TrustedKey(f, &client);
  if (!trusted.ok()) return VerifyFail(trusted.status());
  if (Status s = VerifyExecutionSignature(*proof, trusted->first); !s.ok()) return VerifyFail(s);

  json::object out{{"verified", true},
                   {"execution_id", proof->execution_id},
                   {"function_id", proof->function_id},
                   {"version", proof->version},
                   {"status", proof->status},
                   {"source_hash", HexEncode(*proof->source_hash)},
                   {"args_hash", HexEncode(proof->args_hash)},
                   {"result_hash", HexEncode(proof->result_hash)},
                   {"report_key", HexEncode(trusted->first.Compressed())},
                   {"key_from", trusted->second}};
  if (!f.source_file.empty()) out["source_file"] = f.source_file;
  Print(out);
  return 0;
}

void AddConnectionOptions(CLI::App* cmd, FnFlags& f) {
  cmd->add_option("--url", f.url, "the server's REST API, http(s)://host:port (default http://127.0.0.1:8080)")
      ->envname("NEOSL_URL");
  cmd->add_option("--key", f.key, "API key, sent as a bearer token")->envname("NEOSL_API_KEY");
  cmd->add_option("--key-file", f.key_file, "read the API key from this file (instead of --key)");
  cmd->add_option("--ca-file", f.ca_file, "https: a CA certificate (PEM) to trust besides the system's");
}

void AddFunctionOptions(CLI::App* cmd, FnFlags& f) {
  cmd->add_option("--secrets", f.secrets,
                  "comma-separated names of the account's secrets the function may read (\"\" for none)");
  cmd->add_option("--timeout-ms", f.timeout_ms, "time limit of one invocation, 100..30000 (default 10000)")
      ->check(CLI::Range(100, 30000));
  cmd->add_option("--memory-mb", f.memory_mb, "memory limit of one invocation, 16..512 (default 128)")
      ->check(CLI::Range(16, 512));
  cmd->add_option("--description", f.description, "a description, at most 1 KiB");
}

void AddPaging(CLI::App* cmd, FnFlags& f) {
  cmd->add_option("--limit", f.limit, "items per page, 1..100 (default 50)")->check(CLI::Range(1, 100));
  cmd->add_option("--page-token", f.page_token, "next_page_token of the previous page");
}

}  // namespace

std::function<int()> AddFnCommands(CLI::App& app) {
  auto f = std::make_shared<FnFlags>();
  auto* fn = app.add_subcommand("fn", "JavaScript functions: deploy, invoke in the enclave, verify signed results");
  fn->require_subcommand(1);

  auto* create = fn->add_subcommand("create", "Deploy a function (version 1)");
  AddConnectionOptions(create, *f);
  create->add_option("name", f->name, "function name, [A-Za-z0-9_-]{1,64}")->required();
  create->add_option("--file", f->file, "the function's ES module (≤ 256 KiB)")->required();
  AddFunctionOptions(create, *f);

  auto* update = fn->add_subcommand("update", "Make a new version of a function from the fields given");
  AddConnectionOptions(update, *f);
  update->add_option("id", f->id, "function id (fn_…)")->required();
  update->add_option("--file", f->file, "new source");
  AddFunctionOptions(update, *f);

  auto* list = fn->add_subcommand("list", "List the account's functions");
  AddConnectionOptions(list, *f);
  AddPaging(list, *f);

  auto* get = fn->add_subcommand("get", "Show a function with its source");
  AddConnectionOptions(get, *f);
  get->add_option("id", f->id, "function id")->required();
  get->add_option("--version", f->version, "an earlier version (default: the current one)")->check(CLI::PositiveNumber);

  auto* del = fn->add_subcommand("delete", "Delete a function, its versions and executions");
  AddConnectionOptions(del, *f);
  del->add_option("id", f->id, "function id")->required();

  auto* invoke = fn->add_subcommand("invoke", "Run a function in the enclave and print the signed execution");
  AddConnectionOptions(invoke, *f);
  invoke->add_option("id", f->id, "function id")->required();
  auto* args = invoke->add_option("--args", f->args, "the args, as JSON (default null)");
  invoke->add_option("--args-file", f->args_file, "read the args JSON from this file")->excludes(args);

  auto* executions = fn->add_subcommand("executions", "List a function's executions, newest first");
  AddConnectionOptions(executions, *f);
  executions->add_option("id", f->id, "function id")->required();
  AddPaging(executions, *f);

  auto* execution = fn->add_subcommand("execution", "Show one execution with its result, logs and proof");
  AddConnectionOptions(execution, *f);
  execution->add_option("id", f->id, "execution id (ex_…)")->required();

  auto* verify = fn->add_subcommand(
      "verify", "Check an execution's enclave signature (offline with --execution-file and --report-key)");
  AddConnectionOptions(verify, *f);
  auto* from_file = verify->add_option("--execution-file", f->execution_file, "the execution's JSON");
  verify->add_option("--execution-id", f->execution_id, "fetch the execution (GET /v1/executions/ID)")
      ->excludes(from_file);
  auto* key = verify->add_option("--report-key", f->report_key,
                                 "the enclave report key to trust (hex); default: from the server's attestation");
  verify->add_option("--policy", f->policy_file, "attestation policy YAML (as for `neosl attest verify`)")
      ->excludes(key);
  verify
      ->add_flag("--allow-simulation", f->allow_simulation,
                 "accept a \"sim\" enclave's evidence (forgeable by anyone: development only)")
      ->excludes(key);
  verify->add_option("--measurement", f->measurements, "allowed enclave measurement (hex; repeatable)")->excludes(key);
  verify->add_option("--source-file", f->source_file, "also check that the execution ran this source");

  return [=]() -> int {
    if (create->parsed()) return Create(*f, create);
    if (update->parsed()) return Update(*f, update);
    if (list->parsed()) return Request(*f, "list", "GET", "/v1/functions" + Paging(*f));
    if (get->parsed()) {
      return Request(*f, "get", "GET",
                     FunctionPath(f->id) + (f->version > 0 ? "?version=" + std::to_string(f->version) : ""));
    }
    if (del->parsed()) return Request(*f, "delete", "DELETE", FunctionPath(f->id));
    if (invoke->parsed()) return Invoke(*f);
    if (executions->parsed()) return Request(*f, "executions", "GET", FunctionPath(f->id) + "/executions" + Paging(*f));
    if (execution->parsed()) {
      return Request(*f, "execution", "GET", "/v1/executions/" + RestClient::EscapeSegment(f->id));
    }
    if (verify->parsed()) return Verify(*f);
    return -1;
  };
}

}  // namespace neosl::app
