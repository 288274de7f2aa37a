#include "neo/rpc_types.h"

#include <charconv>
#include <limits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "neo/payload_json.h"

namespace neosl::neo {
namespace json = boost::json;

namespace {

Status Malformed(std::string_view what, std::string_view why) {
  return InternalError("malformed Neo RPC response: " + std::string(what) + " " + std::string(why));
}

StatusOr<const json::object*> AsObject(const json::value& v, std::string_view what) {
  if (const auto* o = v.if_object()) return o;
  return Malformed(what, "is not an object");
}

StatusOr<const json::array*> ArrayField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Malformed(key, "is missing");
  if (const auto* a = v->if_array()) return a;
  return Malformed(key, "is not an array");
}

StatusOr<std::string_view> StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Malformed(key, "is missing");
  if (const auto* s = v->if_string()) return std::string_view(*s);
  return Malformed(key, "is not a string");
}

// Missing or null: nullopt. Present but not a string: an error.
StatusOr<std::optional<std::string>> OptionalString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (const auto* s = v->if_string()) return std::optional<std::string>(std::string(*s));
  return Malformed(key, "is not a string");
}

StatusOr<int64_t> Int64Of(const json::value& v, std::string_view what) {
  boost::system::error_code ec;
  if (!v.is_number()) return Malformed(what, "is not a number");
  auto n = v.to_number<int64_t>(ec);
  if (ec) return Malformed(what, "is not an integer within int64");
  return n;
}

template <typename T>
StatusOr<T> UnsignedField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Malformed(key, "is missing");
  ASSIGN_OR_RETURN(int64_t n, Int64Of(*v, key));
  if (n < 0 || static_cast<uint64_t>(n) > std::numeric_limits<T>::max()) return Malformed(key, "is out of range");
  return static_cast<T>(n);
}

template <typename T>
StatusOr<std::optional<T>> OptionalUnsigned(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<T>();
  ASSIGN_OR_RETURN(T n, UnsignedField<T>(o, key));
  return std::optional<T>(n);
}

bool IsIntegerText(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Neo sends int64 amounts (gas, fees) as decimal strings so that JavaScript keeps them exact.
StatusOr<int64_t> Int64TextField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return Malformed(key, "is missing");
  if (v->is_number()) return Int64Of(*v, key);
  const auto* s = v->if_string();
  if (s == nullptr) return Malformed(key, "is not an integer string");
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
  if (ec != std::errc() || end != s->data() + s->size() || s->empty()) {
    return Malformed(key, "is not an integer string within int64");
  }
  return n;
}

StatusOr<std::string> IntegerTextField(const json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(std::string_view s, StringField(o, key));
  if (!IsIntegerText(s)) return Malformed(key, "is not an integer string");
  return std::string(s);
}

StatusOr<UInt160> Hash160Field(const json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(std::string_view s, StringField(o, key));
  auto h = UInt160::Parse(s);
  if (!h.ok()) return Malformed(key, "is not a 160-bit hash");
  return *h;
}

StatusOr<UInt256> Hash256Field(const json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(std::string_view s, StringField(o, key));
  auto h = UInt256::Parse(s);
  if (!h.ok()) return Malformed(key, "is not a 256-bit hash");
  return *h;
}

StatusOr<std::optional<UInt256>> OptionalHash256(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<UInt256>();
  ASSIGN_OR_RETURN(UInt256 h, Hash256Field(o, key));
  return std::optional<UInt256>(h);
}

StatusOr<std::vector<RpcStackItem>> StackField(const json::object& o, std::string_view key) {
  std::vector<RpcStackItem> out;
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return out;
  // A node that cannot serialise an item answers a string such as "error: recursive reference"
  // instead of the whole stack; keep what it sent rather than failing the call.
  if (v->is_string()) {
    out.emplace_back(*v);
    return out;
  }
  ASSIGN_OR_RETURN(const json::array* a, ArrayField(o, key));
  for (const auto& item : *a) out.emplace_back(item);
  return out;
}

StatusOr<std::vector<ContractNotification>> NotificationsField(const json::object& o) {
  std::vector<ContractNotification> out;
  const json::value* v = o.if_contains("notifications");
  if (v == nullptr || v->is_null()) return out;
  ASSIGN_OR_RETURN(const json::array* a, ArrayField(o, "notifications"));
  for (const auto& item : *a) {
    ASSIGN_OR_RETURN(auto cn, ParseNotification(item));
    out.push_back(std::move(cn));
  }
  return out;
}

}  // namespace

// ---- getversion -----------------------------------------------------------------------------

StatusOr<VersionInfo> ParseVersion(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "getversion result"));
  VersionInfo v;
  ASSIGN_OR_RETURN(v.tcp_port, UnsignedField<uint16_t>(*o, "tcpport"));
  ASSIGN_OR_RETURN(v.nonce, UnsignedField<uint32_t>(*o, "nonce"));
  ASSIGN_OR_RETURN(auto ua, StringField(*o, "useragent"));
  v.user_agent = std::string(ua);
  if (const json::value* rpc = o->if_contains("rpc"); rpc && rpc->is_object()) {
    const auto& r = rpc->get_object();
    ASSIGN_OR_RETURN(v.max_iterator_result_items, OptionalUnsigned<uint32_t>(r, "maxiteratorresultitems"));
    if (const json::value* s = r.if_contains("sessionenabled"); s && s->is_bool()) v.session_enabled = s->get_bool();
  }
  const json::value* pv = o->if_contains("protocol");
  if (pv == nullptr) return Malformed("protocol", "is missing");
  ASSIGN_OR_RETURN(const json::object* p, AsObject(*pv, "protocol"));
  ProtocolSettings& s = v.protocol;
  ASSIGN_OR_RETURN(s.network, UnsignedField<uint32_t>(*p, "network"));
  ASSIGN_OR_RETURN(s.address_version, UnsignedField<uint8_t>(*p, "addressversion"));
  ASSIGN_OR_RETURN(s.ms_per_block, UnsignedField<uint32_t>(*p, "msperblock"));
  ASSIGN_OR_RETURN(s.max_valid_until_block_increment, UnsignedField<uint32_t>(*p, "maxvaliduntilblockincrement"));
  ASSIGN_OR_RETURN(auto traceable, OptionalUnsigned<uint32_t>(*p, "maxtraceableblocks"));
  ASSIGN_OR_RETURN(auto validators, OptionalUnsigned<uint32_t>(*p, "validatorscount"));
  ASSIGN_OR_RETURN(auto per_block, OptionalUnsigned<uint32_t>(*p, "maxtransactionsperblock"));
  ASSIGN_OR_RETURN(auto pool, OptionalUnsigned<uint32_t>(*p, "memorypoolmaxtransactions"));
  s.max_traceable_blocks = traceable.value_or(0);
  s.validators_count = validators.value_or(0);
  s.max_transactions_per_block = per_block.value_or(0);
  s.memory_pool_max_transactions = pool.value_or(0);
  if (const json::value* g = p->if_contains("initialgasdistribution"); g && !g->is_null()) {
    ASSIGN_OR_RETURN(s.initial_gas_distribution, Int64TextField(*p, "initialgasdistribution"));
  }
  if (const json::value* hf = p->if_contains("hardforks"); hf && !hf->is_null()) {
    ASSIGN_OR_RETURN(const json::array* forks, ArrayField(*p, "hardforks"));
    for (const auto& f : *forks) {
      ASSIGN_OR_RETURN(const json::object* fo, AsObject(f, "hardfork"));
      Hardfork h;
      ASSIGN_OR_RETURN(auto name, StringField(*fo, "name"));
      h.name = std::string(name);
      if (h.name.rfind("HF_", 0) == 0) h.name.erase(0, 3);
      ASSIGN_OR_RETURN(h.block_height, UnsignedField<uint32_t>(*fo, "blockheight"));
      s.hardforks.push_back(std::move(h));
    }
  }
  return v;
}

// ---- Stack items and executions -------------------------------------------------------------

std::string_view VmStateName(VmState state) {
  switch (state) {
    case VmState::kHalt: return "HALT";
    case VmState::kFault: return "FAULT";
    case VmState::kBreak: return "BREAK";
    case VmState::kNone: break;
  }
  return "NONE";
}

StatusOr<VmState> ParseVmState(std::string_view text) {
  // Neo 2 printed flags ("HALT, BREAK"); N3 prints one state.
  if (text == "HALT") return VmState::kHalt;
  if (text == "FAULT") return VmState::kFault;
  if (text == "BREAK") return VmState::kBreak;
  if (text == "NONE") return VmState::kNone;
  return Malformed("vmstate", "is not HALT, FAULT, BREAK or NONE");
}

std::string_view RpcStackItem::type() const {
  const auto* o = json_.if_object();
  if (o == nullptr) return {};
  const json::value* t = o->if_contains("type");
  if (t == nullptr || !t->is_string()) return {};
  return t->get_string();
}

namespace {
StatusOr<const json::value*> ItemValue(const json::value& item, std::initializer_list<std::string_view> types) {
  const auto* o = item.if_object();
  const json::value* t = o ? o->if_contains("type") : nullptr;
  std::string_view type = t && t->is_string() ? std::string_view(t->get_string()) : std::string_view();
  bool match = false;
  for (auto want : types) match = match || type == want;
  if (!match) {
    return FailedPreconditionError("stack item is " + (type.empty() ? std::string("untyped") : std::string(type)) +
                                   ", not " + std::string(*types.begin()));
  }
  const json::value* v = o->if_contains("value");
  if (v == nullptr) return Malformed("stack item value", "is missing");
  return v;
}
}  // namespace

StatusOr<std::string> RpcStackItem::IntegerText() const {
  ASSIGN_OR_RETURN(const json::value* v, ItemValue(json_, {"Integer"}));
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  const auto* s = v->if_string();
  if (s == nullptr || !IsIntegerText(*s)) return Malformed("Integer value", "is not an integer string");
  return std::string(*s);
}

StatusOr<int64_t> RpcStackItem::AsInt64() const {
  ASSIGN_OR_RETURN(std::string text, IntegerText());
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return OutOfRangeError("Integer " + text + " does not fit in int64");
  }
  return n;
}

StatusOr<std::vector<uint8_t>> RpcStackItem::AsBytes() const {
  ASSIGN_OR_RETURN(const json::value* v, ItemValue(json_, {"ByteString", "Buffer"}));
  const auto* s = v->if_string();
  if (s == nullptr) return Malformed("ByteString value", "is not a string");
  auto bytes = Base64Decode(*s);
  if (!bytes) return Malformed("ByteString value", "is not base64");
  return *std::move(bytes);
}

StatusOr<std::string> RpcStackItem::AsString() const {
  ASSIGN_OR_RETURN(auto bytes, AsBytes());
  return std::string(bytes.begin(), bytes.end());
}

StatusOr<bool> RpcStackItem::AsBool() const {
  ASSIGN_OR_RETURN(const json::value* v, ItemValue(json_, {"Boolean"}));
  if (!v->is_bool()) return Malformed("Boolean value", "is not a boolean");
  return v->get_bool();
}

StatusOr<std::vector<RpcStackItem>> RpcStackItem::AsArray() const {
  ASSIGN_OR_RETURN(const json::value* v, ItemValue(json_, {"Array", "Struct"}));
  const auto* a = v->if_array();
  if (a == nullptr) return Malformed("Array value", "is not an array");
  std::vector<RpcStackItem> out;
  out.reserve(a->size());
  for (const auto& e : *a) out.emplace_back(e);
  return out;
}

StatusOr<ContractNotification> ParseNotification(const json::value& json) {
  ASSIGN_OR_RETURN(const json::object* n, AsObject(json, "notification"));
  ContractNotification cn;
  ASSIGN_OR_RETURN(cn.contract, Hash160Field(*n, "contract"));
  ASSIGN_OR_RETURN(auto name, StringField(*n, "eventname"));
  cn.event_name = std::string(name);
  const json::value* state = n->if_contains("state");
  cn.state = RpcStackItem(state ? *state : json::value());
  return cn;
}

StatusOr<InvocationResult> ParseInvocationResult(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "invoke result"));
  InvocationResult r;
  ASSIGN_OR_RETURN(auto script, StringField(*o, "script"));
  auto bytes = Base64Decode(script);
  if (!bytes) return Malformed("script", "is not base64");
  r.script = *std::move(bytes);
  ASSIGN_OR_RETURN(auto state, StringField(*o, "state"));
  ASSIGN_OR_RETURN(r.state, ParseVmState(state));
  ASSIGN_OR_RETURN(r.gas_consumed, Int64TextField(*o, "gasconsumed"));
  ASSIGN_OR_RETURN(r.exception, OptionalString(*o, "exception"));
  ASSIGN_OR_RETURN(r.stack, StackField(*o, "stack"));
  ASSIGN_OR_RETURN(r.notifications, NotificationsField(*o));
  ASSIGN_OR_RETURN(r.session, OptionalString(*o, "session"));
  return r;
}

StatusOr<ExecutionResult> ParseExecution(const json::value& json) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(json, "execution"));
  ExecutionResult e;
  ASSIGN_OR_RETURN(auto trigger, StringField(*o, "trigger"));
  e.trigger = std::string(trigger);
  ASSIGN_OR_RETURN(auto state, StringField(*o, "vmstate"));
  ASSIGN_OR_RETURN(e.vm_state, ParseVmState(state));
  ASSIGN_OR_RETURN(e.exception, OptionalString(*o, "exception"));
  ASSIGN_OR_RETURN(e.gas_consumed, Int64TextField(*o, "gasconsumed"));
  ASSIGN_OR_RETURN(e.stack, StackField(*o, "stack"));
  ASSIGN_OR_RETURN(e.notifications, NotificationsField(*o));
  return e;
}

StatusOr<ApplicationLog> ParseApplicationLog(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "getapplicationlog result"));
  ApplicationLog log;
  if (o->contains("txid")) {
    ASSIGN_OR_RETURN(log.container, Hash256Field(*o, "txid"));
  } else if (o->contains("blockhash")) {
    ASSIGN_OR_RETURN(log.container, Hash256Field(*o, "blockhash"));
  } else {
    ASSIGN_OR_RETURN(log.container, Hash256Field(*o, "container"));
  }
  ASSIGN_OR_RETURN(const json::array* execs, ArrayField(*o, "executions"));
  for (const auto& e : *execs) {
    ASSIGN_OR_RETURN(auto exec, ParseExecution(e));
    log.executions.push_back(std::move(exec));
  }
  return log;
}

// ---- Blocks and transactions ------------------------------------------------------------------

StatusOr<BlockInfo> ParseBlockInfo(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "block"));
  BlockInfo b;
  if (o->contains("tx")) {
    auto block = BlockFromJson(result);
    if (!block.ok()) return Malformed("block", "does not decode: " + std::string(block.status().message()));
    for (const auto& tx : block->transactions()) b.tx_hashes.push_back(tx.hash());
    b.header = block->header();
    b.block = *std::move(block);
  } else {
    auto header = HeaderFromJson(result);
    if (!header.ok()) return Malformed("header", "does not decode: " + std::string(header.status().message()));
    b.header = *std::move(header);
  }
  b.hash = b.header->hash();
  b.index = b.header->index();
  b.time_ms = b.header->timestamp();
  b.previous_hash = b.header->prev_hash();
  b.primary = b.header->primary_index();
  ASSIGN_OR_RETURN(b.confirmations, OptionalUnsigned<uint32_t>(*o, "confirmations"));
  ASSIGN_OR_RETURN(b.next_block_hash, OptionalHash256(*o, "nextblockhash"));
  b.json = result;
  return b;
}

StatusOr<TransactionInfo> ParseTransactionInfo(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "transaction"));
  auto tx = TransactionFromJson(result);
  if (!tx.ok()) return Malformed("transaction", "does not decode: " + std::string(tx.status().message()));
  TransactionInfo t;
  t.hash = tx->hash();
  for (const auto& s : tx->signers()) t.signers.push_back(s.account);
  t.sender = tx->sender();
  t.tx = *std::move(tx);
  ASSIGN_OR_RETURN(t.block_hash, OptionalHash256(*o, "blockhash"));
  ASSIGN_OR_RETURN(t.confirmations, OptionalUnsigned<uint32_t>(*o, "confirmations"));
  ASSIGN_OR_RETURN(t.block_time_ms, OptionalUnsigned<uint64_t>(*o, "blocktime"));
  for (std::string_view key : {"vmstate", "vmState"}) {
    ASSIGN_OR_RETURN(auto state, OptionalString(*o, key));
    if (state) {
      ASSIGN_OR_RETURN(VmState vs, ParseVmState(*state));
      t.vm_state = vs;
    }
  }
  t.json = result;
  return t;
}

// ---- Tokens -----------------------------------------------------------------------------------

StatusOr<Nep17Balances> ParseNep17Balances(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "getnep17balances result"));
  Nep17Balances out;
  ASSIGN_OR_RETURN(auto address, StringField(*o, "address"));
  out.address = std::string(address);
  ASSIGN_OR_RETURN(const json::array* balances, ArrayField(*o, "balance"));
  for (const auto& bv : *balances) {
    ASSIGN_OR_RETURN(const json::object* b, AsObject(bv, "balance"));
    Nep17Balance nb;
    ASSIGN_OR_RETURN(nb.asset_hash, Hash160Field(*b, "assethash"));
    ASSIGN_OR_RETURN(auto name, OptionalString(*b, "name"));
    ASSIGN_OR_RETURN(auto symbol, OptionalString(*b, "symbol"));
    nb.name = name.value_or("");
    nb.symbol = symbol.value_or("");
    // C# sends decimals as a string ("8"), neo-go as a number.
    if (const json::value* d = b->if_contains("decimals"); d && !d->is_null()) {
      ASSIGN_OR_RETURN(int64_t dec, Int64TextField(*b, "decimals"));
      if (dec < 0 || dec > 255) return Malformed("decimals", "is out of range");
      nb.decimals = static_cast<uint32_t>(dec);
    }
    ASSIGN_OR_RETURN(nb.amount, IntegerTextField(*b, "amount"));
    ASSIGN_OR_RETURN(nb.last_updated_block, UnsignedField<uint32_t>(*b, "lastupdatedblock"));
    out.balances.push_back(std::move(nb));
  }
  return out;
}

namespace {
StatusOr<std::vector<Nep17Transfer>> TransfersField(const json::object& o, std::string_view key) {
  std::vector<Nep17Transfer> out;
  ASSIGN_OR_RETURN(const json::array* a, ArrayField(o, key));
  for (const auto& tv : *a) {
    ASSIGN_OR_RETURN(const json::object* t, AsObject(tv, "transfer"));
    Nep17Transfer x;
    ASSIGN_OR_RETURN(x.timestamp_ms, UnsignedField<uint64_t>(*t, "timestamp"));
    ASSIGN_OR_RETURN(x.asset_hash, Hash160Field(*t, "assethash"));
    ASSIGN_OR_RETURN(x.transfer_address, OptionalString(*t, "transferaddress"));
    ASSIGN_OR_RETURN(x.amount, IntegerTextField(*t, "amount"));
    ASSIGN_OR_RETURN(x.block_index, UnsignedField<uint32_t>(*t, "blockindex"));
    ASSIGN_OR_RETURN(x.transfer_notify_index, UnsignedField<uint32_t>(*t, "transfernotifyindex"));
    ASSIGN_OR_RETURN(x.tx_hash, Hash256Field(*t, "txhash"));
    out.push_back(std::move(x));
  }
  return out;
}
}  // namespace

StatusOr<Nep17Transfers> ParseNep17Transfers(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "getnep17transfers result"));
  Nep17Transfers out;
  ASSIGN_OR_RETURN(auto address, StringField(*o, "address"));
  out.address = std::string(address);
  ASSIGN_OR_RETURN(out.sent, TransfersField(*o, "sent"));
  ASSIGN_OR_RETURN(out.received, TransfersField(*o, "received"));
  return out;
}

// ---- Small results ----------------------------------------------------------------------------

StatusOr<uint32_t> ParseBlockCount(const json::value& result) {
  ASSIGN_OR_RETURN(int64_t n, Int64Of(result, "block count"));
  if (n < 1 || n > int64_t{std::numeric_limits<uint32_t>::max()}) return Malformed("block count", "is out of range");
  return static_cast<uint32_t>(n);
}

StatusOr<UInt256> ParseHash256(const json::value& result) {
  const auto* s = result.if_string();
  if (s == nullptr) return Malformed("hash", "is not a string");
  auto h = UInt256::Parse(*s);
  if (!h.ok()) return Malformed("hash", "is not a 256-bit hash");
  return *h;
}

StatusOr<UInt256> ParseSendRawTransaction(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "sendrawtransaction result"));
  return Hash256Field(*o, "hash");
}

StatusOr<int64_t> ParseNetworkFee(const json::value& result) {
  ASSIGN_OR_RETURN(const json::object* o, AsObject(result, "calculatenetworkfee result"));
  return Int64TextField(*o, "networkfee");
}

StatusOr<std::vector<uint8_t>> ParseBase64Result(const json::value& result) {
  const auto* s = result.if_string();
  if (s == nullptr) return Malformed("result", "is not a base64 string");
  auto bytes = Base64Decode(*s);
  if (!bytes) return Malformed("result", "is not base64");
  return *std::move(bytes);
}

}  // namespace neosl::neo
