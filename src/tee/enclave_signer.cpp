#include "tee/enclave_signer.h"

#include "neo/account.h"

namespace neosl::tee {

EnclaveNeoSigner::EnclaveNeoSigner(EnclaveHost& host, crypto::PublicKey neo_key, std::chrono::milliseconds timeout)
    : host_(host),
      key_(std::move(neo_key)),
      verification_(neo::SingleSigScript(key_)),
      account_(neo::ScriptHash(verification_)),
      timeout_(timeout) {}

StatusOr<std::unique_ptr<EnclaveNeoSigner>> EnclaveNeoSigner::Create(EnclaveHost& host,
                                                                     std::chrono::milliseconds timeout) {
  v1::EcallRequest req;
  req.mutable_get_public_keys();
  ASSIGN_OR_RETURN(v1::EcallResponse r, host.CallRetrying(req, timeout));
  const std::string& neo = r.public_keys().neo();
  ASSIGN_OR_RETURN(crypto::PublicKey key,
                   crypto::PublicKey::FromBytes(std::span(reinterpret_cast<const uint8_t*>(neo.data()), neo.size())));
  return std::make_unique<EnclaveNeoSigner>(host, std::move(key), timeout);
}

StatusOr<std::vector<uint8_t>> EnclaveNeoSigner::SignInvocation(std::span<const uint8_t> signing_data) {
  v1::EcallRequest req;
  req.mutable_sign()->set_key(v1::SignRequest::NEO);
  req.mutable_sign()->set_message(std::string(signing_data.begin(), signing_data.end()));
  ASSIGN_OR_RETURN(v1::EcallResponse r, host_.CallRetrying(req, timeout_));
  const std::string& sig = r.signature();
  if (sig.size() != 64)
    return InternalError("the enclave returned a signature of " + std::to_string(sig.size()) + " bytes");
  // Defence in depth: a signature that does not verify under the attested key is never used.
  crypto::Signature s{};
  std::copy(sig.begin(), sig.end(), s.begin());
  if (!key_.Verify(signing_data, s)) return InternalError("the enclave's signature does not verify");
  return neo::SignatureInvocation(s);
}

}  // namespace neosl::tee
