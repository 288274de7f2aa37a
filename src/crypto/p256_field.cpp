// Arithmetic modulo the P-256 prime, for decoding compressed points (p256_field.h).
#include "crypto/p256_field.h"

#include <cstring>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace neosl::crypto::p256_field {
namespace {

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

}  // namespace

// SEC1 2.3.4 for a compressed string: x below p, x^3 - 3x + b a square, y of the given parity.
std::optional<std::array<uint8_t, 65>> Decompress(std::span<const uint8_t, 33> in) {
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
  std::array<uint8_t, 65> out{};
  out[0] = 0x04;
  std::memcpy(out.data() + 1, in.data() + 1, 32);
  ToBigEndian(y, out.data() + 33);
  return out;
}

}  // namespace neosl::crypto::p256_field
