// ECVRF-P256-SHA256-TAI on OpenSSL's P-256 (ecp_nistz256 on x86-64).
//
// Scalar multiplications are OpenSSL's: a secret scalar (x or the nonce k) is only ever passed
// with BN_FLG_CONSTTIME to a single-scalar EC_POINT_mul, which runs on nistz256's fixed-window
// code (or on the Montgomery ladder where nistz256 is not built). s = k + c*x is p256_scalar's
// constant-time Montgomery arithmetic. Verify handles public data only and uses two-scalar
// multiplications.
//
// string_to_point decompresses with p256_field's square root: try-and-increment decodes two
// candidate strings per input on average and Verify decodes two more points, and
// EC_POINT_oct2point spends about 10 us on each (BN_mod_sqrt on generic BN exponentiation), a
// quarter of a whole proof. OpenSSL still checks the decoded point against the curve when it
// parses the uncompressed form.
//
// Where the time goes (bench/vrf_bench.cpp): a proof is two variable-base multiplications by
// secret scalars on the fresh point H (x*H and k*H, about 28 us each on nistz256) plus k*B, and
// these are three quarters of it; ECDSA signing needs only the fixed-base k*G.
#include "crypto/ecvrf.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "crypto/hash.h"
#include "crypto/p256_field.h"
#include "crypto/p256_scalar.h"

namespace neosl::crypto::ecvrf {
namespace {

using internal::PointBytes;
using Uncompressed = std::array<uint8_t, 65>;

constexpr size_t kPointSize = 33;
constexpr size_t kChallengeSize = 16;  // cLen
constexpr size_t kScalarSize = 32;     // qLen
static_assert(kProofSize == kPointSize + kChallengeSize + kScalarSize);

// Domain separators of RFC 9381: encode_to_curve, challenge_generation, proof_to_hash; each hash
// input ends in 0x00.
constexpr uint8_t kEncodeToCurveFront = 0x01;
constexpr uint8_t kChallengeFront = 0x02;
constexpr uint8_t kProofToHashFront = 0x03;
constexpr uint8_t kBack = 0x00;

// q = n, the order of the base point, big-endian.
constexpr std::array<uint8_t, kScalarSize> kOrder = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                                                     0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

[[noreturn]] void Fatal(const char* what) {
  // Only a broken OpenSSL or an allocation failure gets here: Prove has no error channel, and a
  // wrong proof would be worse than stopping.
  std::fprintf(stderr, "fatal: ECVRF: %s\n", what);
  std::abort();
}

// ---- OpenSSL plumbing ----

const EC_GROUP* Group() {
  static const EC_GROUP* const group = [] {
    EC_GROUP* g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (g == nullptr) Fatal("cannot create the secp256r1 group");
    return g;
  }();
  return group;
}

// Per thread: a BN_CTX and the points of one Prove or Verify, so that neither allocates points.
struct Scratch {
  BN_CTX* ctx = BN_CTX_new();
  EC_POINT* y = EC_POINT_new(Group());
  EC_POINT* h = EC_POINT_new(Group());
  EC_POINT* gamma = EC_POINT_new(Group());
  EC_POINT* u = EC_POINT_new(Group());
  EC_POINT* v = EC_POINT_new(Group());
  Scratch() {
    if (ctx == nullptr || y == nullptr || h == nullptr || gamma == nullptr || u == nullptr || v == nullptr) {
      Fatal("cannot allocate scratch space");
    }
  }
  ~Scratch() {
    for (EC_POINT* p : {y, h, gamma, u, v}) EC_POINT_clear_free(p);
    BN_CTX_free(ctx);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// r = scalars[0] points[0] + scalars[1] points[1], public scalars only. OpenSSL 3.0 deprecates
// EC_POINTs_mul without a replacement; two EC_POINT_mul calls and an add would cost Verify about
// 18 us more here (nistz256 shares the doublings between the two scalars).
int TwoScalarMul(EC_POINT* r, const EC_POINT* const points[2], const BIGNUM* const scalars[2], BN_CTX* ctx) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  // OpenSSL's array parameters predate const-correct pointers to const.
  return EC_POINTs_mul(Group(), r, nullptr, 2, const_cast<const EC_POINT**>(points),
                       const_cast<const BIGNUM**>(scalars), ctx);
#pragma GCC diagnostic pop
}

// string_to_point into `out`; false if the string is not a point.
bool DecodePoint(std::span<const uint8_t, kPointSize> in, EC_POINT* out, BN_CTX* ctx) {
  const std::optional<Uncompressed> full = p256_field::Decompress(in);
  // OpenSSL checks the uncompressed point against the curve equation once more, with its own code.
  if (!full || EC_POINT_oct2point(Group(), out, full->data(), full->size(), ctx) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

// point_to_string; the point must not be the identity.
PointBytes EncodePoint(const EC_POINT* point, BN_CTX* ctx) {
  PointBytes out{};
  if (EC_POINT_point2oct(Group(), point, POINT_CONVERSION_COMPRESSED, out.data(), out.size(), ctx) != out.size()) {
    Fatal("cannot encode a point");
  }
  return out;
}

// ECVRF_encode_to_curve_try_and_increment: H into `h`, point_to_string(H) returned.
std::optional<PointBytes> TryAndIncrement(std::span<const uint8_t> pk_string, std::span<const uint8_t> alpha,
                                          EC_POINT* h, BN_CTX* ctx) {
  // suite ‖ 0x01 ‖ salt ‖ alpha ‖ ctr ‖ 0x00, hashed once per counter value.
  std::vector<uint8_t> input;
  input.reserve(2 + pk_string.size() + alpha.size() + 2);
  input.push_back(kSuite);
  input.push_back(kEncodeToCurveFront);
  input.insert(input.end(), pk_string.begin(), pk_string.end());
  input.insert(input.end(), alpha.begin(), alpha.end());
  const size_t ctr_at = input.size();
  input.push_back(0);
  input.push_back(kBack);
  for (unsigned ctr = 0; ctr <= 0xff; ++ctr) {
    input[ctr_at] = static_cast<uint8_t>(ctr);
    const Digest256 hash = Sha256(input);
    // arbitrary_string_to_point(s) = string_to_point(0x02 ‖ s)
    PointBytes candidate{};
    candidate[0] = 0x02;
    std::memcpy(candidate.data() + 1, hash.data(), hash.size());
    if (DecodePoint(candidate, h, ctx)) return candidate;  // never the identity: it has an x
  }
  return std::nullopt;
}

// ECVRF_challenge_generation(P1..P5) with P1 = Y, P2 = H, P3 = Gamma, P4 = U, P5 = V.
using PointView = std::span<const uint8_t, kPointSize>;
std::array<uint8_t, kChallengeSize> Challenge(PointView y, PointView h, PointView gamma, PointView u, PointView v) {
  std::array<uint8_t, 2 + 5 * kPointSize + 1> input{};
  input[0] = kSuite;
  input[1] = kChallengeFront;
  uint8_t* at = input.data() + 2;
  for (const uint8_t* point : {y.data(), h.data(), gamma.data(), u.data(), v.data()}) {
    std::memcpy(at, point, kPointSize);
    at += kPointSize;
  }
  *at = kBack;
  const Digest256 hash = Sha256(input);
  std::array<uint8_t, kChallengeSize> c{};
  std::memcpy(c.data(), hash.data(), c.size());
  return c;
}

// beta = Hash(suite ‖ 0x03 ‖ point_to_string(cofactor * Gamma) ‖ 0x00); the cofactor is 1, and a
// decoded Gamma re-encodes to the very bytes it came from.
Output HashGamma(std::span<const uint8_t, kPointSize> gamma) {
  std::array<uint8_t, 2 + kPointSize + 1> input{};
  input[0] = kSuite;
  input[1] = kProofToHashFront;
  std::memcpy(input.data() + 2, gamma.data(), kPointSize);
  input.back() = kBack;
  return Sha256(input);
}

struct DecodedProof {
  std::span<const uint8_t, kPointSize> gamma;
  std::span<const uint8_t, kChallengeSize> c;
  std::span<const uint8_t, kScalarSize> s;
};

// ECVRF_decode_proof: Gamma into `gamma`, and the three fields of pi.
StatusOr<DecodedProof> DecodeProof(std::span<const uint8_t> pi, EC_POINT* gamma, BN_CTX* ctx) {
  if (pi.size() != kProofSize) {
    return InvalidArgumentError("proof must be 81 bytes, got " + std::to_string(pi.size()));
  }
  DecodedProof proof{pi.first<kPointSize>(), pi.subspan<kPointSize, kChallengeSize>(),
                     pi.subspan<kPointSize + kChallengeSize, kScalarSize>()};
  if (!DecodePoint(proof.gamma, gamma, ctx)) return InvalidArgumentError("Gamma is not a point on P-256");
  // Big-endian and fixed width, so byte order is integer order; all of it is public.
  if (std::memcmp(proof.s.data(), kOrder.data(), kScalarSize) >= 0) {
    return InvalidArgumentError("s is not below the group order");
  }
  return proof;
}

// The verifier's side up to the recomputed challenge: validate_key, decode_proof,
// encode_to_curve, U and V.
StatusOr<internal::VerifierPoints> Recompute(std::span<const uint8_t> public_key, std::span<const uint8_t> pi,
                                             std::span<const uint8_t> alpha, Scratch& scratch) {
  BN_CTX* ctx = scratch.ctx;
  if (public_key.size() != kPointSize ||
      !DecodePoint(public_key.first<kPointSize>(), scratch.y, ctx)) {  // a 33-byte string is never the identity
    return InvalidArgumentError("public key is not a valid point (33-byte compressed P-256 point expected)");
  }
  ASSIGN_OR_RETURN(const DecodedProof proof, DecodeProof(pi, scratch.gamma, ctx));
  internal::VerifierPoints out;
  const std::optional<PointBytes> h = TryAndIncrement(public_key, alpha, scratch.h, ctx);
  if (!h) return InvalidArgumentError("alpha has no point under try-and-increment");
  out.h = *h;

  BN_CTX_start(ctx);
  BIGNUM* c = BN_CTX_get(ctx);
  BIGNUM* s = BN_CTX_get(ctx);
  if (s == nullptr || BN_bin2bn(proof.c.data(), kChallengeSize, c) == nullptr ||
      BN_bin2bn(proof.s.data(), kScalarSize, s) == nullptr) {
    Fatal("BN_CTX_get failed");
  }
  // U = s*B - c*Y and V = s*H - c*Gamma, as s*B + c*(-Y) and s*H + c*(-Gamma).
  const EC_POINT* points[2] = {scratch.h, scratch.gamma};
  const BIGNUM* scalars[2] = {s, c};
  if (EC_POINT_invert(Group(), scratch.y, ctx) != 1 || EC_POINT_invert(Group(), scratch.gamma, ctx) != 1 ||
      EC_POINT_mul(Group(), scratch.u, s, scratch.y, c, ctx) != 1 ||
      TwoScalarMul(scratch.v, points, scalars, ctx) != 1) {
    Fatal("computing U and V failed");
  }
  BN_CTX_end(ctx);
  // An honest proof never gives the identity (k is in [1, q-1] and B, H have order q), and
  // point_to_string has no 33-byte form for it; accepting such a proof would need c to equal a
  // hash of itself, so refusing it outright changes nothing for any proof a prover can make.
  if (EC_POINT_is_at_infinity(Group(), scratch.u) == 1 || EC_POINT_is_at_infinity(Group(), scratch.v) == 1) {
    return InvalidArgumentError("proof does not verify");
  }
  out.u = EncodePoint(scratch.u, ctx);
  out.v = EncodePoint(scratch.v, ctx);
  return out;
}

}  // namespace

Proof Prove(const PrivateKey& key, std::span<const uint8_t> alpha) {
  namespace ps = p256_scalar;
  Scratch& scratch = ThreadScratch();
  BN_CTX* ctx = scratch.ctx;
  const PointBytes pk = key.public_key().Compressed();
  const std::optional<PointBytes> h = TryAndIncrement(pk, alpha, scratch.h, ctx);
  if (!h) Fatal("try-and-increment found no point (probability about 2^-256)");
  const std::span<const uint8_t, kScalarSize> x = key.bytes().bytes().first<kScalarSize>();
  const SecretBytes k = internal::Nonce(key, *h);
  const std::span<const uint8_t, kScalarSize> k_bytes = k.bytes().first<kScalarSize>();

  // Gamma = x*H, U = k*B, V = k*H: single-scalar multiplications with constant-time scalars.
  BN_CTX_start(ctx);
  BIGNUM* x_bn = BN_CTX_get(ctx);
  BIGNUM* k_bn = BN_CTX_get(ctx);
  if (k_bn == nullptr) Fatal("BN_CTX_get failed");
  BN_set_flags(x_bn, BN_FLG_CONSTTIME);
  BN_set_flags(k_bn, BN_FLG_CONSTTIME);
  if (BN_bin2bn(x.data(), kScalarSize, x_bn) == nullptr || BN_bin2bn(k_bytes.data(), kScalarSize, k_bn) == nullptr ||
      EC_POINT_mul(Group(), scratch.gamma, nullptr, scratch.h, x_bn, ctx) != 1 ||
      EC_POINT_mul(Group(), scratch.u, k_bn, nullptr, nullptr, ctx) != 1 ||
      EC_POINT_mul(Group(), scratch.v, nullptr, scratch.h, k_bn, ctx) != 1) {
    Fatal("scalar multiplication failed");
  }
  BN_clear(x_bn);
  BN_clear(k_bn);
  BN_CTX_end(ctx);

  Proof pi{};
  const PointBytes gamma = EncodePoint(scratch.gamma, ctx);
  const std::array<uint8_t, kChallengeSize> c =
      Challenge(pk, *h, gamma, EncodePoint(scratch.u, ctx), EncodePoint(scratch.v, ctx));

  // s = (k + c*x) mod q. c < 2^128 < q, and MontMul(c, xR) = c*x.
  std::array<uint8_t, kScalarSize> c_wide{};
  std::memcpy(c_wide.data() + kScalarSize - kChallengeSize, c.data(), kChallengeSize);
  ps::Limbs x_limbs = ps::FromBytes(x);
  ps::Limbs x_mont = ps::ToMont(x_limbs);
  ps::Limbs k_limbs = ps::FromBytes(k_bytes);
  ps::Limbs cx = ps::MontMul(ps::FromBytes(c_wide), x_mont);
  ps::Limbs s = ps::Add(k_limbs, cx);
  std::memcpy(pi.data(), gamma.data(), kPointSize);
  std::memcpy(pi.data() + kPointSize, c.data(), kChallengeSize);
  ps::ToBytes(s, std::span<uint8_t, kScalarSize>(pi.data() + kPointSize + kChallengeSize, kScalarSize));
  for (ps::Limbs* secret : {&x_limbs, &x_mont, &k_limbs, &cx, &s}) OPENSSL_cleanse(secret->data(), sizeof(*secret));
  return pi;
}

StatusOr<Output> ProofToHash(std::span<const uint8_t> pi) {
  Scratch& scratch = ThreadScratch();
  ASSIGN_OR_RETURN(const DecodedProof proof, DecodeProof(pi, scratch.gamma, scratch.ctx));
  return HashGamma(proof.gamma);
}

StatusOr<Output> Verify(std::span<const uint8_t> public_key, std::span<const uint8_t> pi,
                        std::span<const uint8_t> alpha) {
  ASSIGN_OR_RETURN(const internal::VerifierPoints points, Recompute(public_key, pi, alpha, ThreadScratch()));
  // Recompute has checked every size.
  const std::array<uint8_t, kChallengeSize> c =
      Challenge(public_key.first<kPointSize>(), points.h, pi.first<kPointSize>(), points.u, points.v);
  if (CRYPTO_memcmp(c.data(), pi.data() + kPointSize, kChallengeSize) != 0) {
    return InvalidArgumentError("proof does not verify");
  }
  return HashGamma(pi.first<kPointSize>());
}

namespace internal {

StatusOr<PointBytes> EncodeToCurve(std::span<const uint8_t> pk_string, std::span<const uint8_t> alpha) {
  Scratch& scratch = ThreadScratch();
  std::optional<PointBytes> h = TryAndIncrement(pk_string, alpha, scratch.h, scratch.ctx);
  if (!h) return InvalidArgumentError("alpha has no point under try-and-increment");
  return *h;
}

SecretBytes Nonce(const PrivateKey& key, std::span<const uint8_t> h_string) {
  // Section 5.4.2.1 is RFC 6979 section 3.2 with m = h_string: exactly the nonce ECDSA signing
  // would use for the message h_string (h1 = SHA-256(m), reduced mod q), so the generator is
  // shared with p256.cpp.
  return crypto::internal::Rfc6979Nonce(key, h_string);
}

StatusOr<VerifierPoints> RecomputePoints(std::span<const uint8_t> public_key, std::span<const uint8_t> pi,
                                         std::span<const uint8_t> alpha) {
  return Recompute(public_key, pi, alpha, ThreadScratch());
}

std::optional<std::array<uint8_t, 65>> DecompressPoint(std::span<const uint8_t> compressed) {
  if (compressed.size() != kPointSize) return std::nullopt;
  return p256_field::Decompress(compressed.first<kPointSize>());
}

}  // namespace internal

}  // namespace neosl::crypto::ecvrf
