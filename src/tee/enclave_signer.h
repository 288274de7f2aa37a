// The platform's Neo account as a TransactionSigner (neo/tx_sender.h): the key stays in the
// enclave; each signature is a `sign` ECALL with the NEO key.
#pragma once

#include <chrono>
#include <span>
#include <vector>

#include "crypto/p256.h"
#include "neo/tx_sender.h"
#include "tee/host.h"

namespace neosl::tee {

class EnclaveNeoSigner final : public neo::TransactionSigner {
 public:
  // `neo_key` is the enclave's Neo public key (from get_public_keys); `host` must outlive this.
  EnclaveNeoSigner(EnclaveHost& host, crypto::PublicKey neo_key,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Asks the enclave for its Neo public key.
  static StatusOr<std::unique_ptr<EnclaveNeoSigner>> Create(
      EnclaveHost& host, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  neo::UInt160 account() const override { return account_; }
  std::vector<uint8_t> verification_script() const override { return verification_; }
  StatusOr<std::vector<uint8_t>> SignInvocation(std::span<const uint8_t> signing_data) override;

 private:
  EnclaveHost& host_;
  crypto::PublicKey key_;
  std::vector<uint8_t> verification_;
  neo::UInt160 account_;
  std::chrono::milliseconds timeout_;
};

}  // namespace neosl::tee
