#include "apps/neosl/fn_verify.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/ids.h"
#include "crypto/hash.h"
#include "runtime/runner.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

std::array<uint8_t, 32> Sha256Of(std::string_view text) {
  return crypto::Sha256({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

StatusOr<std::string> Text(const json::object& o, std::string_view field) {
  const json::value* v = o.if_contains(field);
  if (!v || !v->is_string()) return InvalidArgumentError(std::string(field) + ": missing (a string)");
  return std::string(v->as_string());
}

template <size_t N>
StatusOr<std::array<uint8_t, N>> Hex(const json::object& o, std::string_view field) {
  ASSIGN_OR_RETURN(std::string text, Text(o, field));
  auto bytes = HexDecode(text);
  if (!bytes || bytes->size() != N) {
    return InvalidArgumentError(std::string(field) + ": not " + std::to_string(N) + " bytes of hex");
  }
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// Protobuf's JSON prints uint32 as a number; accept a decimal string too.
StatusOr<uint32_t> Version(const json::object& o) {
  const json::value* v = o.if_contains("version");
  int64_t n = -1;
  if (v && v->is_int64()) n = v->as_int64();
  if (v && v->is_uint64() && v->as_uint64() <= UINT32_MAX) n = int64_t(v->as_uint64());
  if (v && v->is_string()) {
    std::string_view s = v->as_string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) n = -1;
  }
  if (n < 1 || n > int64_t(UINT32_MAX)) return InvalidArgumentError("version: missing or not a positive integer");
  return uint32_t(n);
}

// Whether `value` (a parsed copy) says the same as the exact `text`.
Status SameValue(const json::object& o, std::string_view field, std::string_view text_field, const std::string& text) {
  const json::value* v = o.if_contains(field);
  if (!v) return Status();
  json::value expected = nullptr;
  if (!text.empty()) {
    boost::system::error_code ec;
    expected = json::parse(text, ec);
    if (ec) return InvalidArgumentError(std::string(text_field) + ": not JSON");
  }
  if (*v != expected) {
    return FailedPreconditionError(std::string(field) + ": does not match " + std::string(text_field) +
                                   ", the text the signature covers");
  }
  return Status();
}

}  // namespace

StatusOr<ExecutionProof> ReadExecutionProof(const json::object& e) {
  ExecutionProof p;
  if (const json::value* id = e.if_contains("id"); id && id->is_string()) p.execution_id = id->as_string();
  ASSIGN_OR_RETURN(p.function_id, Text(e, "function_id"));
  if (!FunctionId::IsWellFormed(p.function_id)) return InvalidArgumentError("function_id: not a function id");
  ASSIGN_OR_RETURN(p.version, Version(e));
  ASSIGN_OR_RETURN(p.status, Text(e, "status"));
  if (p.status != "succeeded" && p.status != "failed") {
    return InvalidArgumentError("status: must be succeeded or failed, not '" + p.status + "'");
  }
  const bool ok = p.status == "succeeded";
  std::string_view signed_field = ok ? "result_json" : "error_json";
  ASSIGN_OR_RETURN(p.signed_text, Text(e, signed_field));
  ASSIGN_OR_RETURN(p.args_json, Text(e, "args_json"));
  if (const json::value* h = e.if_contains("source_hash"); h && !(h->is_string() && h->as_string().empty())) {
    ASSIGN_OR_RETURN(p.source_hash, Hex<32>(e, "source_hash"));
  }
  ASSIGN_OR_RETURN(p.args_hash, Hex<32>(e, "args_hash"));
  ASSIGN_OR_RETURN(p.result_hash, Hex<32>(e, "result_hash"));
  ASSIGN_OR_RETURN(p.signature, Hex<64>(e, "enclave_signature"));
  if (const json::value* key = e.if_contains("signing_key"); key && key->is_string() && !key->as_string().empty()) {
    auto parsed = crypto::PublicKey::FromHex(key->as_string());
    if (!parsed.ok()) return InvalidArgumentError("signing_key: not a P-256 public key");
    p.signing_key = *parsed;
  }

  if (Sha256Of(p.args_json) != p.args_hash) {
    return FailedPreconditionError("args_hash: SHA-256 of args_json is " + HexEncode(Sha256Of(p.args_json)) +
                                   ", the execution says " + HexEncode(p.args_hash));
  }
  if (Sha256Of(p.signed_text) != p.result_hash) {
    return FailedPreconditionError("result_hash: SHA-256 of " + std::string(signed_field) + " is " +
                                   HexEncode(Sha256Of(p.signed_text)) + ", the execution says " +
                                   HexEncode(p.result_hash));
  }
  // The parsed copies the API adds for convenience must say what the signed texts say.
  RETURN_IF_ERROR(SameValue(e, "args", "args_json", p.args_json));
  if (ok) {
    RETURN_IF_ERROR(SameValue(e, "result", "result_json", p.signed_text));
  } else {
    if (const json::value* r = e.if_contains("result"); r && !r->is_null()) {
      return FailedPreconditionError("result: a failed execution has no result");
    }
    if (const json::value* err = e.if_contains("error"); err && err->is_object()) {
      boost::system::error_code ec;
      json::value signed_error = json::parse(p.signed_text, ec);
      if (ec || !signed_error.is_object()) return InvalidArgumentError("error_json: not a JSON object");
      for (std::string_view field : {"code", "message"}) {
        const json::value* shown = err->as_object().if_contains(field);
        const json::value* sig = signed_error.as_object().if_contains(field);
        if (shown && (!sig || *shown != *sig)) {
          return FailedPreconditionError("error." + std::string(field) +
                                         ": does not match error_json, the text the signature covers");
        }
      }
    }
  }
  return p;
}

Status VerifyExecutionSignature(const ExecutionProof& p, const crypto::PublicKey& trusted) {
  if (!p.source_hash) return InvalidArgumentError("source_hash: unknown");
  if (p.signing_key && !(*p.signing_key == trusted)) {
    return FailedPreconditionError("signing_key: the execution names " + HexEncode(p.signing_key->Compressed()) +
                                   ", not the trusted report key " + HexEncode(trusted.Compressed()));
  }
  std::vector<uint8_t> message =
      runtime::ResultSigningMessage(p.function_id, p.version, *p.source_hash, p.args_hash, p.result_hash);
  if (!trusted.Verify(message, p.signature)) {
    return FailedPreconditionError("enclave_signature: does not verify with report key " +
                                   HexEncode(trusted.Compressed()) +
                                   " over (function_id, version, source_hash, args_hash, result_hash)");
  }
  return Status();
}

}  // namespace neosl::app
