#include "apps/neosl/attest_cli.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "core/clock.h"
#include "core/encoding.h"
#include "tee/attestation.h"
#include "tee/measurement.h"
#include "tee/verifier.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

struct AttestFlags {
  std::string evidence_file, nonce_hex, policy_file;
  bool allow_simulation = false;
  std::vector<std::string> measurements;
};

// Every message names its check first ("nonce: …"), so the line reads
// "neosl attest verify: nonce: report data does not bind this nonce".
int Fail(const Status& s) {
  std::fprintf(stderr, "neosl attest verify: %.*s\n", int(s.message().size()), s.message().data());
  return 1;
}

StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(std::string(what) + ": cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Verify(const AttestFlags& f) {
  auto text = ReadFile(f.evidence_file, "evidence");
  if (!text.ok()) return Fail(text.status());
  json::error_code ec;
  json::value doc = json::parse(*text, ec);
  if (ec) return Fail(InvalidArgumentError("evidence: " + f.evidence_file + " is not valid JSON"));
  auto evidence = tee::EvidenceFromJson(doc);
  if (!evidence.ok()) return Fail(evidence.status());

  auto nonce = HexDecode(f.nonce_hex);
  if (!nonce || nonce->empty()) return Fail(InvalidArgumentError("nonce: --nonce must be non-empty hex"));

  auto policy = AttestationPolicyFromFlags(f.policy_file, f.allow_simulation, f.measurements);
  if (!policy.ok()) return Fail(policy.status());

  auto verified = tee::VerifyEvidence(*evidence, *nonce, *policy, SystemClock::Instance());
  if (!verified.ok()) return Fail(verified.status());
  json::object out{{"ok", true},
                   {"backend", verified->evidence.backend},
                   {"measurement", HexEncode(verified->evidence.measurement)},
                   {"public_keys", tee::PublicKeysToJson(verified->keys)}};
  std::printf("%s\n", json::serialize(out).c_str());
  return 0;
}

}  // namespace

StatusOr<tee::AttestationPolicy> AttestationPolicyFromFlags(const std::string& policy_file, bool allow_simulation,
                                                            const std::vector<std::string>& measurements) {
  tee::AttestationPolicy policy;
  if (!policy_file.empty()) {
    ASSIGN_OR_RETURN(std::string yaml, ReadFile(policy_file, "policy"));
    ASSIGN_OR_RETURN(policy, tee::AttestationPolicy::FromYaml(yaml));
  }
  if (allow_simulation) policy.allow_simulation = true;
  for (const std::string& hex : measurements) {
    auto m = tee::ParseMeasurementHex(hex);
    if (!m.ok()) return m.status().Annotate("measurement: --measurement");
    policy.measurements.push_back(*m);
  }
  // Nothing configured: trust only the enclave program this binary ships, which is this very
  // binary (`neosl enclave`).
  if (policy.measurements.empty() && policy.signers.empty()) {
    auto self = tee::MeasureSelf();
    if (!self.ok()) return self.status().Annotate("measurement: measuring this binary");
    policy.measurements.push_back(*self);
  }
  return policy;
}

std::function<int()> AddAttestCommands(CLI::App& app) {
  auto f = std::make_shared<AttestFlags>();
  auto* attest = app.add_subcommand("attest", "Enclave attestation");
  attest->require_subcommand(1);
  auto* verify = attest->add_subcommand(
      "verify", "Verify attestation evidence (GET /v1/attestation?nonce=HEX); exit 0 only when every check holds");
  verify->add_option("--evidence", f->evidence_file, "evidence JSON file")->required();
  verify->add_option("--nonce", f->nonce_hex, "the nonce (hex) the evidence was requested with")->required();
  verify->add_option("--policy", f->policy_file,
                     "policy YAML: allow_simulation, measurements, signers, max_age_seconds, max_clock_skew_seconds");
  verify->add_flag("--allow-simulation", f->allow_simulation,
                   "accept backend \"sim\" (forgeable by anyone: development only)");
  verify->add_option("--measurement", f->measurements,
                     "allowed measurement (hex; repeatable); default: the measurement of this binary");
  return [=]() -> int {
    if (verify->parsed()) return Verify(*f);
    return -1;
  };
}

}  // namespace neosl::app
