// This is the one file in neosl that uses OpenSSL's deprecated low-level APIs (EC_KEY,
// ECDSA_do_verify, SHA256_*). OpenSSL 3.0's EVP interface cannot sign with a caller-chosen nonce
// (deterministic ECDSA arrived in 3.2) and RFC 6979 needs one, so signing is done here from parts:
// k from our HMAC-DRBG, R = kG with OpenSSL's constant-time P-256 code, and s with the fixed-size
// arithmetic of p256_scalar.cpp. Verification uses ECDSA_do_verify on a cached EC_KEY, which
// skips EVP's per-call context set-up and DER encoding. The low-level SHA-256 lets the HMAC-DRBG
// copy precomputed hash states instead of paying EVP's per-call allocations.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "crypto/p256.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#include "core/encoding.h"
#include "crypto/p256_scalar.h"

namespace neosl::crypto {
namespace {

constexpr size_t kScalarSize = 32;
using Scalar = std::array<uint8_t, kScalarSize>;

[[noreturn]] void Fatal(const char* what) {
  // Only a broken OpenSSL or an allocation failure gets here; Sign has no error channel, and a
  // wrong signature would be worse than stopping.
  std::fprintf(stderr, "fatal: P-256: %s\n", what);
  std::abort();
}

// The curve, built once. EC_GROUP_new_by_curve_name picks OpenSSL's fastest P-256 code
// (ecp_nistz256 with its precomputed generator table on x86-64).
struct Curve {
  EC_GROUP* group = nullptr;
  Scalar order_bytes{};
  Scalar half_order_bytes{};  // floor(n / 2): the largest low-S value
};

const Curve& P256() {
  static const Curve curve = [] {
    Curve c;
    c.group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    if (c.group == nullptr) Fatal("cannot create the secp256r1 group");
    const BIGNUM* order = EC_GROUP_get0_order(c.group);
    BIGNUM* half = BN_new();
    if (order == nullptr || half == nullptr || !BN_rshift1(half, order) ||
        BN_bn2binpad(order, c.order_bytes.data(), kScalarSize) != kScalarSize ||
        BN_bn2binpad(half, c.half_order_bytes.data(), kScalarSize) != kScalarSize) {
      Fatal("cannot set up the group order");
    }
    BN_free(half);
    return c;
  }();
  return curve;
}

// Per-thread scratch: a BN_CTX and a point, so signing and verifying allocate as little as we can.
struct Scratch {
  BN_CTX* ctx = BN_CTX_new();
  EC_POINT* point = EC_POINT_new(P256().group);
  Scratch() {
    if (ctx == nullptr || point == nullptr) Fatal("cannot allocate scratch space");
  }
  ~Scratch() {
    EC_POINT_clear_free(point);
    BN_CTX_free(ctx);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// v - n, as bytes; returns the final borrow (1 iff v < n). Every byte is read whatever the
// values, so it is safe on secrets.
unsigned SubtractOrder(std::span<const uint8_t, kScalarSize> v, uint8_t* out) {
  const Scalar& n = P256().order_bytes;
  unsigned borrow = 0;
  for (size_t i = kScalarSize; i-- > 0;) {
    const unsigned diff = unsigned{v[i]} - n[i] - borrow;
    if (out != nullptr) out[i] = static_cast<uint8_t>(diff);
    borrow = (diff >> 8) & 1;
  }
  return borrow;
}

// 1 <= v < n, in constant time (v may be a private key or a nonce).
bool IsValidScalar(std::span<const uint8_t, kScalarSize> v) {
  unsigned any = 0;
  for (uint8_t b : v) any |= b;
  const unsigned nonzero = (any + 0xff) >> 8;  // 1 iff any != 0, without a branch
  return (SubtractOrder(v, nullptr) & nonzero) != 0;
}

// v mod n for a public 256-bit value: since v < 2^256 < 2n, one subtraction suffices.
Scalar ReduceModOrder(std::span<const uint8_t, kScalarSize> v) {
  Scalar out;
  if (SubtractOrder(v, out.data()) != 0) std::memcpy(out.data(), v.data(), kScalarSize);
  return out;
}

Scalar Sha256Of(std::span<const uint8_t> message) {
  Scalar out;
  SHA256(message.data(), message.size(), out.data());
  return out;
}

// HMAC-SHA256 with the key's inner and outer pad blocks hashed once, so each MAC costs two
// state copies rather than re-keying.
class HmacKey {
 public:
  void SetKey(const uint8_t* key) {
    uint8_t pad[SHA256_CBLOCK];
    for (int which = 0; which < 2; ++which) {
      const uint8_t fill = which == 0 ? 0x36 : 0x5c;
      std::memset(pad, fill, sizeof(pad));
      for (size_t i = 0; i < kScalarSize; ++i) pad[i] = static_cast<uint8_t>(key[i] ^ fill);
      SHA256_CTX& ctx = which == 0 ? inner_ : outer_;
      SHA256_Init(&ctx);
      SHA256_Update(&ctx, pad, sizeof(pad));
    }
    OPENSSL_cleanse(pad, sizeof(pad));
  }

  // out = HMAC(key, parts...); `out` may alias an input.
  void Mac(std::initializer_list<std::span<const uint8_t>> parts, uint8_t* out) const {
    SHA256_CTX ctx = inner_;
    for (const auto& part : parts) SHA256_Update(&ctx, part.data(), part.size());
    uint8_t inner_digest[SHA256_DIGEST_LENGTH];
    SHA256_Final(inner_digest, &ctx);
    ctx = outer_;
    SHA256_Update(&ctx, inner_digest, sizeof(inner_digest));
    SHA256_Final(out, &ctx);
    OPENSSL_cleanse(inner_digest, sizeof(inner_digest));
    OPENSSL_cleanse(&ctx, sizeof(ctx));
  }

  ~HmacKey() {
    OPENSSL_cleanse(&inner_, sizeof(inner_));
    OPENSSL_cleanse(&outer_, sizeof(outer_));
  }

 private:
  SHA256_CTX inner_{};
  SHA256_CTX outer_{};
};

// RFC 6979 §3.2 with HMAC-SHA256, for qlen = hlen = 256 so that bits2int is the identity and
// every candidate is a full 32-byte block.
class NonceGenerator {
 public:
  // x: the private scalar; h: bits2octets(SHA-256(message)), i.e. the hash reduced mod n.
  NonceGenerator(std::span<const uint8_t, kScalarSize> x, std::span<const uint8_t, kScalarSize> h) {
    static constexpr uint8_t kZero[1] = {0x00};
    static constexpr uint8_t kOne[1] = {0x01};
    uint8_t k[kScalarSize];
    std::memset(v_, 0x01, sizeof(v_));  // step b
    std::memset(k, 0x00, sizeof(k));    // step c
    key_.SetKey(k);
    key_.Mac({v_, kZero, x, h}, k);  // step d
    key_.SetKey(k);
    key_.Mac({v_}, v_);             // step e
    key_.Mac({v_, kOne, x, h}, k);  // step f
    key_.SetKey(k);
    key_.Mac({v_}, v_);  // step g
    OPENSSL_cleanse(k, sizeof(k));
  }
  ~NonceGenerator() { OPENSSL_cleanse(v_, sizeof(v_)); }
  NonceGenerator(const NonceGenerator&) = delete;
  NonceGenerator& operator=(const NonceGenerator&) = delete;

  // The next candidate (step h); the caller rejects values outside [1, n-1] and asks again.
  void Next(uint8_t* candidate) {
    if (!first_) {  // step h.3: re-key before retrying
      static constexpr uint8_t kZero[1] = {0x00};
      uint8_t k[kScalarSize];
      key_.Mac({v_, kZero}, k);
      key_.SetKey(k);
      key_.Mac({v_}, v_);
      OPENSSL_cleanse(k, sizeof(k));
    }
    first_ = false;
    key_.Mac({v_}, v_);
    std::memcpy(candidate, v_, kScalarSize);
  }

 private:
  HmacKey key_;
  uint8_t v_[kScalarSize];
  bool first_ = true;
};

// Fills `sig` from nonce k, e = hash mod n and the private key in Montgomery form; false if r or s
// came out zero (probability about 2^-256), in which case RFC 6979 moves on to the next k.
// r = x(kG) mod n and k^-1 (Montgomery form) for a nonce k in [1, n-1]; false if r is 0.
bool NonceParts(const Scalar& k, Scalar& r, p256_scalar::Limbs& k_inv_mont) {
  namespace ps = p256_scalar;
  const Curve& curve = P256();
  Scratch& scratch = ThreadScratch();
  BN_CTX* ctx = scratch.ctx;
  BN_CTX_start(ctx);
  BIGNUM* k_bn = BN_CTX_get(ctx);
  BIGNUM* x = BN_CTX_get(ctx);
  if (x == nullptr) Fatal("BN_CTX_get failed");
  BN_set_flags(k_bn, BN_FLG_CONSTTIME);

  // OpenSSL's P-256 code does the point multiplication in constant time.
  if (BN_bin2bn(k.data(), kScalarSize, k_bn) == nullptr ||
      EC_POINT_mul(curve.group, scratch.point, k_bn, nullptr, nullptr, ctx) != 1 ||
      EC_POINT_get_affine_coordinates(curve.group, scratch.point, x, nullptr, ctx) != 1 ||
      BN_bn2binpad(x, r.data(), kScalarSize) != kScalarSize) {
    Fatal("computing k*G failed");
  }
  BN_clear(k_bn);
  BN_CTX_end(ctx);
  r = ReduceModOrder(r);
  k_inv_mont = ps::InvertMont(ps::ToMont(ps::FromBytes(k)));  // constant time
  return !ps::IsZero(ps::FromBytes(r));
}

// s = k^-1 (e + r d) mod n, in constant time; false if s is 0.
bool SignWithParts(const p256_scalar::Limbs& d_mont, const Scalar& r, const p256_scalar::Limbs& k_inv_mont,
                   const Scalar& e, Signature& sig) {
  namespace ps = p256_scalar;
  const ps::Limbs rd = ps::MontMul(ps::FromBytes(r), d_mont);                  // r * dR / R = rd
  const ps::Limbs s = ps::MontMul(ps::Add(ps::FromBytes(e), rd), k_inv_mont);  // (e + rd) k^-1
  if (ps::IsZero(s)) return false;
  std::memcpy(sig.data(), r.data(), kScalarSize);
  ps::ToBytes(s, std::span<uint8_t, kScalarSize>(sig.data() + kScalarSize, kScalarSize));
  return true;
}

bool SignWithNonce(const p256_scalar::Limbs& d_mont, const Scalar& k, const Scalar& e, Signature& sig) {
  Scalar r;
  p256_scalar::Limbs k_inv_mont;
  bool ok = NonceParts(k, r, k_inv_mont) && SignWithParts(d_mont, r, k_inv_mont, e, sig);
  OPENSSL_cleanse(k_inv_mont.data(), sizeof(k_inv_mont));
  return ok;
}

// Low-S: s and n - s are both valid; Neo's own signer and most wallets emit the smaller one.
void NormalizeLowS(Signature& sig) {
  const std::span<uint8_t, kScalarSize> s(sig.data() + kScalarSize, kScalarSize);
  const Scalar& half = P256().half_order_bytes;
  if (std::memcmp(s.data(), half.data(), kScalarSize) <= 0) return;
  const Scalar& n = P256().order_bytes;
  unsigned borrow = 0;
  for (size_t i = kScalarSize; i-- > 0;) {
    const unsigned diff = unsigned{n[i]} - s[i] - borrow;
    s[i] = static_cast<uint8_t>(diff);
    borrow = (diff >> 8) & 1;
  }
}

struct EcKeyFree {
  void operator()(EC_KEY* key) const { EC_KEY_free(key); }
};
using EcKeyPtr = std::unique_ptr<EC_KEY, EcKeyFree>;

EcKeyPtr NewKeyOnCurve() {
  EcKeyPtr key(EC_KEY_new());
  if (!key || EC_KEY_set_group(key.get(), P256().group) != 1) Fatal("cannot allocate an EC key");
  return key;
}

}  // namespace

struct PublicKey::Impl {
  EcKeyPtr key;
  std::array<uint8_t, 33> compressed{};
  std::array<uint8_t, 65> uncompressed{};

  // `point` must already be known to be on the curve and not infinity.
  static std::shared_ptr<const Impl> FromPoint(const EC_POINT* point) {
    auto impl = std::make_shared<Impl>();
    impl->key = NewKeyOnCurve();
    const EC_GROUP* group = P256().group;
    BN_CTX* ctx = ThreadScratch().ctx;
    if (EC_KEY_set_public_key(impl->key.get(), point) != 1 ||
        EC_POINT_point2oct(group, point, POINT_CONVERSION_COMPRESSED, impl->compressed.data(), impl->compressed.size(),
                           ctx) != impl->compressed.size() ||
        EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, impl->uncompressed.data(),
                           impl->uncompressed.size(), ctx) != impl->uncompressed.size()) {
      Fatal("cannot encode a public key");
    }
    return impl;
  }
};

struct PrivateKey::Impl {
  Impl(SecretBytes bytes_in, PublicKey public_key_in, const p256_scalar::Limbs& d_mont_in)
      : bytes(std::move(bytes_in)), public_key(std::move(public_key_in)), d_mont(d_mont_in) {}
  ~Impl() { OPENSSL_cleanse(d_mont.data(), sizeof(d_mont)); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  SecretBytes bytes;
  PublicKey public_key;
  p256_scalar::Limbs d_mont;  // the scalar in Montgomery form, ready for Sign
};

StatusOr<PublicKey> PublicKey::FromBytes(std::span<const uint8_t> encoded) {
  const bool compressed = encoded.size() == 33 && (encoded[0] == 0x02 || encoded[0] == 0x03);
  const bool uncompressed = encoded.size() == 65 && encoded[0] == 0x04;
  if (!compressed && !uncompressed) {
    return InvalidArgumentError("public key must be 33 bytes starting with 02/03 or 65 bytes starting with 04, got " +
                                std::to_string(encoded.size()) + " bytes");
  }
  const EC_GROUP* group = P256().group;
  BN_CTX* ctx = ThreadScratch().ctx;
  EC_POINT* point = EC_POINT_new(group);
  if (point == nullptr) Fatal("cannot allocate a point");
  // oct2point rejects x or y >= p and x without a square root; the explicit checks make the
  // guarantee independent of OpenSSL's version.
  const bool valid = EC_POINT_oct2point(group, point, encoded.data(), encoded.size(), ctx) == 1 &&
                     EC_POINT_is_at_infinity(group, point) == 0 && EC_POINT_is_on_curve(group, point, ctx) == 1;
  if (!valid) {
    EC_POINT_free(point);
    ERR_clear_error();
    return InvalidArgumentError("public key is not a point on secp256r1");
  }
  PublicKey key(Impl::FromPoint(point));
  EC_POINT_free(point);
  return key;
}

StatusOr<PublicKey> PublicKey::FromHex(std::string_view hex) {
  std::optional<std::vector<uint8_t>> bytes = HexDecode(hex);
  if (!bytes) return InvalidArgumentError("public key is not valid hex");
  return FromBytes(*bytes);
}

std::array<uint8_t, 33> PublicKey::Compressed() const {
  return impl_->compressed;
}
std::array<uint8_t, 65> PublicKey::Uncompressed() const {
  return impl_->uncompressed;
}

bool PublicKey::Verify(std::span<const uint8_t> message, const Signature& sig) const {
  const std::span<const uint8_t, kScalarSize> r(sig.data(), kScalarSize);
  const std::span<const uint8_t, kScalarSize> s(sig.data() + kScalarSize, kScalarSize);
  if (!IsValidScalar(r) || !IsValidScalar(s)) return false;
  const Scalar digest = Sha256Of(message);

  ECDSA_SIG* ecdsa_sig = ECDSA_SIG_new();
  BIGNUM* r_bn = BN_bin2bn(r.data(), kScalarSize, nullptr);
  BIGNUM* s_bn = BN_bin2bn(s.data(), kScalarSize, nullptr);
  if (ecdsa_sig == nullptr || r_bn == nullptr || s_bn == nullptr || ECDSA_SIG_set0(ecdsa_sig, r_bn, s_bn) != 1) {
    Fatal("cannot allocate a signature");
  }
  const int rc = ECDSA_do_verify(digest.data(), kScalarSize, ecdsa_sig, impl_->key.get());
  ECDSA_SIG_free(ecdsa_sig);
  if (rc != 1) ERR_clear_error();
  return rc == 1;
}

std::strong_ordering operator<=>(const PublicKey& a, const PublicKey& b) {
  // Fixed-width big-endian X then Y: byte order equals integer order.
  const int c = std::memcmp(a.impl_->uncompressed.data() + 1, b.impl_->uncompressed.data() + 1, 64);
  return c <=> 0;
}

bool operator==(const PublicKey& a, const PublicKey& b) {
  return a.impl_ == b.impl_ || a.impl_->uncompressed == b.impl_->uncompressed;
}

std::ostream& operator<<(std::ostream& os, const PublicKey& key) {
  return os << HexEncode(key.impl_->compressed);
}

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;
PrivateKey::~PrivateKey() = default;

StatusOr<PrivateKey> PrivateKey::FromBytes(std::span<const uint8_t> key32) {
  if (key32.size() != kScalarSize) {
    return InvalidArgumentError("private key must be 32 bytes, got " + std::to_string(key32.size()));
  }
  if (!IsValidScalar(key32.first<kScalarSize>())) {
    return InvalidArgumentError("private key is out of range (must be 1 <= d < n)");
  }
  const Curve& curve = P256();
  BN_CTX* ctx = ThreadScratch().ctx;
  BIGNUM* d = BN_secure_new();
  EC_POINT* point = EC_POINT_new(curve.group);
  if (d == nullptr || point == nullptr) Fatal("cannot allocate a private key");
  BN_set_flags(d, BN_FLG_CONSTTIME);
  if (BN_bin2bn(key32.data(), kScalarSize, d) == nullptr ||
      EC_POINT_mul(curve.group, point, d, nullptr, nullptr, ctx) != 1) {
    Fatal("cannot derive a public key");
  }
  BN_clear_free(d);
  PublicKey public_key(PublicKey::Impl::FromPoint(point));
  EC_POINT_free(point);
  p256_scalar::Limbs d_limbs = p256_scalar::FromBytes(key32.first<kScalarSize>());
  auto impl = std::make_unique<Impl>(SecretBytes(key32), std::move(public_key), p256_scalar::ToMont(d_limbs));
  OPENSSL_cleanse(d_limbs.data(), sizeof(d_limbs));
  return PrivateKey(std::move(impl));
}

PrivateKey PrivateKey::Generate(RandomSource& random) {
  Scalar candidate;
  for (;;) {
    random.Fill(candidate);
    if (IsValidScalar(candidate)) break;
  }
  StatusOr<PrivateKey> key = FromBytes(candidate);
  OPENSSL_cleanse(candidate.data(), candidate.size());
  if (!key.ok()) Fatal("a valid scalar was rejected");
  return std::move(key).value();
}

const PublicKey& PrivateKey::public_key() const {
  return impl_->public_key;
}
const SecretBytes& PrivateKey::bytes() const {
  return impl_->bytes;
}

Signature PrivateKey::Sign(std::span<const uint8_t> message) const {
  const Scalar e = ReduceModOrder(Sha256Of(message));  // bits2octets(h1), also the ECDSA input
  NonceGenerator nonces(impl_->bytes.bytes().first<kScalarSize>(), e);
  Signature sig{};
  Scalar k;
  for (;;) {
    nonces.Next(k.data());
    if (IsValidScalar(k) && SignWithNonce(impl_->d_mont, k, e, sig)) break;
  }
  OPENSSL_cleanse(k.data(), k.size());
  NormalizeLowS(sig);
  return sig;
}

PresignedNonce::PresignedNonce(PresignedNonce&& other) noexcept
    : r_(other.r_), k_inv_mont_(other.k_inv_mont_), ready_(other.ready_) {
  other.Wipe();
}

PresignedNonce& PresignedNonce::operator=(PresignedNonce&& other) noexcept {
  if (this != &other) {
    r_ = other.r_;
    k_inv_mont_ = other.k_inv_mont_;
    ready_ = other.ready_;
    other.Wipe();
  }
  return *this;
}

PresignedNonce::~PresignedNonce() {
  Wipe();
}

void PresignedNonce::Wipe() {
  OPENSSL_cleanse(r_.data(), r_.size());
  OPENSSL_cleanse(k_inv_mont_.data(), sizeof(k_inv_mont_));
  ready_ = false;
}

PresignedNonce PrivateKey::Presign(RandomSource& random) const {
  Scalar fresh;
  random.Fill(fresh);
  // The fresh bytes stand where RFC 6979 puts the message hash: k depends on the key and on
  // them, never on anything an outsider chooses.
  NonceGenerator nonces(impl_->bytes.bytes().first<kScalarSize>(), ReduceModOrder(fresh));
  OPENSSL_cleanse(fresh.data(), fresh.size());
  PresignedNonce out;
  Scalar k;
  for (;;) {
    nonces.Next(k.data());
    if (IsValidScalar(k) && NonceParts(k, out.r_, out.k_inv_mont_)) break;
  }
  OPENSSL_cleanse(k.data(), k.size());
  out.ready_ = true;
  return out;
}

Signature PrivateKey::SignPresigned(std::span<const uint8_t> message, PresignedNonce nonce) const {
  if (!nonce.ready_) return Sign(message);
  const Scalar e = ReduceModOrder(Sha256Of(message));
  Signature sig{};
  const bool ok = SignWithParts(impl_->d_mont, nonce.r_, nonce.k_inv_mont_, e, sig);
  nonce.Wipe();
  if (!ok) return Sign(message);  // s = 0: probability about 2^-256
  NormalizeLowS(sig);
  return sig;
}

namespace internal {
SecretBytes Rfc6979Nonce(const PrivateKey& key, std::span<const uint8_t> message) {
  const Scalar e = ReduceModOrder(Sha256Of(message));
  NonceGenerator nonces(key.bytes().bytes().first<kScalarSize>(), e);
  Scalar k;
  do {
    nonces.Next(k.data());
  } while (!IsValidScalar(k));
  SecretBytes out(k);
  OPENSSL_cleanse(k.data(), k.size());
  return out;
}
}  // namespace internal

}  // namespace neosl::crypto
