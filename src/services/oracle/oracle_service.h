// The Oracle service (proto/neosl/oracle/v1, docs/oracle.md): the seed's Data Fetcher, Data
// Transformer, Consensus Engine and Delivery Manager. The enclave does the fetching, filtering,
// deciding and signing (oracle_run.h); this service checks requests, hands the enclave the
// sealed secrets their headers name, stores every request and its outcome, runs asynchronous
// requests in the background and tells watchers when they finish.
//
// Threads: every step that blocks (the store, the secrets service, the enclave) runs on the
// service's own WorkQueue (oracle.threads), never on a gRPC thread; a full queue is 429.
//
// Charging (issue #12): the fee of a request's sources is held through the gas bank before
// anything of it is done (nothing fetched, nothing stored), charged when it succeeds, released
// when it fails. A post-processing function's invocation is paid for by the functions service,
// in the same way. Chain requests are not charged: they name a contract, not an account of ours.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/work_queue.h"
#include "crypto/p256.h"
#include "enclave.pb.h"
#include "mesh/client.h"
#include "mesh/server.h"
#include "neosl/oracle/v1/oracle.grpc.pb.h"
#include "services/gasbank/charging.h"
#include "store/store.h"

namespace neosl::services {

namespace oraclepb = ::neosl::oracle::v1;

// How the service has the enclave run a request, and post-process a result with a function's
// proof (RunningEnclave::OracleRun and OracleFinalize in serve).
struct OracleEnclave {
  std::function<StatusOr<tee::v1::OracleRunResponse>(const tee::v1::OracleRunRequest&)> run;
  std::function<StatusOr<tee::v1::OracleRunResponse>(const tee::v1::OracleFinalizeRequest&)> finalize;
};

struct OracleOptions {
  std::chrono::milliseconds timeout{5000};  // oracle.timeout_ms: per source, redirects included
  std::vector<std::string> content_types{"application/json", "text/plain"};  // oracle.content_types
  size_t max_result_bytes = 65535;  // oracle.max_result_bytes (Neo's MaxResultSize)
  bool allow_http = false;          // oracle.allow_http: http:// besides https://
  size_t threads = 16;              // oracle.threads: requests run at once
  size_t queue = 1024;              // oracle.queue: requests waiting for a thread, then 429
};

class OracleService final : public oraclepb::Oracle::CallbackService {
 public:
  static constexpr std::string_view kIdentity = "oracle";

  // `client`: this service's mesh client (identity "oracle"), for the secrets service's
  // ResolveSecrets and the functions service's GetFunction and InvokeFunction. `charger`: how
  // requests are paid for (gas bank holds); default: not charged.
  OracleService(mesh::Pipeline& pipeline, store::Store& store, OracleEnclave enclave, mesh::MeshClient& client,
                const Clock& clock, RandomSource& random, const crypto::PublicKey& report_key, OracleOptions options,
                gasbank::GasCharger charger = {});
  // Waits for the requests in flight.
  ~OracleService() override;

  // Requests an earlier process left pending (it stopped while they ran) are failed with code
  // Error and "interrupted by a restart": they are never left pending forever, and never run
  // twice behind the caller's back. Call once before serving; returns how many there were.
  // Their holds are left to the bank, which releases them when they expire.
  StatusOr<int> FailInterrupted();

  grpc::ServerUnaryReactor* CreateOracleRequest(grpc::CallbackServerContext* ctx,
                                                const oraclepb::CreateOracleRequestRequest* request,
                                                oraclepb::OracleRequest* response) override;
  grpc::ServerUnaryReactor* GetOracleRequest(grpc::CallbackServerContext* ctx,
                                             const oraclepb::GetOracleRequestRequest* request,
                                             oraclepb::OracleRequest* response) override;
  grpc::ServerWriteReactor<oraclepb::OracleRequest>* WatchOracleRequests(
      grpc::CallbackServerContext* ctx, const oraclepb::WatchOracleRequestsRequest* request) override;

  // For chain requests (oracle_chain.h): checks `request` (no secrets: a chain request has no
  // account) and runs it in the background as `run`, then calls `done` with the enclave's
  // outcome. INVALID_ARGUMENT for a request that is not well formed; RESOURCE_EXHAUSTED when the
  // queue is full.
  using RunDone = std::function<void(StatusOr<tee::v1::OracleRunResponse>)>;
  Status RunDetached(const oraclepb::CreateOracleRequestRequest& request, const tee::v1::OracleRunRequest& run,
                     RunDone done);

 private:
  struct Prepared;
  StatusOr<Prepared> Prepare(const oraclepb::CreateOracleRequestRequest& request, bool with_secrets) const;
  StatusOr<tee::v1::InvocationSecrets> ResolveSecrets(const std::string& account, const std::string& request_id,
                                                      const std::vector<std::string>& names);
  void Create(const std::shared_ptr<const mesh::CallContext>& call, const oraclepb::CreateOracleRequestRequest& request,
              oraclepb::OracleRequest* response, const mesh::Pipeline::Done& done);
  // Runs a stored pending request, stores its outcome and tells the watchers; then charges its
  // hold when it succeeded, else releases it.
  StatusOr<oraclepb::OracleRequest> Run(const std::string& account, tee::v1::OracleRunRequest run,
                                        oraclepb::OracleRequest shown, const gasbank::ChargeHold& hold);
  Status Store(const std::string& account, const oraclepb::OracleRequest& shown, bool insert);
  void Publish(const std::string& account, const oraclepb::OracleRequest& done);
  // Post-processing: invokes the function with the fetched result and has the enclave sign what
  // it made of it (or records why not).
  void PostProcess(const std::string& account, const std::string& function_id, const tee::v1::OracleRunRequest& run,
                   const tee::v1::OracleRunResponse& fetched, oraclepb::OracleRequest* shown);

  mesh::Pipeline& pipeline_;
  store::Store& store_;
  OracleEnclave enclave_;
  mesh::MeshClient& client_;
  const Clock& clock_;
  RandomSource& random_;
  std::string report_key_hex_;
  const OracleOptions options_;
  gasbank::GasCharger charger_;

  struct Watcher {
    std::string account;
    std::string request_id;  // empty: every request of the account
    std::shared_ptr<mesh::StreamWriter> writer;
  };
  std::mutex watchers_mu_;
  std::vector<Watcher> watchers_;

  std::unique_ptr<WorkQueue> work_;  // last: joined first, while the rest still exists
};

}  // namespace neosl::services
