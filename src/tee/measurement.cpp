#include "tee/measurement.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <fcntl.h>
#include <memory>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <boost/json.hpp>
#include <openssl/evp.h>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "tee/unique_fd.h"

namespace neosl::tee {
namespace {

constexpr std::string_view kSigStructMagic = "NSLSIGS1";

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

Status FileError(const std::string& what, const std::string& path, int err) {
  // std::generic_category().message is thread-safe; strerror is not.
  std::string message = what + " " + path + ": " + std::error_code(err, std::generic_category()).message();
  if (err == ENOENT) return NotFoundError(std::move(message));
  if (err == EACCES || err == EPERM) return PermissionDeniedError(std::move(message));
  return InternalError(std::move(message));
}

using Fd = internal::UniqueFd;

std::array<uint8_t, 8 + 33 + 32 + 4> SignedMessage(const SigStruct& s) {
  std::array<uint8_t, 8 + 33 + 32 + 4> msg{};
  auto out = std::copy(kSigStructMagic.begin(), kSigStructMagic.end(), msg.begin());
  const auto signer = s.signer.Compressed();
  out = std::copy(signer.begin(), signer.end(), out);
  out = std::copy(s.measurement.begin(), s.measurement.end(), out);
  for (int shift = 24; shift >= 0; shift -= 8) *out++ = static_cast<uint8_t>(s.isv_svn >> shift);
  return msg;
}

// Lowercase hex only: one accepted spelling per value keeps the file canonical.
bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

StatusOr<Measurement> MeasureFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return FileError("cannot open", path, errno);
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return InternalError("cannot start SHA-256 for " + path);
  }
  std::vector<uint8_t> buffer(1 << 16);
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError("cannot read", path, errno);
    }
    if (n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(n)) != 1) {
      return InternalError("SHA-256 failed for " + path);
    }
  }
  Measurement out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    return InternalError("SHA-256 failed for " + path);
  }
  return out;
}

StatusOr<Measurement> MeasureSelf() {
  return MeasureFile("/proc/self/exe");
}

std::string MeasurementHex(const Measurement& m) {
  return HexEncode(m);
}

StatusOr<Measurement> ParseMeasurementHex(std::string_view hex) {
  if (hex.size() != 64) {
    return InvalidArgumentError("a measurement is 64 hex digits, got " + std::to_string(hex.size()) + " characters");
  }
  auto bytes = HexDecode(hex);
  if (!bytes) return InvalidArgumentError("measurement is not hex");
  Measurement out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

Measurement SignerIdOf(const crypto::PublicKey& signer) {
  const auto compressed = signer.Compressed();
  return crypto::Sha256(compressed);
}

StatusOr<SigStruct> SigStruct::Sign(const crypto::PrivateKey& signer, const Measurement& measurement,
                                    uint32_t isv_svn) {
  SigStruct s{signer.public_key(), measurement, isv_svn, {}};
  s.signature = signer.Sign(SignedMessage(s));
  return s;
}

Status SigStruct::Verify() const {
  if (!signer.Verify(SignedMessage(*this), signature)) {
    return UnauthenticatedError("sigstruct signature does not verify for signer " + HexEncode(signer.Compressed()) +
                                " and measurement " + MeasurementHex(measurement));
  }
  return Status::Ok();
}

Measurement SigStruct::SignerId() const {
  return SignerIdOf(signer);
}

std::string SigStruct::Encode() const {
  boost::json::object o;
  o["signer"] = HexEncode(signer.Compressed());
  o["measurement"] = MeasurementHex(measurement);
  o["isv_svn"] = isv_svn;
  o["signature"] = HexEncode(signature);
  return boost::json::serialize(o);
}

StatusOr<SigStruct> SigStruct::Decode(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(boost::json::string_view(json.data(), json.size()), ec);
  if (ec) return InvalidArgumentError("sigstruct is not valid JSON: " + ec.message());
  if (!v.is_object()) return InvalidArgumentError("sigstruct must be a JSON object");
  const auto& o = v.as_object();
  for (const auto& [key, unused] : o) {
    if (key != "signer" && key != "measurement" && key != "isv_svn" && key != "signature") {
      return InvalidArgumentError("sigstruct has an unknown field \"" + std::string(key) + "\"");
    }
  }
  auto string_field = [&](const char* name) -> StatusOr<std::string_view> {
    const auto* f = o.if_contains(name);
    if (f == nullptr || !f->is_string()) {
      return InvalidArgumentError(std::string("sigstruct field \"") + name + "\" must be a string");
    }
    const std::string_view s(f->as_string().data(), f->as_string().size());
    if (!IsLowerHex(s))
      return InvalidArgumentError(std::string("sigstruct field \"") + name + "\" is not lowercase hex");
    return s;
  };
  ASSIGN_OR_RETURN(std::string_view signer_hex, string_field("signer"));
  ASSIGN_OR_RETURN(std::string_view measurement_hex, string_field("measurement"));
  ASSIGN_OR_RETURN(std::string_view signature_hex, string_field("signature"));
  const auto* svn = o.if_contains("isv_svn");
  if (svn == nullptr || !(svn->is_int64() || svn->is_uint64())) {
    return InvalidArgumentError("sigstruct field \"isv_svn\" must be an integer");
  }
  const bool in_range = svn->is_uint64() ? svn->as_uint64() <= UINT32_MAX
                                         : svn->as_int64() >= 0 && svn->as_int64() <= int64_t{UINT32_MAX};
  if (!in_range) return InvalidArgumentError("sigstruct field \"isv_svn\" must be in [0, 4294967295]");

  if (signer_hex.size() != 66) return InvalidArgumentError("sigstruct signer must be a 33-byte compressed key");
  auto signer = crypto::PublicKey::FromHex(signer_hex);
  if (!signer.ok()) return signer.status().Annotate("sigstruct signer");
  auto measurement = ParseMeasurementHex(measurement_hex);
  if (!measurement.ok()) return measurement.status().Annotate("sigstruct");
  if (signature_hex.size() != 128) return InvalidArgumentError("sigstruct signature must be 64 bytes (128 hex digits)");
  auto sig_bytes = HexDecode(signature_hex);
  if (!sig_bytes) return InvalidArgumentError("sigstruct signature is not hex");

  SigStruct s{*signer,
              *measurement,
              static_cast<uint32_t>(svn->is_uint64() ? svn->as_uint64() : static_cast<uint64_t>(svn->as_int64())),
              {}};
  std::copy(sig_bytes->begin(), sig_bytes->end(), s.signature.begin());
  return s;
}

}  // namespace neosl::tee
