#include "apps/neosl/secrets_cli.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <openssl/crypto.h>

#include "apps/neosl/attest_cli.h"
#include "apps/neosl/rest_client.h"
#include "core/clock.h"
#include "core/encoding.h"
#include "core/random.h"
#include "crypto/ecies.h"
#include "tee/attestation.h"
#include "tee/measurement.h"
#include "tee/verifier.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

// The HKDF info of a secret's ECIES blob (docs/secrets.md): a blob made for another purpose
// does not decrypt as a secret.
constexpr std::string_view kSecretPurpose = "neosl-secret-v1";
// The API's limit; reading stops one byte past it so the buffer never grows (and never leaves
// an unwiped copy of the value behind in freed memory).
constexpr size_t kMaxValueSize = size_t{64} * 1024;

struct SecretsFlags {
  std::string url = "http://127.0.0.1:8080";
  std::string key, key_file, ca_file;
  std::string name, value_file, policy_file;
  bool value_stdin = false, plaintext = false, allow_simulation = false;
  std::vector<std::string> measurements;
};

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "neosl secrets %.*s: %s\n", int(command.size()), command.data(), s.ToString().c_str());
  return 1;
}

void Print(const json::value& v) {
  std::printf("%s\n", json::serialize(v).c_str());
}

// Bytes that hold a secret: a fixed capacity, wiped whole on destruction.
class WipedBuffer {
 public:
  explicit WipedBuffer(size_t capacity) { bytes_.reserve(capacity); }
  ~WipedBuffer() { OPENSSL_cleanse(bytes_.data(), bytes_.capacity()); }
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;

  std::vector<uint8_t>& bytes() { return bytes_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()}; }

 private:
  std::vector<uint8_t> bytes_;
};

// Reads the value exactly as given (a trailing newline is part of it), at most kMaxValueSize.
Status ReadValue(const SecretsFlags& f, WipedBuffer& out) {
  FILE* in = stdin;
  if (!f.value_stdin) {
    in = std::fopen(f.value_file.c_str(), "rb");
    if (in == nullptr) return NotFoundError("--value-file: cannot read " + f.value_file);
  }
  std::vector<uint8_t>& bytes = out.bytes();
  bytes.resize(kMaxValueSize + 1);
  size_t n = std::fread(bytes.data(), 1, bytes.size(), in);
  bool failed = std::ferror(in) != 0;
  if (in != stdin) std::fclose(in);
  bytes.resize(n);
  if (failed) return UnavailableError(f.value_stdin ? "--value-stdin: read error" : "--value-file: read error");
  if (n > kMaxValueSize) return InvalidArgumentError("the value is larger than 64 KiB");
  return Status::Ok();
}

StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("--key-file: cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ' || key.back() == '\t')) {
    key.pop_back();
  }
  if (key.empty()) return InvalidArgumentError("--key-file: " + path + " is empty");
  return key;
}

StatusOr<std::unique_ptr<RestClient>> Connect(const SecretsFlags& f) {
  RestClientOptions options;
  options.url = f.url;
  options.ca_file = f.ca_file;
  options.api_key = f.key;
  if (!f.key_file.empty()) {
    ASSIGN_OR_RETURN(options.api_key, ReadKeyFile(f.key_file));
  }
  return RestClient::Create(std::move(options));
}

// Fetches evidence for a fresh nonce and verifies it; returns the enclave's ECIES key. Every
// error message starts "attestation: ", then the check's own name ("measurement: …").
StatusOr<crypto::PublicKey> AttestedEciesKey(const SecretsFlags& f, RestClient& client) {
  // The same policy `neosl attest verify` builds from the same flags.
  auto policy = AttestationPolicyFromFlags(f.policy_file, f.allow_simulation, f.measurements);
  if (!policy.ok()) return policy.status().Annotate("attestation");
  std::vector<uint8_t> nonce(32);
  SecureRandom::Instance().Fill(nonce);
  auto doc = client.Call("GET", "/v1/attestation?nonce=" + HexEncode(nonce));
  if (!doc.ok()) return doc.status().Annotate("attestation: fetching evidence");
  auto evidence = tee::EvidenceFromJson(*doc);
  if (!evidence.ok()) return evidence.status().Annotate("attestation");
  auto verified = tee::VerifyEvidence(*evidence, nonce, *policy, SystemClock::Instance());
  if (!verified.ok()) return verified.status().Annotate("attestation");
  return verified->keys.ecies;
}

// {"value":"<value>"} with the value JSON-escaped into one buffer of fixed capacity (at most
// 6 bytes per input byte, "\u00XX"), so that the only copy is the one the caller wipes.
void PlaintextBody(std::string_view value, WipedBuffer& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<uint8_t>& b = out.bytes();
  auto put = [&](std::string_view s) { b.insert(b.end(), s.begin(), s.end()); };
  put("{\"value\":\"");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      b.push_back('\\');
      b.push_back(u);
    } else if (u < 0x20) {
      put("\\u00");
      b.push_back(kHex[u >> 4]);
      b.push_back(kHex[u & 0xf]);
    } else {
      b.push_back(u);
    }
  }
  put("\"}");
}

int Put(const SecretsFlags& f) {
  if (!f.value_stdin && f.value_file.empty()) {
    return Fail("put", InvalidArgumentError("give the value with --value-file PATH or --value-stdin"));
  }
  if (f.plaintext && (!f.policy_file.empty() || f.allow_simulation || !f.measurements.empty())) {
    return Fail("put", InvalidArgumentError("--plaintext skips attestation: --policy, --allow-simulation and "
                                            "--measurement do not apply"));
  }
  WipedBuffer value(kMaxValueSize + 1);
  if (Status s = ReadValue(f, value); !s.ok()) return Fail("put", s);
  auto client = Connect(f);
  if (!client.ok()) return Fail("put", client.status());

  const std::string target = "/v1/secrets/" + RestClient::EscapeSegment(f.name);
  StatusOr<json::value> answer = InternalError("unreachable");
  if (f.plaintext) {
    std::fprintf(stderr,
                 "neosl secrets put: warning: --plaintext sends the value unencrypted; the host sees it "
                 "(encrypt to the attested enclave key instead: drop --plaintext)\n");
    WipedBuffer body(value.view().size() * 6 + 16);
    PlaintextBody(value.view(), body);
    answer = (*client)->Call("PUT", target, body.view());
  } else {
    auto key = AttestedEciesKey(f, **client);
    if (!key.ok()) {
      std::fprintf(stderr, "neosl secrets put: %.*s\n", int(key.status().message().size()),
                   key.status().message().data());
      return 1;
    }
    const auto purpose = std::string_view(kSecretPurpose);
    auto blob =
        crypto::EciesEncrypt(*key, value.bytes(), {reinterpret_cast<const uint8_t*>(purpose.data()), purpose.size()},
                             SecureRandom::Instance());
    if (!blob.ok()) return Fail("put", blob.status());
    json::object body{{"encrypted_value", HexEncode(*blob)}};
    answer = (*client)->Call("PUT", target, json::serialize(body));
  }
  if (!answer.ok()) return Fail("put", answer.status());
  Print(*answer);
  return 0;
}

int List(const SecretsFlags& f) {
  auto client = Connect(f);
  if (!client.ok()) return Fail("list", client.status());
  auto answer = (*client)->Call("GET", "/v1/secrets");
  if (!answer.ok()) return Fail("list", answer.status());
  Print(*answer);
  return 0;
}

int Delete(const SecretsFlags& f) {
  auto client = Connect(f);
  if (!client.ok()) return Fail("delete", client.status());
  auto answer = (*client)->Call("DELETE", "/v1/secrets/" + RestClient::EscapeSegment(f.name));
  if (!answer.ok()) return Fail("delete", answer.status());
  Print(*answer);
  return 0;
}

void AddConnectionOptions(CLI::App* cmd, SecretsFlags& f) {
  cmd->add_option("--url", f.url, "the server's REST API, http(s)://host:port (default http://127.0.0.1:8080)")
      ->envname("NEOSL_URL");
  cmd->add_option("--key", f.key, "API key, sent as a bearer token")->envname("NEOSL_API_KEY");
  cmd->add_option("--key-file", f.key_file, "read the API key from this file (instead of --key)");
  cmd->add_option("--ca-file", f.ca_file, "https: a CA certificate (PEM) to trust besides the system's");
}

}  // namespace

std::function<int()> AddSecretsCommands(CLI::App& app) {
  auto f = std::make_shared<SecretsFlags>();
  auto* secrets = app.add_subcommand("secrets", "Secrets: put (encrypted to the attested enclave), list, delete");
  secrets->require_subcommand(1);

  auto* put = secrets->add_subcommand(
      "put", "Create or rotate a secret; by default the value is encrypted here to the attested enclave's key");
  AddConnectionOptions(put, *f);
  put->add_option("name", f->name, "secret name, [A-Za-z0-9_-]{1,64}")->required();
  auto* file = put->add_option("--value-file", f->value_file, "read the value from this file (as is, ≤ 64 KiB)");
  auto* from_stdin = put->add_flag("--value-stdin", f->value_stdin, "read the value from standard input (as is)");
  file->excludes(from_stdin);
  put->add_flag("--plaintext", f->plaintext,
                "send the value unencrypted, without attestation (the host sees it; not recommended)");
  put->add_option("--policy", f->policy_file,
                  "attestation policy YAML (as for `neosl attest verify`): allow_simulation, measurements, signers, "
                  "max_age_seconds, max_clock_skew_seconds");
  put->add_flag("--allow-simulation", f->allow_simulation,
                "accept a \"sim\" enclave (forgeable by anyone: development only)");
  put->add_option("--measurement", f->measurements,
                  "allowed enclave measurement (hex; repeatable); default: the measurement of this binary");

  auto* list = secrets->add_subcommand("list", "List the secrets (names and versions, never values)");
  AddConnectionOptions(list, *f);

  auto* del = secrets->add_subcommand("delete", "Delete a secret");
  AddConnectionOptions(del, *f);
  del->add_option("name", f->name, "secret name")->required();

  return [=]() -> int {
    if (put->parsed()) return Put(*f);
    if (list->parsed()) return List(*f);
    if (del->parsed()) return Delete(*f);
    return -1;
  };
}

}  // namespace neosl::app
