// Typed results of Neo N3 JSON-RPC calls, and their parsers.
//
// Field names and types follow the C# RpcServer (neo-project/neo, plugins RpcServer,
// ApplicationLogs, TokensTracker) and are also what neo-go answers:
//   getversion          {"tcpport","nonce","useragent","rpc":{…},"protocol":{"network","addressversion",
//                        "msperblock","maxvaliduntilblockincrement",…}}
//   invokefunction/     {"script":b64,"state":"HALT"|"FAULT","gasconsumed":"<int>","exception":str|null,
//   invokescript         "notifications":[…],"stack":[…],"session"?}
//   getapplicationlog   {"txid"|"blockhash","executions":[{"trigger","vmstate","exception","gasconsumed",
//                        "stack","notifications":[{"contract","eventname","state"}]}]}
//   getnep17balances    {"address","balance":[{"assethash","name"?,"symbol"?,"decimals"?,"amount":"<int>",
//                        "lastupdatedblock"}]}
//   getnep17transfers   {"address","sent":[…],"received":[{"timestamp","assethash","transferaddress"|null,
//                        "amount","blockindex","transfernotifyindex","txhash"}]}
//   calculatenetworkfee {"networkfee":"<int>"}
//
// Every parser takes JSON that came off the network: it never throws or asserts, and answers a
// malformed shape with INTERNAL naming the field (the node broke the protocol; that is neither
// the caller's mistake nor worth retrying).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/encoding.h"  // Base64Encode/Decode
#include "core/status.h"
#include "neo/block.h"
#include "neo/transaction.h"
#include "neo/uint.h"

namespace neosl::neo {

// ---- JSON-RPC envelope ----------------------------------------------------------------------

// The `result` of a JSON-RPC 2.0 response body, or its `error` as a Status (see RpcErrorToStatus).
// INTERNAL when the body is not a JSON-RPC response at all.
StatusOr<boost::json::value> ParseRpcResponse(std::string_view body);

// Maps a JSON-RPC error object to a Status with the most specific canonical code, keeping Neo's
// own code, message and data in an ErrorDetail {"type":"NeoRpcError","code":N,"message":…,"data":…}.
// Knows both the NEP-23 codes (-101…-608, neo ≥ 3.7 and neo-go ≥ 0.102) and the older
// ones (-100 unknown item, -300 funds, -400 wallet, -500 relay failure with the reason as message).
Status RpcErrorToStatus(int64_t code, std::string_view message, std::string_view data);

// The Neo RPC error code kept in `status` by RpcErrorToStatus, if any.
std::optional<int64_t> NeoRpcErrorCode(const Status& status);

// ---- getversion -----------------------------------------------------------------------------

struct Hardfork {
  std::string name;  // without the "HF_" prefix
  uint32_t block_height = 0;
};

struct ProtocolSettings {
  uint32_t network = 0;  // the network magic signed into every transaction
  uint8_t address_version = 0;
  uint32_t ms_per_block = 0;
  uint32_t max_valid_until_block_increment = 0;
  uint32_t max_traceable_blocks = 0;
  uint32_t validators_count = 0;
  uint32_t max_transactions_per_block = 0;
  uint32_t memory_pool_max_transactions = 0;
  int64_t initial_gas_distribution = 0;
  std::vector<Hardfork> hardforks;
};

struct VersionInfo {
  uint16_t tcp_port = 0;
  uint32_t nonce = 0;
  std::string user_agent;  // "/Neo:3.7.4/", "/NEO-GO:0.106.0/"
  ProtocolSettings protocol;
  std::optional<uint32_t> max_iterator_result_items;  // "rpc" section, newer nodes only
  std::optional<bool> session_enabled;
};

StatusOr<VersionInfo> ParseVersion(const boost::json::value& result);

// ---- Stack items and executions -------------------------------------------------------------

enum class VmState { kNone, kHalt, kFault, kBreak };
std::string_view VmStateName(VmState state);
StatusOr<VmState> ParseVmState(std::string_view text);

// A VM stack item in Neo's typed JSON ({"type":"Integer","value":"42"}), kept as JSON, with
// typed views for the common types. The views answer FAILED_PRECONDITION on a type mismatch.
class RpcStackItem {
 public:
  RpcStackItem() = default;
  explicit RpcStackItem(boost::json::value json) : json_(std::move(json)) {}

  // "Integer", "ByteString", "Buffer", "Boolean", "Array", "Struct", "Map", "Any", "Pointer",
  // "InteropInterface"; empty if the node sent something else (e.g. an "error: …" string).
  std::string_view type() const;
  const boost::json::value& json() const { return json_; }

  // Integer (decimal string) within int64; OUT_OF_RANGE for bigger values (use IntegerText).
  StatusOr<int64_t> AsInt64() const;
  StatusOr<std::string> IntegerText() const;       // exact decimal text, any size
  StatusOr<std::vector<uint8_t>> AsBytes() const;  // ByteString or Buffer
  StatusOr<std::string> AsString() const;          // ByteString as UTF-8 text
  StatusOr<bool> AsBool() const;
  StatusOr<std::vector<RpcStackItem>> AsArray() const;  // Array or Struct

 private:
  boost::json::value json_;
};

struct ContractNotification {
  UInt160 contract;
  std::string event_name;
  RpcStackItem state;  // an Array of the event's arguments
};

// {"contract","eventname","state"}; neo-go's notification_from_execution adds "container".
StatusOr<ContractNotification> ParseNotification(const boost::json::value& json);

struct InvocationResult {
  std::vector<uint8_t> script;
  VmState state = VmState::kNone;
  int64_t gas_consumed = 0;  // in datoshi (10^-8 GAS)
  std::optional<std::string> exception;
  std::vector<RpcStackItem> stack;
  std::vector<ContractNotification> notifications;
  std::optional<std::string> session;  // iterator session id, when the node keeps one open
};

StatusOr<InvocationResult> ParseInvocationResult(const boost::json::value& result);

struct ExecutionResult {
  std::string trigger;  // "Application", "OnPersist", "PostPersist", "Verification"
  VmState vm_state = VmState::kNone;
  std::optional<std::string> exception;
  int64_t gas_consumed = 0;
  std::vector<RpcStackItem> stack;
  std::vector<ContractNotification> notifications;
};

// One execution object (an element of "executions", or neo-go's transaction_executed payload).
StatusOr<ExecutionResult> ParseExecution(const boost::json::value& json);

struct ApplicationLog {
  UInt256 container;  // "txid", "blockhash" or (neo-go events) "container"
  std::vector<ExecutionResult> executions;
};

StatusOr<ApplicationLog> ParseApplicationLog(const boost::json::value& result);

// ---- Blocks and transactions (verbose JSON) -------------------------------------------------

// A verbose block (getblock, neo-go's block_added) or header (getblockheader). The payload is
// decoded into the typed Header/Block (payload_json.h), whose hash must be the one the node
// states; the summary fields repeat the header's for convenience, and the JSON is kept.
struct BlockInfo {
  UInt256 hash;
  uint32_t index = 0;
  uint64_t time_ms = 0;
  UInt256 previous_hash;
  std::optional<uint32_t> primary;
  std::vector<UInt256> tx_hashes;  // empty for a header
  std::optional<uint32_t> confirmations;
  std::optional<UInt256> next_block_hash;
  std::optional<Header> header;  // set by ParseBlockInfo
  std::optional<Block> block;    // set by ParseBlockInfo when the JSON has "tx"
  boost::json::value json;
};

StatusOr<BlockInfo> ParseBlockInfo(const boost::json::value& result);

// A verbose transaction (getrawtransaction, a block's "tx", neo-go's transaction_added), with
// the block context getrawtransaction adds once it is on chain.
struct TransactionInfo {
  UInt256 hash;
  std::optional<UInt160> sender;  // the first signer's account
  std::vector<UInt160> signers;
  std::optional<Transaction> tx;      // set by ParseTransactionInfo; its hash is `hash`
  std::optional<UInt256> block_hash;  // unset while the transaction is only in the mempool
  std::optional<uint32_t> confirmations;
  std::optional<uint64_t> block_time_ms;
  std::optional<VmState> vm_state;  // neo-go and older C# nodes only
  boost::json::value json;
};

StatusOr<TransactionInfo> ParseTransactionInfo(const boost::json::value& result);

// ---- Tokens ---------------------------------------------------------------------------------

struct Nep17Balance {
  UInt160 asset_hash;
  std::string name;    // empty on nodes that do not send it
  std::string symbol;  // empty on nodes that do not send it
  std::optional<uint32_t> decimals;
  std::string amount;  // exact integer in the token's smallest unit; may exceed int64
  uint32_t last_updated_block = 0;
};

struct Nep17Balances {
  std::string address;
  std::vector<Nep17Balance> balances;
};

StatusOr<Nep17Balances> ParseNep17Balances(const boost::json::value& result);

struct Nep17Transfer {
  uint64_t timestamp_ms = 0;
  UInt160 asset_hash;
  std::optional<std::string> transfer_address;  // unset for mints and burns
  std::string amount;                           // exact integer in the token's smallest unit
  uint32_t block_index = 0;
  uint32_t transfer_notify_index = 0;
  UInt256 tx_hash;
};

struct Nep17Transfers {
  std::string address;
  std::vector<Nep17Transfer> sent;
  std::vector<Nep17Transfer> received;
};

StatusOr<Nep17Transfers> ParseNep17Transfers(const boost::json::value& result);

// ---- Small results --------------------------------------------------------------------------

StatusOr<uint32_t> ParseBlockCount(const boost::json::value& result);
StatusOr<UInt256> ParseHash256(const boost::json::value& result);             // "0x…" string
StatusOr<UInt256> ParseSendRawTransaction(const boost::json::value& result);  // {"hash":"0x…"}
StatusOr<int64_t> ParseNetworkFee(const boost::json::value& result);          // {"networkfee":"…"}
StatusOr<std::vector<uint8_t>> ParseBase64Result(const boost::json::value& result);

}  // namespace neosl::neo
