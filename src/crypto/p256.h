// ECDSA over secp256r1 (NIST P-256 / prime256v1), the curve Neo uses for account keys, with
// SHA-256 and Neo's 64-byte r || s signature format.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <span>
#include <string_view>

#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"

namespace neosl::crypto {

using Signature = std::array<uint8_t, 64>;  // r || s, big-endian, 32 bytes each (Neo's format)

class PublicKey {
 public:
  // 33-byte compressed (02/03) or 65-byte uncompressed (04); checks the point is on the curve and
  // not infinity. Hybrid (06/07) and other encodings are INVALID_ARGUMENT.
  static StatusOr<PublicKey> FromBytes(std::span<const uint8_t> encoded);
  static StatusOr<PublicKey> FromHex(std::string_view hex);

  std::array<uint8_t, 33> Compressed() const;
  std::array<uint8_t, 65> Uncompressed() const;

  // Verifies `sig` over SHA-256(message), as Neo's Crypto.VerifySignature(message, sig, pubkey)
  // does: any s in [1, n-1] is accepted (Neo does not enforce low-S); r or s out of range -> false.
  bool Verify(std::span<const uint8_t> message, const Signature& sig) const;

  // Neo's ECPoint.CompareTo: X, then Y, each as an unsigned integer. Multisig scripts list keys
  // in this order.
  friend std::strong_ordering operator<=>(const PublicKey& a, const PublicKey& b);
  friend bool operator==(const PublicKey& a, const PublicKey& b);
  // Prints the compressed hex form, as Neo's ECPoint.ToString does.
  friend std::ostream& operator<<(std::ostream& os, const PublicKey& key);

  struct Impl;  // the parsed OpenSSL key and both encodings; defined in p256.cpp

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  friend class PrivateKey;

  // Shared and immutable: copies are a reference-count bump, and Verify never re-parses.
  std::shared_ptr<const Impl> impl_;
};

// A nonce made ahead of the message it will sign (PrivateKey::Presign): r = x(kG) mod n and
// k^-1, so that the signature itself is two multiplications. Used once: SignPresigned takes it
// and wipes it; moved-from and destroyed nonces are wiped too.
class PresignedNonce {
 public:
  PresignedNonce() = default;
  PresignedNonce(PresignedNonce&& other) noexcept;
  PresignedNonce& operator=(PresignedNonce&& other) noexcept;
  PresignedNonce(const PresignedNonce&) = delete;
  PresignedNonce& operator=(const PresignedNonce&) = delete;
  ~PresignedNonce();
  bool ready() const { return ready_; }

 private:
  friend class PrivateKey;
  void Wipe();
  std::array<uint8_t, 32> r_{};
  std::array<uint64_t, 4> k_inv_mont_{};  // p256_scalar Montgomery form
  bool ready_ = false;
};

class PrivateKey {
 public:
  // A 32-byte big-endian scalar d with 1 <= d < n. The error never contains the bytes.
  static StatusOr<PrivateKey> FromBytes(std::span<const uint8_t> key32);
  // Draws 32 bytes from `random` until they form a valid scalar (rejection sampling, so the
  // result is uniform).
  static PrivateKey Generate(RandomSource& random);

  PrivateKey(PrivateKey&&) noexcept;
  PrivateKey& operator=(PrivateKey&&) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  // A moved-from PrivateKey may only be destroyed or assigned to.
  const PublicKey& public_key() const;
  // Signs SHA-256(message) with a deterministic nonce (RFC 6979, HMAC-SHA256) and returns a
  // low-S signature (s <= n/2), so the same key and message always give the same bytes.
  Signature Sign(std::span<const uint8_t> message) const;
  // A nonce for one later SignPresigned: k from HMAC-DRBG over the key and 32 fresh bytes of
  // `random` (hedged: a weak source alone does not expose the key), then r and k^-1.
  PresignedNonce Presign(RandomSource& random) const;
  // Signs SHA-256(message) with a nonce from Presign (consumed; a nonce that is not ready falls
  // back to Sign). A valid low-S ECDSA signature like Sign's, but not deterministic.
  Signature SignPresigned(std::span<const uint8_t> message, PresignedNonce nonce) const;
  const SecretBytes& bytes() const;  // the 32-byte scalar, big-endian

  // Never printable, so a key cannot end up in a log line by accident.
  friend std::ostream& operator<<(std::ostream&, const PrivateKey&) = delete;

  struct Impl;  // defined in p256.cpp

 private:
  explicit PrivateKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

namespace internal {
// The RFC 6979 nonce k that Sign uses for `message`: the first HMAC-DRBG output in [1, n-1].
// Exposed so tests can check k against the RFC's vectors, and for ECVRF (crypto/ecvrf.h), whose
// nonce (RFC 9381 section 5.4.2.1) is this one with the message point_to_string(H).
SecretBytes Rfc6979Nonce(const PrivateKey& key, std::span<const uint8_t> message);
}  // namespace internal

}  // namespace neosl::crypto
