#include "tee/attestation.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <utility>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace neosl::tee {
namespace {

namespace json = boost::json;

constexpr std::string_view kBodyDomain = "neosl-evidence-v1";

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void PutI64(std::vector<uint8_t>& out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(u >> shift));
}

void PutLp(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void PutLp(std::vector<uint8_t>& out, std::string_view text) {
  PutLp(out, crypto::AsBytes(text));
}

const json::value* Field(const json::object& o, std::string_view name) {
  return o.if_contains(name);
}

StatusOr<std::string> RequiredString(const json::object& o, std::string_view name) {
  const json::value* v = Field(o, name);
  if (v == nullptr) return InvalidArgumentError("evidence: missing field \"" + std::string(name) + "\"");
  if (!v->is_string()) return InvalidArgumentError("evidence: \"" + std::string(name) + "\" must be a string");
  return std::string(v->as_string());
}

template <size_t N>
StatusOr<std::array<uint8_t, N>> FixedHex(const json::object& o, std::string_view name) {
  ASSIGN_OR_RETURN(std::string text, RequiredString(o, name));
  auto bytes = HexDecode(text);
  if (!bytes || bytes->size() != N) {
    return InvalidArgumentError("evidence: \"" + std::string(name) + "\" must be " + std::to_string(N) +
                                " bytes of hex");
  }
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

StatusOr<std::vector<uint8_t>> VariableHex(const json::object& o, std::string_view name) {
  ASSIGN_OR_RETURN(std::string text, RequiredString(o, name));
  auto bytes = HexDecode(text);
  if (!bytes) return InvalidArgumentError("evidence: \"" + std::string(name) + "\" must be hex");
  return std::move(*bytes);
}

}  // namespace

boost::json::object PublicKeysToJson(const EnclavePublicKeys& keys) {
  return json::object{{"neo", HexEncode(keys.neo.Compressed())},
                      {"vrf", HexEncode(keys.vrf.Compressed())},
                      {"report", HexEncode(keys.report.Compressed())},
                      {"ecies", HexEncode(keys.ecies.Compressed())}};
}

StatusOr<EnclavePublicKeys> PublicKeysFromJson(const boost::json::object& keys) {
  for (const auto& entry : keys) {
    if (std::find(kPublicKeyNames.begin(), kPublicKeyNames.end(), std::string_view(entry.key())) ==
        kPublicKeyNames.end()) {
      return InvalidArgumentError("public key \"" + std::string(entry.key()) +
                                  "\" is not one of neo, vrf, report, ecies");
    }
  }
  std::vector<crypto::PublicKey> parsed;
  for (std::string_view name : kPublicKeyNames) {
    const json::value* v = keys.if_contains(name);
    if (v == nullptr) return InvalidArgumentError("public key \"" + std::string(name) + "\" is missing");
    if (!v->is_string()) return InvalidArgumentError("public key \"" + std::string(name) + "\" must be a hex string");
    auto bytes = HexDecode(v->as_string());
    if (!bytes || bytes->size() != 33) {
      return InvalidArgumentError("public key \"" + std::string(name) + "\" must be 33 bytes of hex (compressed)");
    }
    auto key = crypto::PublicKey::FromBytes(*bytes);
    if (!key.ok()) return key.status().Annotate("public key \"" + std::string(name) + "\"");
    parsed.push_back(*std::move(key));
  }
  return EnclavePublicKeys{parsed[0], parsed[1], parsed[2], parsed[3]};
}

std::vector<uint8_t> CanonicalPublicKeys(const EnclavePublicKeys& keys) {
  std::vector<uint8_t> out;
  out.reserve(size_t{4} * 33);
  for (const crypto::PublicKey* k : {&keys.neo, &keys.vrf, &keys.report, &keys.ecies}) {
    auto c = k->Compressed();
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

std::array<uint8_t, 64> ReportData(std::span<const uint8_t> canonical_public_keys, std::span<const uint8_t> nonce) {
  std::array<uint8_t, 64> out{};
  auto keys_hash = crypto::Sha256(canonical_public_keys);
  auto nonce_hash = crypto::Sha256(nonce);
  std::copy(keys_hash.begin(), keys_hash.end(), out.begin());
  std::copy(nonce_hash.begin(), nonce_hash.end(), out.begin() + 32);
  return out;
}

boost::json::value EvidenceToJson(const Evidence& e) {
  json::array certs;
  for (const std::string& pem : e.certificates) certs.emplace_back(pem);
  json::object o{{"backend", e.backend},
                 {"measurement", HexEncode(e.measurement)},
                 {"report_data", HexEncode(e.report_data)},
                 {"public_keys", e.public_keys},
                 {"timestamp", FormatRfc3339Millis(e.timestamp_ms)},
                 {"timestamp_ms", e.timestamp_ms},
                 {"signature", HexEncode(e.signature)},
                 {"certificates", std::move(certs)}};
  if (!e.quote.empty()) o["quote"] = HexEncode(e.quote);
  return o;
}

StatusOr<Evidence> EvidenceFromJson(const boost::json::value& value) {
  const json::object* o = value.if_object();
  if (o == nullptr) return InvalidArgumentError("evidence: must be a JSON object");
  Evidence e;
  ASSIGN_OR_RETURN(e.backend, RequiredString(*o, "backend"));
  ASSIGN_OR_RETURN(e.measurement, FixedHex<32>(*o, "measurement"));
  ASSIGN_OR_RETURN(e.report_data, FixedHex<64>(*o, "report_data"));

  const json::value* keys = Field(*o, "public_keys");
  if (keys == nullptr) return InvalidArgumentError("evidence: missing field \"public_keys\"");
  if (!keys->is_object()) return InvalidArgumentError("evidence: \"public_keys\" must be an object");
  e.public_keys = keys->as_object();

  const json::value* ts = Field(*o, "timestamp_ms");
  if (ts == nullptr) return InvalidArgumentError("evidence: missing field \"timestamp_ms\"");
  if (ts->is_int64()) {
    e.timestamp_ms = ts->as_int64();
  } else if (ts->is_uint64() && ts->as_uint64() <= uint64_t(INT64_MAX)) {
    e.timestamp_ms = static_cast<int64_t>(ts->as_uint64());
  } else {
    return InvalidArgumentError("evidence: \"timestamp_ms\" must be an integer");
  }
  ASSIGN_OR_RETURN(std::string rfc3339, RequiredString(*o, "timestamp"));
  if (rfc3339 != FormatRfc3339Millis(e.timestamp_ms)) {
    return InvalidArgumentError("evidence: \"timestamp\" does not agree with \"timestamp_ms\"");
  }

  ASSIGN_OR_RETURN(e.signature, VariableHex(*o, "signature"));
  const json::value* certs = Field(*o, "certificates");
  if (certs == nullptr) return InvalidArgumentError("evidence: missing field \"certificates\"");
  if (!certs->is_array()) return InvalidArgumentError("evidence: \"certificates\" must be an array of PEM strings");
  for (const json::value& c : certs->as_array()) {
    if (!c.is_string()) return InvalidArgumentError("evidence: \"certificates\" must be an array of PEM strings");
    e.certificates.emplace_back(c.as_string());
  }
  if (Field(*o, "quote") != nullptr) {
    ASSIGN_OR_RETURN(e.quote, VariableHex(*o, "quote"));
  }
  return e;
}

std::vector<uint8_t> SignedBody(const Evidence& e) {
  std::vector<uint8_t> out;
  out.reserve(256 + e.quote.size());
  PutLp(out, kBodyDomain);
  PutLp(out, std::string_view(e.backend));
  PutLp(out, std::span<const uint8_t>(e.measurement));
  PutLp(out, std::span<const uint8_t>(e.report_data));

  std::vector<std::pair<std::string_view, std::string>> entries;
  for (const auto& entry : e.public_keys) {
    const json::value& v = entry.value();
    entries.emplace_back(entry.key(), v.is_string() ? std::string(v.as_string()) : json::serialize(v));
  }
  std::sort(entries.begin(), entries.end());
  PutU32(out, static_cast<uint32_t>(entries.size()));
  for (const auto& [name, text] : entries) {
    PutLp(out, name);
    PutLp(out, std::string_view(text));
  }
  PutI64(out, e.timestamp_ms);
  PutLp(out, std::span<const uint8_t>(e.quote));
  return out;
}

StatusOr<std::vector<uint8_t>> ReadGramineQuote(std::span<const uint8_t, 64> report_data, const std::string& dir) {
  {
    std::ofstream out(dir + "/user_report_data", std::ios::binary);
    if (!out) return UnavailableError("sgx: cannot open " + dir + "/user_report_data (not running under Gramine-SGX?)");
    out.write(reinterpret_cast<const char*>(report_data.data()), std::streamsize(report_data.size()));
    if (!out.flush()) return UnavailableError("sgx: writing " + dir + "/user_report_data failed");
  }
  std::ifstream in(dir + "/quote", std::ios::binary);
  if (!in) return UnavailableError("sgx: cannot open " + dir + "/quote");
  std::vector<uint8_t> quote((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (quote.empty()) return UnavailableError("sgx: " + dir + "/quote is empty");
  return quote;
}

}  // namespace neosl::tee
