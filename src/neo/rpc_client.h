// The Neo N3 JSON-RPC client: an interface the rest of the code (and tests, and the devchain)
// programs against, and HttpRpcClient, which speaks JSON-RPC 2.0 over HTTP/1.1 (or HTTPS) to a
// C# neo-cli RpcServer or a neo-go node.
//
// Errors: a JSON-RPC error object becomes a Status whose code is the closest canonical one and
// whose ErrorDetail {"type":"NeoRpcError","code":N,…} keeps Neo's own code (see rpc_types.h);
// a node that cannot be reached is UNAVAILABLE; a call that ran out of time DEADLINE_EXCEEDED.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "neo/chain_cache.h"
#include "neo/contract_param.h"
#include "neo/rpc_types.h"
#include "neo/transaction.h"
#include "neo/uint.h"

namespace neosl::neo {

// getblock and getblockheader take either a height or a hash.
using BlockRef = std::variant<uint32_t, UInt256>;

// A signer as invokefunction/invokescript take it (the witness is not needed to simulate).
struct RpcSigner {
  UInt160 account;
  std::string scopes = "CalledByEntry";  // WitnessScope names, comma-separated
  std::vector<UInt160> allowed_contracts;
  std::vector<std::string> allowed_groups;  // hex of compressed public keys

  boost::json::value ToJson() const;
};

class RpcClient {
 public:
  virtual ~RpcClient() = default;

  virtual StatusOr<VersionInfo> GetVersion() = 0;
  // The number of blocks, i.e. the current height + 1.
  virtual StatusOr<uint32_t> GetBlockCount() = 0;
  virtual StatusOr<UInt256> GetBlockHash(uint32_t index) = 0;
  // Verbose getblock: NOT_FOUND (-101, or -100 on old nodes) for a block the node does not have.
  virtual StatusOr<BlockInfo> GetBlock(const BlockRef& block) = 0;
  virtual StatusOr<BlockInfo> GetBlockHeader(const BlockRef& block) = 0;
  // Verbose getrawtransaction, with the block context once the transaction is on chain.
  virtual StatusOr<TransactionInfo> GetRawTransaction(const UInt256& hash) = 0;
  // Relays a serialised transaction; returns its hash. Never retried once the request may have
  // reached the node (see HttpRpcClient).
  virtual StatusOr<UInt256> SendRawTransaction(std::span<const uint8_t> tx) = 0;
  // `params` are ContractParameter JSON objects ({"type":"Hash160","value":"0x…"}).
  virtual StatusOr<InvocationResult> InvokeFunction(const UInt160& contract, std::string_view method,
                                                    const boost::json::array& params,
                                                    std::span<const RpcSigner> signers) = 0;
  virtual StatusOr<InvocationResult> InvokeScript(std::span<const uint8_t> script,
                                                  std::span<const RpcSigner> signers) = 0;
  // By transaction hash, or by block hash for the OnPersist/PostPersist executions.
  virtual StatusOr<ApplicationLog> GetApplicationLog(const UInt256& container) = 0;
  // `account` is an address ("N…") or a script hash ("0x…").
  virtual StatusOr<Nep17Balances> GetNep17Balances(std::string_view account) = 0;
  // Times are Unix milliseconds, inclusive; the node's default window applies when unset.
  virtual StatusOr<Nep17Transfers> GetNep17Transfers(std::string_view account, std::optional<uint64_t> from_ms,
                                                     std::optional<uint64_t> to_ms) = 0;
  // The network fee in datoshi the node computes for a serialised (unsigned-witness) transaction.
  virtual StatusOr<int64_t> CalculateNetworkFee(std::span<const uint8_t> tx) = 0;
  virtual StatusOr<std::vector<uint8_t>> GetStorage(const UInt160& contract, std::span<const uint8_t> key) = 0;
};

// Typed conveniences over any RpcClient.
//   ContractParamsJson: the `params` of InvokeFunction from typed arguments.
//   RelayTransaction:   sendrawtransaction of tx.Encode(); DATA_LOSS if the node reports another hash.
//   NodeNetworkFee:     calculatenetworkfee of tx.Encode() (witnesses may be placeholders).
boost::json::array ContractParamsJson(std::span<const ContractParam> params);
StatusOr<UInt256> RelayTransaction(RpcClient& rpc, const Transaction& tx);
StatusOr<int64_t> NodeNetworkFee(RpcClient& rpc, const Transaction& tx);

// "scheme://host[:port][/path]" for http, https, ws and wss.
struct EndpointUrl {
  std::string scheme;  // lower case
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";
};
StatusOr<EndpointUrl> ParseEndpointUrl(std::string_view url);

struct HttpRpcClientOptions {
  std::string url;  // "http://127.0.0.1:10332" or "https://…"
  // Each attempt (connect, TLS, request and response) must finish within this, and the whole
  // call, retries and waits included, within call_timeout (measured on the Clock passed in).
  std::chrono::milliseconds attempt_timeout{10'000};
  std::chrono::milliseconds call_timeout{30'000};
  // Transport failures (refused, reset, timed out) are retried up to this many attempts in all,
  // waiting min(max_backoff, initial_backoff · 2^n), half of it jittered, in between.
  int max_attempts = 4;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5'000};
  // https: PEM trust anchors to use in addition to the system store (tests: a self-signed CA).
  std::string ca_file;
  size_t max_response_bytes = 64u << 20;
  // How to wait between attempts; tests pass one that returns at once. Default: sleep.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Chain reads kept for every client that shares it (chain_cache.h); null: none kept.
  std::shared_ptr<ChainReadCache> cache;
};

// Thread-safe: calls are serialised over one kept-alive connection (reopened when the node
// closes it). Keeps its Beast and OpenSSL machinery out of this header.
class HttpRpcClient final : public RpcClient {
 public:
  // INVALID_ARGUMENT for a malformed URL or unreadable CA file. `clock` and `random` (backoff
  // jitter) must outlive the client.
  static StatusOr<std::unique_ptr<HttpRpcClient>> Create(HttpRpcClientOptions options, const Clock& clock,
                                                         RandomSource& random);
  ~HttpRpcClient() override;
  HttpRpcClient(const HttpRpcClient&) = delete;
  HttpRpcClient& operator=(const HttpRpcClient&) = delete;

  StatusOr<VersionInfo> GetVersion() override;
  StatusOr<uint32_t> GetBlockCount() override;
  StatusOr<UInt256> GetBlockHash(uint32_t index) override;
  StatusOr<BlockInfo> GetBlock(const BlockRef& block) override;
  StatusOr<BlockInfo> GetBlockHeader(const BlockRef& block) override;
  StatusOr<TransactionInfo> GetRawTransaction(const UInt256& hash) override;
  StatusOr<UInt256> SendRawTransaction(std::span<const uint8_t> tx) override;
  StatusOr<InvocationResult> InvokeFunction(const UInt160& contract, std::string_view method,
                                            const boost::json::array& params,
                                            std::span<const RpcSigner> signers) override;
  StatusOr<InvocationResult> InvokeScript(std::span<const uint8_t> script, std::span<const RpcSigner> signers) override;
  StatusOr<ApplicationLog> GetApplicationLog(const UInt256& container) override;
  StatusOr<Nep17Balances> GetNep17Balances(std::string_view account) override;
  StatusOr<Nep17Transfers> GetNep17Transfers(std::string_view account, std::optional<uint64_t> from_ms,
                                             std::optional<uint64_t> to_ms) override;
  StatusOr<int64_t> CalculateNetworkFee(std::span<const uint8_t> tx) override;
  StatusOr<std::vector<uint8_t>> GetStorage(const UInt160& contract, std::span<const uint8_t> key) override;

  // Any other method; `idempotent` false forbids retrying once the request may have been sent.
  StatusOr<boost::json::value> Call(std::string_view method, boost::json::array params, bool idempotent = true);

  // TCP connections opened so far (tests check keep-alive reuse).
  int connections_opened() const;

 private:
  // Call, always to the node.
  StatusOr<boost::json::value> CallNode(std::string_view method, boost::json::array params, bool idempotent);
  struct Impl;
  explicit HttpRpcClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::neo
