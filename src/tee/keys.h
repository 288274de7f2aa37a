// The enclave's long-lived keys, how they are kept sealed on disk, and how they move to a new
// enclave build (migration).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/random.h"
#include "core/secret.h"
#include "core/status.h"
#include "crypto/p256.h"
#include "tee/sealing.h"

namespace neosl::tee {

// The public halves, as evidence and clients see them.
struct PublicKeys {
  crypto::PublicKey neo, vrf, report, ecies;

  // {"neo":"02…","vrf":"03…","report":"02…","ecies":"03…"} (compressed, lowercase hex)
  boost::json::object ToJson() const;
  // Strict inverse of ToJson: exactly those four fields, each a compressed key.
  static StatusOr<PublicKeys> FromJson(const boost::json::value& json);
  // neo ‖ vrf ‖ report ‖ ecies, 33 bytes each (132): what attestation report data hashes.
  std::vector<uint8_t> Canonical() const;

  friend bool operator==(const PublicKeys&, const PublicKeys&) = default;
};

// The private keys that never leave the enclave: the platform's Neo account (its transaction
// signer), the VRF key, the report key that signs results, and the ECIES key clients encrypt
// secrets to.
struct EnclaveKeys {
  crypto::PrivateKey neo, vrf, report, ecies;

  static EnclaveKeys Generate(RandomSource& random);
  // Version 1 record: 0x01 ‖ neo ‖ vrf ‖ report ‖ ecies, each a 32-byte scalar (129 bytes).
  SecretBytes Serialize() const;
  // DATA_LOSS on a wrong size, version or an invalid scalar (never echoing the bytes).
  static StatusOr<EnclaveKeys> Parse(std::span<const uint8_t> record);
  PublicKeys Public() const;
};

// Deposit keys (the gas bank, docs/gasbank.md "Deposits"): each account's deposit address is the
// single-signature account of a key derived from the enclave's Neo key and the account id,
//
//   k = HKDF-SHA256(ikm = the Neo key's 32-byte scalar, salt = kDepositKeySalt,
//                   info = account ‖ counter byte, 32 bytes)   for counter = 0, 1, …
//
// taking the first k with 0 < k < n. Derived, not stored: the same account always gets the same
// key, across restarts and enclave migrations (the Neo key migrates, so the deposit keys follow
// it), and there is nothing more to seal or back up. A counter past 0 is needed with probability
// about 2^-32 per account. The account is taken as given; the ECALL checks its form.
inline constexpr std::string_view kDepositKeySalt = "neosl-deposit-key-v1";

crypto::PrivateKey DeriveDepositKey(const crypto::PrivateKey& neo, std::string_view account);

inline constexpr std::string_view kKeysFileName = "keys.sealed";
inline constexpr std::string_view kKeysSealLabel = "enclave-keys";

class KeyStore {
 public:
  // Loads the keys from <sealed_dir>/keys.sealed, or on first start generates them and writes
  // that file (0600, written to a temporary file and linked into place). `sealed_dir` is created
  // 0700 if missing.
  //
  // A file that exists but cannot be unsealed is an error, returned with the unseal reason and
  // the path; the file is left untouched and no new keys are made (new keys would silently
  // orphan everything the old ones signed or protect).
  //
  // If the file unseals but was sealed under the other policy, or under the signer policy at a
  // lower isv_svn than this enclave's, it is re-sealed under `policy` at this enclave's version
  // (atomically replacing it), so a switch to signer sealing or an upgrade sticks.
  // kSigner without a valid sigstruct in `sealer` is FAILED_PRECONDITION before anything is read.
  static StatusOr<EnclaveKeys> LoadOrCreate(const Sealer& sealer, SealPolicy policy, const std::string& sealed_dir,
                                            RandomSource& random);
};

// Migration moves the keys to an enclave build with another measurement, for stores sealed to
// the measurement (or to another signer), where unsealing after the upgrade is impossible.
//
//   1. The new enclave generates an ephemeral P-256 key pair and produces attestation evidence
//      whose report data binds the ephemeral public key (it stands in the evidence's public keys)
//      and the old side's nonce.
//   2. The CALLER on the old side verifies that evidence with the attestation verifier before
//      calling ExportForMigration: signature chain, the nonce, the binding of
//      `recipient_ephemeral`, and that the measurement is one the operator allows to receive
//      the keys (an allow-list, or a SigStruct from the same signer with isv_svn >= ours).
//      ExportForMigration itself checks none of this: it encrypts to whatever key it is given.
//   3. The old enclave exports: ECIES to `recipient_ephemeral` with info "neosl-migration-v1".
//   4. The new enclave imports with its ephemeral private key, then seals the keys under its own
//      identity (KeyStore) and forgets the ephemeral key.
inline constexpr std::string_view kMigrationInfo = "neosl-migration-v1";

StatusOr<std::vector<uint8_t>> ExportForMigration(const EnclaveKeys& keys, const crypto::PublicKey& recipient_ephemeral,
                                                  RandomSource& random = SecureRandom::Instance());
StatusOr<EnclaveKeys> ImportMigration(const crypto::PrivateKey& ephemeral, std::span<const uint8_t> blob);

}  // namespace neosl::tee
