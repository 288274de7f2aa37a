// The Random service (proto/neosl/random/v1, docs/random.md): the seed's verifiable randomness.
// A request's words come from one ECVRF proof (RFC 9381, P-256) by the enclave's VRF key over
// an alpha that binds the account, the request id and the caller's seed; the proof, its output
// and the words are stored, so the request is answered the same way every time it is asked for.
// Verification needs no secret and no enclave: any proof, any key.
//
// A request is paid for through the gas bank (issue #12): the fee of its words is held before the
// enclave proves, charged once the answer is stored, released when anything fails. Generating
// runs on the service's own threads, since it waits for the bank and the enclave.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "core/clock.h"
#include "core/random.h"
#include "core/work_queue.h"
#include "crypto/p256.h"
#include "mesh/server.h"
#include "neosl/random/v1/random.grpc.pb.h"
#include "services/gasbank/charging.h"
#include "store/store.h"

namespace neosl::services {

namespace randompb = ::neosl::random::v1;

struct VrfAnswer {
  std::array<uint8_t, 81> proof{};
  std::array<uint8_t, 32> output{};
};
// How the service has the enclave prove: alpha → (pi, beta), checked by the caller against the
// VRF public key (RunningEnclave::VrfProve checks it before answering).
using VrfProver = std::function<StatusOr<VrfAnswer>(std::span<const uint8_t> alpha)>;

class RandomService final : public randompb::Random::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "random";

  // `charger`: how requests are paid for (gas bank holds); default: not charged.
  RandomService(mesh::Pipeline& pipeline, store::Store& store, VrfProver prover, crypto::PublicKey vrf_key,
                const Clock& clock, RandomSource& random, gasbank::GasCharger charger = {});
  // Waits for the requests in flight.
  ~RandomService() override;

  grpc::ServerUnaryReactor* GenerateRandom(grpc::CallbackServerContext* ctx,
                                           const randompb::GenerateRandomRequest* request,
                                           randompb::RandomResult* response) override;
  grpc::ServerUnaryReactor* GetRandom(grpc::CallbackServerContext* ctx, const randompb::GetRandomRequest* request,
                                      randompb::RandomResult* response) override;
  grpc::ServerUnaryReactor* VerifyRandom(grpc::CallbackServerContext* ctx, const randompb::VerifyRandomRequest* request,
                                         randompb::VerifyRandomResponse* response) override;

  // For chain requests (docs/random.md, "On-chain"): the proof over Alpha(account, request_id,
  // seed) and `num_words` words, not stored here (the chain relay stores its answers). Not
  // charged: a chain request names a contract, not an account of ours.
  struct Drawn {
    std::vector<uint8_t> alpha;
    VrfAnswer vrf;
    std::vector<std::array<uint8_t, 32>> words;
  };
  StatusOr<Drawn> Draw(std::string_view account, std::string_view request_id, std::span<const uint8_t> seed,
                       int num_words);

  const crypto::PublicKey& vrf_key() const { return vrf_key_; }

 private:
  Status Generate(const mesh::CallContext& call, const randompb::GenerateRandomRequest& request,
                  randompb::RandomResult* response);
  Status Get(const mesh::CallContext& call, const randompb::GetRandomRequest& request,
             randompb::RandomResult* response);

  mesh::Pipeline& pipeline_;
  store::Store& store_;
  VrfProver prover_;
  crypto::PublicKey vrf_key_;
  std::string vrf_key_hex_;
  const Clock& clock_;
  RandomSource& random_;
  gasbank::GasCharger charger_;
  std::unique_ptr<WorkQueue> work_;  // last: joined first, while the rest still exists
};

// VerifyRandom's logic, also used by `neosl vrf verify` and tests: never an error for a proof
// that does not verify (valid = false with the reason); INVALID_ARGUMENT only for malformed
// fields (not hex, num_words out of range), naming the field.
Status VerifyRandomProof(const randompb::VerifyRandomRequest& request, randompb::VerifyRandomResponse* response);

}  // namespace neosl::services
