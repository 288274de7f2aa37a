// The function worker side of `neosl enclave --function-worker` (docs/functions.md, "The
// runtime"): the run_function and check_function ECALLs, served by a runtime::Engine inside the
// sandboxed enclave process, with the invocation's secrets opened only on read and the outcome
// signed by the enclave's report key.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "enclave.pb.h"
#include "net/fetcher.h"
#include "runtime/engine.h"
#include "tee/channel.h"
#include "tee/enclave_server.h"
#include "tee/keys.h"
#include "tee/secret_vault.h"

namespace neosl {

struct FunctionWorker {
  // Made by the first run_function / check_function, on the channel's one worker thread, which
  // then serves every call: the engine runs inline on it (no hand-off to a thread of its own).
  bool enabled = false;
  runtime::EngineOptions engine_options;
  std::unique_ptr<runtime::Engine> engine;
  const tee::SecretVault* vault = nullptr;
  const crypto::PrivateKey* report_key = nullptr;
  // The nonce of the next result signature, made after an answer is sent (BetweenCalls).
  crypto::PresignedNonce next_nonce;
  // fetch(): TLS inside the worker, bytes through the host's relay (OCALLs), trust anchors read
  // before the sandbox. Made on the first fetch, when the channel exists.
  std::string ca_pem;
  std::mutex fetch_mu;
  std::unique_ptr<tee::OcallByteRelay> relay;
  std::unique_ptr<net::Fetcher> fetcher;
};

tee::v1::EcallResponse RunFunction(FunctionWorker& worker, const tee::v1::RunFunctionRequest& request,
                                   tee::Channel& channel);
tee::v1::EcallResponse CheckFunction(FunctionWorker& worker, const tee::v1::CheckFunctionRequest& request);
// Between calls (the channel's after_serve), off every invocation's time: prepares the next
// signature's nonce (its point multiplication) and runs the engine's garbage collection if one
// is due.
void BetweenCalls(FunctionWorker& worker);

}  // namespace neosl
