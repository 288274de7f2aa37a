// ECVRF-P256-SHA256-TAI on OpenSSL's P-256 (ecp_nistz256 on x86-64).
//
// Scalar multiplications are OpenSSL's: a secret scalar (x or the nonce k) is only ever passed
// with BN_FLG_CONSTTIME to a single-scalar EC_POINT_mul, which runs on nistz256's fixed-window
// code (or on the Montgomery ladder where nistz256 is not built). s = k + c*x is p256_scalar's
// constant-time Montgomery arithmetic. Verify handles public data only and uses two-scalar
// multiplications.
//
// The one piece of field arithmetic done here is the square root behind string_to_point.
// try-and-increment decodes two candidate strings per input on average and Verify decodes two
// more points; EC_POINT_oct2point spends about 10 us on each (BN_mod_sqrt on generic BN
// exponentiation), a quarter of a whole proof. A fixed addition chain over 4x64-bit Montgomery
// arithmetic modulo p takes about 3.5 us, and OpenSSL still checks the decoded point against the
// curve when it parses the uncompressed form.
//
// Where the time goes (bench/vrf_bench.cpp): a proof is two variable-base multiplications by
// secret scalars on the fresh point H (x*H and k*H, about 28 us each on nistz256) plus k*B, and
// these are three quarters of it; ECDSA signing needs only the fixed-base k*G.
#include "crypto/ecvrf.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "crypto/hash.h"
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

// ---- Arithmetic modulo p = 2^256 - 2^224 + 2^192 + 2^96 - 1, for string_to_point ----
//
// Public inputs only (candidate strings, proofs, public keys), though nothing here branches on
// values anyway. Elements are little-endian 64-bit limbs in Montgomery form (R = 2^256) and
// always fully reduced, so equal elements have equal limbs.
namespace field {

// GCC's 128-bit integer gives the full 64x64 product; __extension__ keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 u128;
using Fe = std::array<uint64_t, 4>;

constexpr Fe kP = {0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000000, 0xffffffff00000001};
constexpr Fe kR2 = {0x0000000000000003, 0xfffffffbffffffff, 0xfffffffffffffffe, 0x00000004fffffffd};     // R^2 mod p
constexpr Fe kBMont = {0xd89cdf6229c4bddf, 0xacf005cd78843090, 0xe5a220abf7212ed6, 0xdc30061d04874834};  // b R
constexpr Fe kOne = {1, 0, 0, 0};

// Add and subtract with carry. GCC 12 turns the x86-64 intrinsics into adc/sbb chains held in
// registers; its code for the same chains written with unsigned __int128 spills to the stack and
// made the square root twice as slow.
#if defined(__x86_64__)
[[gnu::always_inline]] inline uint64_t Adc(uint64_t a, uint64_t b, unsigned char& carry) {
  unsigned long long sum = 0;  // the intrinsic's type
  carry = _addcarry_u64(carry, a, b, &sum);
  return sum;
}
[[gnu::always_inline]] inline uint64_t Sbb(uint64_t a, uint64_t b, unsigned char& borrow) {
  unsigned long long diff = 0;
  borrow = _subborrow_u64(borrow, a, b, &diff);
  return diff;
}
#else
[[gnu::always_inline]] inline uint64_t Adc(uint64_t a, uint64_t b, unsigned char& carry) {
  uint64_t sum = 0;
  const bool c1 = __builtin_add_overflow(a, b, &sum);
  const bool c2 = __builtin_add_overflow(sum, uint64_t{carry}, &sum);
  carry = static_cast<unsigned char>(c1 | c2);
  return sum;
}
[[gnu::always_inline]] inline uint64_t Sbb(uint64_t a, uint64_t b, unsigned char& borrow) {
  uint64_t diff = 0;
  const bool b1 = __builtin_sub_overflow(a, b, &diff);
  const bool b2 = __builtin_sub_overflow(diff, uint64_t{borrow}, &diff);
  borrow = static_cast<unsigned char>(b1 | b2);
  return diff;
}
#endif

[[gnu::always_inline]] inline void MulWide(uint64_t a, uint64_t b, uint64_t& hi, uint64_t& lo) {
  const u128 product = static_cast<u128>(a) * b;
  lo = static_cast<uint64_t>(product);
  hi = static_cast<uint64_t>(product >> 64);
}

// t (with a fifth limb `top`) minus p if that does not go negative; t must be below 2p.
[[gnu::always_inline]] inline Fe ReduceOnce(uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3, uint64_t top) {
  unsigned char borrow = 0;
  const uint64_t d0 = Sbb(t0, kP[0], borrow);
  const uint64_t d1 = Sbb(t1, kP[1], borrow);
  const uint64_t d2 = Sbb(t2, kP[2], borrow);
  const uint64_t d3 = Sbb(t3, kP[3], borrow);
  Sbb(top, 0, borrow);
  const uint64_t keep_t = uint64_t{0} - borrow;  // t < p
  return {(t0 & keep_t) | (d0 & ~keep_t), (t1 & keep_t) | (d1 & ~keep_t), (t2 & keep_t) | (d2 & ~keep_t),
          (t3 & keep_t) | (d3 & ~keep_t)};
}

// Montgomery reduction, one limb at a time: adding m p for m = r[0] clears r[0]. -p^-1 mod 2^64
// is 1, so m is just the low limb, and m (2^64 - 1) + r[0] = m 2^64 exactly: the step adds m,
// m (2^32 - 1) and m p[3] one, one and three limbs up. `pending` is the carry out of the
// previous step, owed to r[4].
[[gnu::always_inline]] inline void ReduceStep(uint64_t* r, uint64_t& pending) {
  const uint64_t m = r[0];
  uint64_t mh1 = 0, ml1 = 0, mh3 = 0, ml3 = 0;
  MulWide(m, kP[1], mh1, ml1);
  MulWide(m, kP[3], mh3, ml3);
  unsigned char c = 0;
  r[1] = Adc(r[1], m, c);
  r[2] = Adc(r[2], 0, c);
  r[3] = Adc(r[3], 0, c);
  r[4] = Adc(r[4], pending, c);
  pending = c;
  c = 0;
  r[1] = Adc(r[1], ml1, c);
  r[2] = Adc(r[2], mh1, c);
  r[3] = Adc(r[3], ml3, c);
  r[4] = Adc(r[4], mh3, c);
  pending += c;
}

// a b / R mod p, interleaving each row of the product with one reduction step (CIOS), so the
// running value is six limbs. Mul and Sqr are inlined and unrolled so that GCC keeps the limbs
// in registers; called out of line, each returned its array through memory and the square root
// took half as long again.
[[gnu::always_inline]] inline Fe Mul(const Fe& a, const Fe& b) {
  uint64_t t[6] = {};
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    uint64_t h0 = 0, l0 = 0, h1 = 0, l1 = 0, h2 = 0, l2 = 0, h3 = 0, l3 = 0;
    MulWide(a[0], b[i], h0, l0);
    MulWide(a[1], b[i], h1, l1);
    MulWide(a[2], b[i], h2, l2);
    MulWide(a[3], b[i], h3, l3);
    unsigned char c = 0;
    t[0] = Adc(t[0], l0, c);
    t[1] = Adc(t[1], l1, c);
    t[2] = Adc(t[2], l2, c);
    t[3] = Adc(t[3], l3, c);
    t[4] = Adc(t[4], 0, c);
    t[5] = c;
    c = 0;
    t[1] = Adc(t[1], h0, c);
    t[2] = Adc(t[2], h1, c);
    t[3] = Adc(t[3], h2, c);
    t[4] = Adc(t[4], h3, c);
    t[5] += c;
    uint64_t pending = 0;
    ReduceStep(t, pending);  // clears t[0]; t[5] absorbs the carry
    t[0] = t[1];
    t[1] = t[2];
    t[2] = t[3];
    t[3] = t[4];
    t[4] = t[5] + pending;
  }
  return ReduceOnce(t[0], t[1], t[2], t[3], t[4]);
}

// a^2 / R mod p: each cross product once, doubled, plus the squares; then four reduction steps.
[[gnu::always_inline]] inline Fe Sqr(const Fe& a) {
  uint64_t h01 = 0, l01 = 0, h02 = 0, l02 = 0, h03 = 0, l03 = 0, h12 = 0, l12 = 0, h13 = 0, l13 = 0, h23 = 0, l23 = 0;
  MulWide(a[0], a[1], h01, l01);
  MulWide(a[0], a[2], h02, l02);
  MulWide(a[0], a[3], h03, l03);
  MulWide(a[1], a[2], h12, l12);
  MulWide(a[1], a[3], h13, l13);
  MulWide(a[2], a[3], h23, l23);
  uint64_t r[8] = {};
  unsigned char c = 0;
  r[1] = l01;  // row 0: a0 (a1, a2, a3) from limb 1
  r[2] = Adc(h01, l02, c);
  r[3] = Adc(h02, l03, c);
  r[4] = Adc(h03, 0, c);
  c = 0;  // a1 a2 from limb 3
  r[3] = Adc(r[3], l12, c);
  r[4] = Adc(r[4], h12, c);
  r[5] = c;
  c = 0;  // a1 a3 from limb 4
  r[4] = Adc(r[4], l13, c);
  r[5] = Adc(r[5], h13, c);
  r[6] = c;
  c = 0;  // a2 a3 from limb 5
  r[5] = Adc(r[5], l23, c);
  r[6] = Adc(r[6], h23, c);
  r[7] = c;
#pragma GCC unroll 8
  for (int i = 7; i > 0; --i) r[i] = (r[i] << 1) | (r[i - 1] >> 63);
  r[0] = 0;
  c = 0;
#pragma GCC unroll 4
  for (size_t i = 0; i < 4; ++i) {
    uint64_t hi = 0, lo = 0;
    MulWide(a[i], a[i], hi, lo);
    r[2 * i] = Adc(r[2 * i], lo, c);
    r[2 * i + 1] = Adc(r[2 * i + 1], hi, c);
  }
  uint64_t pending = 0;
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) ReduceStep(r + i, pending);
  return ReduceOnce(r[4], r[5], r[6], r[7], pending);
}

Fe Add(const Fe& a, const Fe& b) {
  unsigned char c = 0;
  const uint64_t s0 = Adc(a[0], b[0], c);
  const uint64_t s1 = Adc(a[1], b[1], c);
  const uint64_t s2 = Adc(a[2], b[2], c);
  const uint64_t s3 = Adc(a[3], b[3], c);
  return ReduceOnce(s0, s1, s2, s3, c);
}

Fe Sub(const Fe& a, const Fe& b) {
  unsigned char borrow = 0;
  Fe d{};
  for (int i = 0; i < 4; ++i) d[i] = Sbb(a[i], b[i], borrow);
  const uint64_t mask = uint64_t{0} - borrow;  // add p back if a < b
  unsigned char c = 0;
  for (int i = 0; i < 4; ++i) d[i] = Adc(d[i], kP[i] & mask, c);
  return d;
}

Fe SqrN(Fe a, int n) {
  for (int i = 0; i < n; ++i) a = Sqr(a);
  return a;
}

// a^((p+1)/4), a square root of a when one exists (p = 3 mod 4). The exponent is
// 2^254 - 2^222 + 2^190 + 2^94: 32 ones, then single bits at 190 and 94. 253 squarings and
// 7 multiplications.
Fe SqrtCandidate(const Fe& a) {
  const Fe x2 = Mul(SqrN(a, 1), a);     // a^(2^2 - 1)
  const Fe x4 = Mul(SqrN(x2, 2), x2);   // a^(2^4 - 1)
  const Fe x8 = Mul(SqrN(x4, 4), x4);   // a^(2^8 - 1)
  const Fe x16 = Mul(SqrN(x8, 8), x8);  // a^(2^16 - 1)
  const Fe x32 = Mul(SqrN(x16, 16), x16);
  Fe r = Mul(SqrN(x32, 32), a);  // bits 253..222 and 190, counted from the end
  r = Mul(SqrN(r, 96), a);       // bit 94
  return SqrN(r, 94);
}

bool LessThanP(const Fe& a) {
  unsigned char borrow = 0;
  for (int i = 0; i < 4; ++i) Sbb(a[i], kP[i], borrow);
  return borrow != 0;
}

Fe FromBigEndian(const uint8_t* bytes) {
  Fe out{};
  for (int limb = 0; limb < 4; ++limb) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | bytes[(3 - limb) * 8 + i];
    out[limb] = v;
  }
  return out;
}

void ToBigEndian(const Fe& a, uint8_t* bytes) {
  for (int limb = 0; limb < 4; ++limb) {
    for (int i = 0; i < 8; ++i) bytes[(3 - limb) * 8 + i] = static_cast<uint8_t>(a[limb] >> (56 - 8 * i));
  }
}

}  // namespace field

// SEC1 2.3.4 for a compressed string: x below p, x^3 - 3x + b a square, y of the given parity.
std::optional<Uncompressed> Decompress(std::span<const uint8_t, kPointSize> in) {
  using namespace field;
  if (in[0] != 0x02 && in[0] != 0x03) return std::nullopt;
  const Fe x = FromBigEndian(in.data() + 1);
  if (!LessThanP(x)) return std::nullopt;
  const Fe xm = Mul(x, kR2);
  const Fe rhs = Sub(Add(Mul(Mul(xm, xm), xm), kBMont), Add(Add(xm, xm), xm));
  const Fe ym = SqrtCandidate(rhs);
  if (Mul(ym, ym) != rhs) return std::nullopt;
  Fe y = Mul(ym, kOne);
  if ((y[0] & 1) != (in[0] & 1)) y = Sub(Fe{}, y);
  if ((y[0] & 1) != (in[0] & 1)) return std::nullopt;  // y = 0 has no odd twin (and P-256 has no such point)
  Uncompressed out{};
  out[0] = 0x04;
  std::memcpy(out.data() + 1, in.data() + 1, 32);
  ToBigEndian(y, out.data() + 33);
  return out;
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
  const std::optional<Uncompressed> full = Decompress(in);
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
  return Decompress(compressed.first<kPointSize>());
}

}  // namespace internal

}  // namespace neosl::crypto::ecvrf
