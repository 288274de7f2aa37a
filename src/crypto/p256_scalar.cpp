#include "crypto/p256_scalar.h"

#include <openssl/crypto.h>

namespace neosl::crypto::p256_scalar {
namespace {

// GCC's 128-bit integer gives the full 64x64 product; __extension__ keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 u128;

// n = FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
constexpr Limbs kN = {0xF3B9CAC2FC632551ull, 0xBCE6FAADA7179E84ull, 0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFF00000000ull};
constexpr uint64_t kN0 = 0xCCD1C8AAEE00BC4Full;  // -n^-1 mod 2^64
constexpr Limbs kR2 = {0x83244C95BE79EEA2ull, 0x4699799C49BD6FA6ull, 0x2845B2392B6BEC59ull,
                       0x66E12D94F3D95620ull};  // R^2 mod n
// n - 2, the Fermat exponent; public, so walking its bits leaks nothing.
constexpr Limbs kNMinus2 = {0xF3B9CAC2FC63254Full, 0xBCE6FAADA7179E84ull, 0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFF00000000ull};

// d = a - b - borrow; borrow becomes the borrow out. __builtin_sub_overflow compiles to sub/sbb
// without branches.
[[gnu::always_inline]] inline uint64_t SubWithBorrow(uint64_t a, uint64_t b, uint64_t& borrow) {
  uint64_t d = 0;
  const uint64_t b1 = __builtin_sub_overflow(a, b, &d);
  const uint64_t b2 = __builtin_sub_overflow(d, borrow, &d);
  borrow = b1 | b2;
  return d;
}

// Returns t - n if t (with a top bit `carry`) is >= n, else t; branch-free.
[[gnu::always_inline]] inline Limbs ConditionalSubtractN(uint64_t t0, uint64_t t1, uint64_t t2, uint64_t t3,
                                                         uint64_t carry) {
  uint64_t borrow = 0;
  const uint64_t s0 = SubWithBorrow(t0, kN[0], borrow);
  const uint64_t s1 = SubWithBorrow(t1, kN[1], borrow);
  const uint64_t s2 = SubWithBorrow(t2, kN[2], borrow);
  const uint64_t s3 = SubWithBorrow(t3, kN[3], borrow);
  // Keep t only if the subtraction borrowed and there was no carry out (i.e. t < n).
  const uint64_t keep = uint64_t{0} - (borrow & (carry ^ 1));
  return {(t0 & keep) | (s0 & ~keep), (t1 & keep) | (s1 & ~keep), (t2 & keep) | (s2 & ~keep),
          (t3 & keep) | (s3 & ~keep)};
}

// CIOS Montgomery multiplication: interleaves the product's rows with the reduction so the
// running value stays below 2n (five limbs). Inlined into the exponentiation loop, where it runs
// about 300 times per signature.
[[gnu::always_inline]] inline Limbs MulImpl(const Limbs& a, const Limbs& b) {
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t bi = b[i];
    u128 c = static_cast<u128>(a[0]) * bi + t0;
    t0 = static_cast<uint64_t>(c);
    c = (c >> 64) + static_cast<u128>(a[1]) * bi + t1;
    t1 = static_cast<uint64_t>(c);
    c = (c >> 64) + static_cast<u128>(a[2]) * bi + t2;
    t2 = static_cast<uint64_t>(c);
    c = (c >> 64) + static_cast<u128>(a[3]) * bi + t3;
    t3 = static_cast<uint64_t>(c);
    c = (c >> 64) + t4;
    t4 = static_cast<uint64_t>(c);
    const uint64_t t5 = static_cast<uint64_t>(c >> 64);

    const uint64_t m = t0 * kN0;  // makes the low limb vanish
    c = static_cast<u128>(m) * kN[0] + t0;
    c = (c >> 64) + static_cast<u128>(m) * kN[1] + t1;
    t0 = static_cast<uint64_t>(c);
    c = (c >> 64) + static_cast<u128>(m) * kN[2] + t2;
    t1 = static_cast<uint64_t>(c);
    c = (c >> 64) + static_cast<u128>(m) * kN[3] + t3;
    t2 = static_cast<uint64_t>(c);
    c = (c >> 64) + t4;
    t3 = static_cast<uint64_t>(c);
    t4 = t5 + static_cast<uint64_t>(c >> 64);
  }
  return ConditionalSubtractN(t0, t1, t2, t3, t4);
}

// a^(2^k) by k squarings.
Limbs SquareTimes(Limbs a, int k) {
  for (int i = 0; i < k; ++i) a = MulImpl(a, a);
  return a;
}

}  // namespace

Limbs FromBytes(std::span<const uint8_t, 32> big_endian) {
  Limbs r{};
  for (size_t i = 0; i < 4; ++i) {
    uint64_t limb = 0;
    for (size_t j = 0; j < 8; ++j) limb = (limb << 8) | big_endian[8 * (3 - i) + j];
    r[i] = limb;
  }
  return r;
}

void ToBytes(const Limbs& value, std::span<uint8_t, 32> big_endian) {
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = 0; j < 8; ++j) big_endian[8 * (3 - i) + j] = static_cast<uint8_t>(value[i] >> (56 - 8 * j));
  }
}

Limbs MontMul(const Limbs& a, const Limbs& b) {
  return MulImpl(a, b);
}

Limbs ToMont(const Limbs& a) {
  return MontMul(a, kR2);
}
Limbs FromMont(const Limbs& a) {
  return MontMul(a, {1, 0, 0, 0});
}

Limbs Add(const Limbs& a, const Limbs& b) {
  Limbs sum;
  uint64_t carry = 0;
  for (int i = 0; i < 4; ++i) {
    const u128 s = static_cast<u128>(a[i]) + b[i] + carry;
    sum[i] = static_cast<uint64_t>(s);
    carry = static_cast<uint64_t>(s >> 64);
  }
  return ConditionalSubtractN(sum[0], sum[1], sum[2], sum[3], carry);
}

// a^(n-2) with n - 2 = FFFFFFFF00000000FFFFFFFFFFFFFFFF || BCE6FAADA7179E84F3B9CAC2FC63254F.
// The top half is all-ones runs, built from a^(2^32-1); the bottom half uses fixed 4-bit windows.
// 252 squarings and 51 multiplications (14 for the table), in an order fixed by the public exponent.
Limbs InvertMont(const Limbs& a_mont) {
  // table[i] = a^i for the low-half windows; table[15] = a^(2^4 - 1) also seeds the top half.
  std::array<Limbs, 16> table;
  table[1] = a_mont;
  for (size_t i = 2; i < table.size(); ++i) table[i] = MulImpl(table[i - 1], a_mont);
  const Limbs& x4 = table[15];                     // a^(2^4 - 1)
  Limbs x8 = MulImpl(SquareTimes(x4, 4), x4);      // a^(2^8 - 1)
  Limbs x16 = MulImpl(SquareTimes(x8, 8), x8);     // a^(2^16 - 1)
  Limbs x32 = MulImpl(SquareTimes(x16, 16), x16);  // a^(2^32 - 1)
  Limbs acc = MulImpl(SquareTimes(x32, 64), x32);  // FFFFFFFF 00000000 FFFFFFFF
  acc = MulImpl(SquareTimes(acc, 32), x32);        // ... FFFFFFFF
  for (int bit = 124; bit >= 0; bit -= 4) {
    acc = SquareTimes(acc, 4);
    const unsigned window = static_cast<unsigned>(kNMinus2[static_cast<size_t>(bit / 64)] >> (bit % 64)) & 0xf;
    if (window != 0) acc = MulImpl(acc, table[window]);
  }
  // Powers of a nonce are as secret as the nonce.
  OPENSSL_cleanse(table.data(), sizeof(table));
  OPENSSL_cleanse(x8.data(), sizeof(x8));
  OPENSSL_cleanse(x16.data(), sizeof(x16));
  OPENSSL_cleanse(x32.data(), sizeof(x32));
  return acc;
}

bool IsZero(const Limbs& a) {
  uint64_t any = 0;
  for (uint64_t limb : a) any |= limb;
  return any == 0;
}

}  // namespace neosl::crypto::p256_scalar
