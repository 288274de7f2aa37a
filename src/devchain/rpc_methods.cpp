// Neo's RpcServer methods over the devchain: names, positional parameters, result shapes and
// NEP-23 errors as in neo-project/neo src/Plugins/RpcServer (RpcServer.Blockchain.cs, .Node.cs,
// .SmartContract.cs, .Utilities.cs), ApplicationLogs and TokensTracker (Nep17Tracker.cs).
#include <charconv>
#include <chrono>
#include <limits>
#include <map>

#include <boost/json/serialize.hpp>

#include "core/encoding.h"
#include "devchain/rpc_internal.h"
#include "neo/account.h"
#include "neo/contract_param.h"
#include "neo/payload_json.h"
#include "neo/rpc_types.h"
#include "neo/script_builder.h"
#include "neo/signer.h"

namespace neosl::devchain::rpc {
namespace json = boost::json;
using neo::UInt160;
using neo::UInt256;

namespace {

// ---- Parameters -------------------------------------------------------------------------------

class Params {
 public:
  explicit Params(const json::array& a) : a_(a) {}
  size_t size() const { return a_.size(); }
  // Absent or null: nullptr (Neo treats a null argument as a missing one).
  const json::value* Get(size_t i) const { return i < a_.size() && !a_[i].is_null() ? &a_[i] : nullptr; }
  StatusOr<const json::value*> Required(size_t i, std::string_view name) const {
    if (const json::value* v = Get(i)) return v;
    return InvalidParams("Required parameter '" + std::string(name) + "' is missing");
  }

 private:
  const json::array& a_;
};

std::string Shown(const json::value& v) {
  std::string s = v.is_string() ? std::string(v.get_string()) : json::serialize(v);
  if (s.size() > 80) s = s.substr(0, 80) + "…";
  return s;
}

Status BadParam(std::string_view name, const json::value& v) {
  return InvalidParams("Invalid value for parameter '" + std::string(name) + "': " + Shown(v));
}

// An integer given as a JSON number or a decimal string (Neo reads both through AsString).
std::optional<int64_t> IntegerOf(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    double d = v.get_double();
    if (d != static_cast<double>(static_cast<int64_t>(d)) || d > 9e18 || d < -9e18) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  if (const auto* s = v.if_string()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
    if (ec == std::errc() && end == s->data() + s->size() && !s->empty()) return n;
  }
  return std::nullopt;
}

StatusOr<uint32_t> Uint32Param(const json::value& v, std::string_view name) {
  auto n = IntegerOf(v);
  if (!n || *n < 0 || *n > int64_t{std::numeric_limits<uint32_t>::max()}) return BadParam(name, v);
  return static_cast<uint32_t>(*n);
}

StatusOr<uint64_t> Uint64Param(const json::value& v, std::string_view name) {
  auto n = IntegerOf(v);
  if (!n || *n < 0) return BadParam(name, v);
  return static_cast<uint64_t>(*n);
}

StatusOr<UInt256> Hash256Param(const json::value& v, std::string_view name) {
  if (!v.is_string()) return BadParam(name, v);
  auto h = UInt256::Parse(v.get_string());
  if (!h.ok()) return BadParam(name, v);
  return *h;
}

// A script hash ("0x…", 40 hex digits) or an N3 address, as TokensTracker's GetScriptHashFromParam.
StatusOr<UInt160> AccountParam(const json::value& v, std::string_view name) {
  if (!v.is_string()) return BadParam(name, v);
  std::string_view s = v.get_string();
  if (auto a = neo::AddressToScriptHash(s); a.ok()) return *a;
  if (auto h = UInt160::Parse(s); h.ok()) return *h;
  return BadParam(name, v);
}

StatusOr<Bytes> Base64Param(const json::value& v, std::string_view name) {
  if (!v.is_string()) return BadParam(name, v);
  auto bytes = Base64Decode(v.get_string());
  if (!bytes) return BadParam(name, v);
  return *std::move(bytes);
}

// Neo's JToken.AsBoolean for the verbose flags.
bool Truthy(const json::value* v) {
  if (v == nullptr) return false;
  if (v->is_bool()) return v->get_bool();
  if (auto n = IntegerOf(*v); n && !v->is_string()) return *n != 0;
  if (const auto* s = v->if_string()) return *s == "true" || *s == "1";
  return false;
}

Status NoParams(Params p) {
  if (p.size() != 0) return InvalidParams("No parameters required.");
  return Status::Ok();
}

// A chain error keeps its Neo code; a bare NOT_FOUND becomes the method's "Unknown …".
Status Unknown(const Status& s, int64_t code, std::string_view message) {
  if (neo::NeoRpcErrorCode(s)) return s;
  if (s.code() == StatusCode::kNotFound)
    return code == -32602 ? InvalidParams(std::string(message)) : RpcError(code, message);
  if (s.code() == StatusCode::kInvalidArgument) return InvalidParams(std::string(s.message()));
  return s;
}

// ---- Blocks and transactions ------------------------------------------------------------------

StatusOr<neo::Block> BlockParam(const MethodContext& ctx, const json::value& key) {
  if (key.is_number()) {
    ASSIGN_OR_RETURN(uint32_t index, Uint32Param(key, "blockHashOrIndex"));
    auto block = ctx.chain.GetBlock(index);
    if (!block.ok()) return Unknown(block.status(), -101, "Unknown block");
    return *std::move(block);
  }
  ASSIGN_OR_RETURN(UInt256 hash, Hash256Param(key, "blockHashOrIndex"));
  auto block = ctx.chain.GetBlock(hash);
  if (!block.ok()) return Unknown(block.status(), -101, "Unknown block");
  return *std::move(block);
}

void AddBlockContext(const MethodContext& ctx, json::object& o, uint32_t index) {
  uint32_t height = ctx.chain.height();
  o["confirmations"] = height - index + 1;
  if (index < height) {
    if (auto next = ctx.chain.GetBlock(index + 1); next.ok()) o["nextblockhash"] = next->hash().ToString();
  }
}

StatusOr<json::value> GetBlock(const MethodContext& ctx, Params p, bool header_only) {
  if (p.size() < 1 || p.size() > 2) {
    return InvalidParams("Invalid params, need a block hash string or block index, a verbose(optional).");
  }
  ASSIGN_OR_RETURN(const json::value* key, p.Required(0, "blockHashOrIndex"));
  ASSIGN_OR_RETURN(neo::Block block, BlockParam(ctx, *key));
  if (!Truthy(p.Get(1))) {
    return json::string(Base64Encode(header_only ? block.header().Encode() : block.Encode()));
  }
  json::value v = header_only ? neo::HeaderToJson(block.header()) : neo::BlockToJson(block);
  AddBlockContext(ctx, v.as_object(), block.header().index());
  return v;
}

StatusOr<json::value> GetBlockHash(const MethodContext& ctx, Params p) {
  if (p.size() != 1) return InvalidParams("Invalid params, need a block index.");
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "height"));
  ASSIGN_OR_RETURN(uint32_t index, Uint32Param(*v, "height"));
  if (index > ctx.chain.height()) return RpcError(-109, "Unknown height");
  auto block = ctx.chain.GetBlock(index);
  if (!block.ok()) return Unknown(block.status(), -109, "Unknown height");
  return json::string(block->hash().ToString());
}

StatusOr<json::value> GetRawTransaction(const MethodContext& ctx, Params p) {
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "hash"));
  ASSIGN_OR_RETURN(UInt256 hash, Hash256Param(*v, "hash"));
  auto found = ctx.chain.GetTransaction(hash);
  if (!found.ok()) return Unknown(found.status(), -103, "Unknown transaction");
  if (!Truthy(p.Get(1))) return json::string(Base64Encode(found->tx.Encode()));
  json::value json = neo::TransactionToJson(found->tx);
  if (found->block_index) {
    json::object& o = json.as_object();
    o["blockhash"] = found->block_hash.ToString();
    o["confirmations"] = ctx.chain.height() - *found->block_index + 1;
    o["blocktime"] = found->block_time_ms;
  }
  return json;
}

StatusOr<json::value> GetRawMempool(const MethodContext& ctx, Params p) {
  if (p.size() > 1) return InvalidParams("Invalid params, need a should get unverified(optional).");
  json::array hashes;
  for (const auto& h : ctx.chain.MempoolHashes()) hashes.emplace_back(h.ToString());
  if (!Truthy(p.Get(0))) return hashes;
  // The devchain verifies on entry; nothing waits for re-verification.
  return json::object{{"height", ctx.chain.height()}, {"verified", std::move(hashes)}, {"unverified", json::array{}}};
}

StatusOr<json::value> SendRawTransaction(const MethodContext& ctx, Params p) {
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "tx"));
  auto raw = Base64Param(*v, "tx");
  // Neo decodes before relaying: bytes that are no transaction are invalid params, not -500.
  if (!raw.ok() || !neo::Transaction::Decode(*raw).ok()) {
    return InvalidParams("Invalid Transaction Format: " + Shown(*v));
  }
  ASSIGN_OR_RETURN(UInt256 hash, ctx.chain.SubmitTransaction(*raw));
  return json::object{{"hash", hash.ToString()}};
}

// ---- Contracts --------------------------------------------------------------------------------

StatusOr<std::vector<neo::Signer>> SignersParam(const json::value* v) {
  std::vector<neo::Signer> out;
  if (v == nullptr) return out;
  const json::array* a = v->if_array();
  if (a == nullptr) return InvalidParams("Invalid value for parameter 'signers': expected an array");
  if (a->size() > neo::Transaction::kMaxTransactionAttributes) return InvalidParams("Max allowed witness exceeded.");
  for (const auto& s : *a) {
    auto signer = neo::Signer::FromJson(s);
    if (!signer.ok()) return InvalidParams("Invalid signer: " + std::string(signer.status().message()));
    out.push_back(*std::move(signer));
  }
  return out;
}

json::value InvokeResult(std::span<const uint8_t> script, const ExecutionRecord& r) {
  json::array notifications, stack;
  for (const auto& n : r.notifications) notifications.push_back(NotificationToJson(n));
  for (const auto& item : r.stack) stack.push_back(StackItemToJson(item));
  return json::object{{"script", Base64Encode(script)},
                      {"state", VmStateName(r.state)},
                      {"gasconsumed", std::to_string(r.gas_consumed)},
                      {"exception", r.exception ? json::value(*r.exception) : json::value(nullptr)},
                      {"notifications", std::move(notifications)},
                      {"stack", std::move(stack)}};
}

StatusOr<json::value> InvokeFunction(const MethodContext& ctx, Params p) {
  ASSIGN_OR_RETURN(const json::value* hv, p.Required(0, "scriptHash"));
  ASSIGN_OR_RETURN(UInt160 contract, AccountParam(*hv, "scriptHash"));
  ASSIGN_OR_RETURN(const json::value* ov, p.Required(1, "operation"));
  if (!ov->is_string()) return BadParam("operation", *ov);
  std::vector<neo::ContractParam> args;
  if (const json::value* av = p.Get(2)) {
    if (!av->is_array()) return BadParam("args", *av);
    for (const auto& a : av->get_array()) {
      auto param = neo::ContractParamFromJson(a);
      if (!param.ok()) return InvalidParams("Invalid contract parameter: " + std::string(param.status().message()));
      args.push_back(*std::move(param));
    }
  }
  ASSIGN_OR_RETURN(auto signers, SignersParam(p.Get(3)));
  neo::ScriptBuilder sb;
  sb.EmitContractCall(contract, ov->get_string(), neo::CallFlags::All, args);
  Bytes script = sb.Take();
  return InvokeResult(script, ctx.chain.InvokeScript(script, std::move(signers)));
}

StatusOr<json::value> InvokeScript(const MethodContext& ctx, Params p) {
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "script"));
  ASSIGN_OR_RETURN(Bytes script, Base64Param(*v, "script"));
  ASSIGN_OR_RETURN(auto signers, SignersParam(p.Get(1)));
  return InvokeResult(script, ctx.chain.InvokeScript(script, std::move(signers)));
}

std::optional<std::string> TextOf(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (auto n = IntegerOf(v)) return std::to_string(*n);
  return std::nullopt;
}

StatusOr<json::value> GetContractState(const MethodContext& ctx, Params p) {
  if (p.size() != 1) return InvalidParams("Invalid params, need a script hash / contract id / native contract name.");
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "contractNameOrHashOrId"));
  auto key = TextOf(*v);
  if (!key) return BadParam("contractNameOrHashOrId", *v);
  auto state = ctx.chain.GetContractState(*key);
  if (!state.ok()) return Unknown(state.status(), -102, "Unknown contract");
  return *std::move(state);
}

StatusOr<json::value> GetNativeContracts(const MethodContext& ctx, Params p) {
  RETURN_IF_ERROR(NoParams(p));
  // Natives have ids -1, -2, … in registration order; the devchain may implement a subset.
  json::array out;
  for (int id = -1; id >= -32; --id) {
    if (auto state = ctx.chain.GetContractState(std::to_string(id)); state.ok()) out.push_back(*std::move(state));
  }
  return out;
}

StatusOr<json::value> GetStorage(const MethodContext& ctx, Params p) {
  ASSIGN_OR_RETURN(const json::value* cv, p.Required(0, "contractNameOrHashOrId"));
  ASSIGN_OR_RETURN(const json::value* kv, p.Required(1, "base64Key"));
  UInt160 contract;
  if (auto id = IntegerOf(*cv)) {
    auto state = ctx.chain.GetContractState(std::to_string(*id));
    if (!state.ok()) return Unknown(state.status(), -102, "Unknown contract");
    const json::object* o = state->if_object();
    const json::value* h = o ? o->if_contains("hash") : nullptr;
    auto hash = h && h->is_string() ? UInt160::Parse(h->get_string()) : StatusOr<UInt160>(InternalError("no hash"));
    if (!hash.ok()) return InternalError("contract state without a hash");
    contract = *hash;
  } else {
    if (!cv->is_string()) return BadParam("contractNameOrHashOrId", *cv);
    auto hash = UInt160::Parse(cv->get_string());
    if (!hash.ok()) return InvalidParams("Invalid contract hash " + Shown(*cv));
    contract = *hash;
  }
  ASSIGN_OR_RETURN(Bytes key, Base64Param(*kv, "base64Key"));
  auto value = ctx.chain.GetStorage(contract, key);
  if (!value.ok()) return Unknown(value.status(), -104, "Unknown storage item");
  return json::string(Base64Encode(*value));
}

StatusOr<json::value> GetApplicationLog(const MethodContext& ctx, Params p) {
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "hash"));
  ASSIGN_OR_RETURN(UInt256 hash, Hash256Param(*v, "hash"));
  auto log = ctx.chain.GetApplicationLog(hash);
  if (!log.ok()) return Unknown(log.status(), -32602, "Unknown transaction/blockhash");  // ApplicationLogs
  // ApplicationLogs takes an optional trigger ("OnPersist", "Application", …, any case).
  const json::value* trigger = p.Get(1);
  json::object* o = log->if_object();
  json::value* execs = o ? o->if_contains("executions") : nullptr;
  if (trigger && trigger->is_string() && execs && execs->is_array()) {
    auto lower = [](std::string_view s) {
      std::string out(s);
      for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
    };
    std::string want = lower(trigger->get_string());
    json::array kept;
    for (auto& e : execs->get_array()) {
      const json::value* t = e.is_object() ? e.get_object().if_contains("trigger") : nullptr;
      if (t && t->is_string() && lower(t->get_string()) == want) kept.push_back(e);
    }
    *execs = std::move(kept);
  }
  return *std::move(log);
}

StatusOr<json::value> CalculateNetworkFee(const MethodContext& ctx, Params p) {
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "tx"));
  auto raw = Base64Param(*v, "tx");
  if (!raw.ok()) return InvalidParams("Invalid tx: " + Shown(*v));
  auto fee = ctx.chain.CalculateNetworkFee(*raw);
  if (!fee.ok()) return Unknown(fee.status(), -32602, "Invalid tx");
  return json::object{{"networkfee", std::to_string(*fee)}};
}

// ---- Tokens -----------------------------------------------------------------------------------

StatusOr<json::value> GetNep17Balances(const MethodContext& ctx, Params p) {
  if (p.size() != 1) return InvalidParams("Invalid params, need an address.");
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "address"));
  ASSIGN_OR_RETURN(UInt160 account, AccountParam(*v, "address"));
  json::array balances;
  for (const auto& b : ctx.chain.Nep17Balances(account)) {
    balances.push_back(json::object{{"assethash", b.asset.ToString()},
                                    {"name", b.name},
                                    {"symbol", b.symbol},
                                    {"decimals", std::to_string(b.decimals)},  // a string in TokensTracker
                                    {"amount", b.amount},
                                    {"lastupdatedblock", b.last_updated_block}});
  }
  return json::object{{"balance", std::move(balances)}, {"address", neo::ToAddress(account)}};
}

StatusOr<json::value> GetNep17Transfers(const MethodContext& ctx, Params p) {
  if (p.size() < 1 || p.size() > 3) {
    return InvalidParams("Invalid params, need an address, a startTime(optional), a endTime(optional).");
  }
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "address"));
  ASSIGN_OR_RETURN(UInt160 account, AccountParam(*v, "address"));
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  // TokensTracker's window: a week back from now unless told otherwise.
  uint64_t end = static_cast<uint64_t>(now);
  uint64_t start = end - uint64_t{7} * 24 * 3600 * 1000;
  if (const json::value* s = p.Get(1)) {
    ASSIGN_OR_RETURN(start, Uint64Param(*s, "startTime"));
  }
  if (const json::value* e = p.Get(2)) {
    ASSIGN_OR_RETURN(end, Uint64Param(*e, "endTime"));
  }
  if (end < start) return InvalidParams("endTime is before startTime");
  json::array sent, received;
  for (const auto& t : ctx.chain.Nep17Transfers(account, start, end)) {
    json::object o{{"timestamp", t.timestamp_ms},
                   {"assethash", t.asset.ToString()},
                   {"transferaddress", t.counterparty ? json::value(neo::ToAddress(*t.counterparty)) : json::value()},
                   {"amount", t.amount},
                   {"blockindex", t.block_index},
                   {"transfernotifyindex", t.transfer_notify_index},
                   {"txhash", t.tx_hash.ToString()}};
    (t.sent ? sent : received).push_back(std::move(o));
  }
  return json::object{
      {"sent", std::move(sent)}, {"received", std::move(received)}, {"address", neo::ToAddress(account)}};
}

// ---- Node and utilities -----------------------------------------------------------------------

StatusOr<json::value> GetVersion(const MethodContext& ctx, Params) {
  json::object rpc{{"maxiteratorresultitems", 100}, {"sessionenabled", false}};
  json::object protocol{{"addressversion", 53},
                        {"network", ctx.chain.network()},
                        {"validatorscount", 1},
                        {"msperblock", ctx.chain.block_time().count()},
                        {"maxtraceableblocks", 2'102'400},
                        {"maxvaliduntilblockincrement", kMaxValidUntilBlockIncrement},
                        {"maxtransactionsperblock", kMaxTransactionsPerBlock},
                        {"memorypoolmaxtransactions", kMemoryPoolMaxTransactions},
                        {"initialgasdistribution", 5'200'000'000'000'000LL},
                        {"hardforks", json::array{}}};
  return json::object{{"tcpport", ctx.tcp_port},
                      {"nonce", ctx.nonce},
                      {"useragent", kUserAgent},
                      {"rpc", std::move(rpc)},
                      {"protocol", std::move(protocol)}};
}

StatusOr<json::value> ValidateAddress(const MethodContext&, Params p) {
  ASSIGN_OR_RETURN(const json::value* v, p.Required(0, "address"));
  bool valid = v->is_string() && neo::AddressToScriptHash(v->get_string()).ok();
  return json::object{{"address", *v}, {"isvalid", valid}};
}

using Method = StatusOr<json::value> (*)(const MethodContext&, Params);

const std::map<std::string, Method, std::less<>>& Methods() {
  static const auto* methods = new std::map<std::string, Method, std::less<>>{
      {"getversion", GetVersion},
      {"getbestblockhash",
       [](const MethodContext& c, Params p) -> StatusOr<json::value> {
         RETURN_IF_ERROR(NoParams(p));
         return json::string(c.chain.tip_hash().ToString());
       }},
      {"getblockcount",
       [](const MethodContext& c, Params p) -> StatusOr<json::value> {
         RETURN_IF_ERROR(NoParams(p));
         return c.chain.height() + 1;
       }},
      {"getblockheadercount",
       [](const MethodContext& c, Params p) -> StatusOr<json::value> {
         RETURN_IF_ERROR(NoParams(p));
         return c.chain.height() + 1;
       }},
      {"getblockhash", GetBlockHash},
      {"getblock", [](const MethodContext& c, Params p) { return GetBlock(c, p, false); }},
      {"getblockheader", [](const MethodContext& c, Params p) { return GetBlock(c, p, true); }},
      {"getrawtransaction", GetRawTransaction},
      {"getrawmempool", GetRawMempool},
      {"sendrawtransaction", SendRawTransaction},
      {"invokefunction", InvokeFunction},
      {"invokescript", InvokeScript},
      {"getapplicationlog", GetApplicationLog},
      {"getnep17balances", GetNep17Balances},
      {"getnep17transfers", GetNep17Transfers},
      {"calculatenetworkfee", CalculateNetworkFee},
      {"getstorage", GetStorage},
      {"getcontractstate", GetContractState},
      {"getnativecontracts", GetNativeContracts},
      {"validateaddress", ValidateAddress},
      {"getconnectioncount",
       [](const MethodContext&, Params p) -> StatusOr<json::value> {
         RETURN_IF_ERROR(NoParams(p));
         return 0;
       }},
      {"getpeers",
       [](const MethodContext&, Params p) -> StatusOr<json::value> {
         RETURN_IF_ERROR(NoParams(p));
         return json::object{{"unconnected", json::array{}}, {"bad", json::array{}}, {"connected", json::array{}}};
       }},
  };
  return *methods;
}

}  // namespace

StatusOr<json::value> CallMethod(const MethodContext& ctx, std::string_view method, const json::array& params) {
  const auto& methods = Methods();
  auto it = methods.find(method);
  if (it == methods.end()) return RpcError(-32601, "Method not found", std::string(method));
  return it->second(ctx, Params(params));
}

}  // namespace neosl::devchain::rpc
