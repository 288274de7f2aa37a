#include "neo/payload_json.h"

#include <algorithm>
#include <cmath>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/encoding.h"
#include "crypto/base58.h"
#include "neo/account.h"

namespace neosl::neo {

namespace rpcjson {

namespace {

Status FieldError(std::string_view what, std::string_view key, std::string_view problem) {
  return InvalidArgumentError(std::string(what) + " \"" + std::string(key) + "\": " + std::string(problem));
}

}  // namespace

StatusOr<UInt160> ParseAddress(std::string_view address, std::string_view what) {
  auto hash = AddressToScriptHash(address);
  if (!hash.ok()) return hash.status().Annotate(what);
  return hash;
}

StatusOr<std::vector<uint8_t>> Base64Decode(std::string_view text, std::string_view what) {
  auto bytes = neosl::Base64Decode(text);
  if (!bytes) return InvalidArgumentError(std::string(what) + ": invalid base64");
  return *bytes;
}

StatusOr<const boost::json::object*> AsObject(const boost::json::value& v, std::string_view what) {
  const boost::json::object* o = v.if_object();
  if (!o) return InvalidArgumentError(std::string(what) + ": expected a JSON object");
  return o;
}

StatusOr<const boost::json::value*> Field(const boost::json::object& o, std::string_view key, std::string_view what) {
  const boost::json::value* v = o.if_contains(key);
  if (!v) return FieldError(what, key, "missing");
  return v;
}

StatusOr<std::string_view> StringField(const boost::json::object& o, std::string_view key, std::string_view what) {
  ASSIGN_OR_RETURN(const boost::json::value* v, Field(o, key, what));
  const boost::json::string* s = v->if_string();
  if (!s) return FieldError(what, key, "expected a string");
  return std::string_view(*s);
}

StatusOr<const boost::json::array*> ArrayField(const boost::json::object& o, std::string_view key,
                                               std::string_view what) {
  ASSIGN_OR_RETURN(const boost::json::value* v, Field(o, key, what));
  const boost::json::array* a = v->if_array();
  if (!a) return FieldError(what, key, "expected an array");
  return a;
}

StatusOr<uint64_t> UintField(const boost::json::object& o, std::string_view key, uint64_t max, std::string_view what) {
  ASSIGN_OR_RETURN(const boost::json::value* v, Field(o, key, what));
  uint64_t n;
  if (const int64_t* i = v->if_int64()) {
    if (*i < 0) return FieldError(what, key, "must not be negative");
    n = static_cast<uint64_t>(*i);
  } else if (const uint64_t* u = v->if_uint64()) {
    n = *u;
  } else if (const double* d = v->if_double()) {
    // .NET writes numbers as doubles; accept those that are exact integers.
    if (!(*d >= 0 && *d <= 9007199254740992.0 && std::floor(*d) == *d)) {
      return FieldError(what, key, "expected a non-negative integer");
    }
    n = static_cast<uint64_t>(*d);
  } else {
    return FieldError(what, key, "expected a number");
  }
  if (n > max) return FieldError(what, key, std::to_string(n) + " exceeds the maximum of " + std::to_string(max));
  return n;
}

}  // namespace rpcjson

namespace {

using rpcjson::ArrayField;
using rpcjson::StringField;
using rpcjson::UintField;

// sysfee / netfee: datoshi as a string of decimal digits (also taken as a JSON integer).
StatusOr<int64_t> FeeField(const boost::json::object& o, std::string_view key) {
  ASSIGN_OR_RETURN(const boost::json::value* v, rpcjson::Field(o, key, "transaction"));
  if (const boost::json::string* s = v->if_string()) {
    std::string_view digits = *s;
    if (digits.empty() || digits.size() > 19 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return InvalidArgumentError("transaction \"" + std::string(key) + "\": expected datoshi as a decimal integer");
    }
    uint64_t n = 0;
    for (char c : digits) n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidArgumentError("transaction \"" + std::string(key) + "\": out of range");
    }
    return static_cast<int64_t>(n);
  }
  ASSIGN_OR_RETURN(uint64_t n, UintField(o, key, INT64_MAX, "transaction"));
  return static_cast<int64_t>(n);
}

template <typename T>
StatusOr<std::vector<T>> ListField(const boost::json::object& o, std::string_view key, size_t max,
                                   std::string_view what) {
  ASSIGN_OR_RETURN(const boost::json::array* a, ArrayField(o, key, what));
  if (a->size() > max) {
    return InvalidArgumentError(std::string(what) + " \"" + std::string(key) + "\": " + std::to_string(a->size()) +
                                " entries exceed the maximum of " + std::to_string(max));
  }
  std::vector<T> out;
  for (const auto& v : *a) {
    ASSIGN_OR_RETURN(T item, T::FromJson(v));
    out.push_back(std::move(item));
  }
  return out;
}

template <typename T>
StatusOr<T> HashField(const boost::json::object& o, std::string_view key, std::string_view what) {
  ASSIGN_OR_RETURN(std::string_view text, StringField(o, key, what));
  auto h = T::Parse(text);
  if (!h.ok()) return h.status().Annotate(std::string(what) + " \"" + std::string(key) + "\"");
  return *h;
}

// A stated "hash" and "size", when present, must describe the decoded payload.
Status CheckStated(const boost::json::object& o, const UInt256& hash, size_t size, std::string_view what) {
  if (o.contains("hash")) {
    ASSIGN_OR_RETURN(UInt256 stated, HashField<UInt256>(o, "hash", what));
    if (stated != hash) {
      return InvalidArgumentError(std::string(what) + " \"hash\" " + stated.ToString() +
                                  " does not match the computed " + hash.ToString());
    }
  }
  if (o.contains("size")) {
    ASSIGN_OR_RETURN(uint64_t stated, UintField(o, "size", UINT32_MAX, what));
    if (stated != size) {
      return InvalidArgumentError(std::string(what) + " \"size\" " + std::to_string(stated) +
                                  " does not match the encoded " + std::to_string(size));
    }
  }
  return Status();
}

boost::json::array WitnessesJson(const std::vector<Witness>& witnesses) {
  boost::json::array a;
  for (const auto& w : witnesses) a.push_back(w.ToJson());
  return a;
}

std::string NonceHex(uint64_t nonce) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, nonce >>= 4) s[i] = kHex[nonce & 0xF];
  return s;
}

StatusOr<uint64_t> ParseNonceHex(std::string_view s) {
  if (s.empty() || s.size() > 16) return InvalidArgumentError("block \"nonce\": expected 1 to 16 hex digits");
  uint64_t n = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return InvalidArgumentError("block \"nonce\": expected 1 to 16 hex digits");
    n = (n << 4) | static_cast<uint64_t>(d);
  }
  return n;
}

StatusOr<HeaderFields> HeaderFieldsFromJson(const boost::json::object& o) {
  HeaderFields f;
  ASSIGN_OR_RETURN(uint64_t version, UintField(o, "version", UINT32_MAX, "block"));
  f.version = static_cast<uint32_t>(version);
  ASSIGN_OR_RETURN(f.prev_hash, HashField<UInt256>(o, "previousblockhash", "block"));
  ASSIGN_OR_RETURN(f.merkle_root, HashField<UInt256>(o, "merkleroot", "block"));
  ASSIGN_OR_RETURN(f.timestamp, UintField(o, "time", UINT64_MAX, "block"));
  ASSIGN_OR_RETURN(std::string_view nonce, StringField(o, "nonce", "block"));
  ASSIGN_OR_RETURN(f.nonce, ParseNonceHex(nonce));
  ASSIGN_OR_RETURN(uint64_t index, UintField(o, "index", UINT32_MAX, "block"));
  f.index = static_cast<uint32_t>(index);
  ASSIGN_OR_RETURN(uint64_t primary, UintField(o, "primary", UINT8_MAX, "block"));
  f.primary_index = static_cast<uint8_t>(primary);
  ASSIGN_OR_RETURN(std::string_view next, StringField(o, "nextconsensus", "block"));
  ASSIGN_OR_RETURN(f.next_consensus, rpcjson::ParseAddress(next, "block \"nextconsensus\""));
  ASSIGN_OR_RETURN(auto witnesses, ListField<Witness>(o, "witnesses", 1, "block"));
  if (witnesses.size() != 1) return InvalidArgumentError("block \"witnesses\": exactly one is required");
  f.witness = std::move(witnesses.front());
  return f;
}

}  // namespace

boost::json::value TransactionToJson(const Transaction& tx) {
  boost::json::object o;
  o["hash"] = tx.hash().ToString();
  o["size"] = tx.size();
  o["version"] = tx.version();
  o["nonce"] = tx.nonce();
  o["sender"] = ToAddress(tx.sender());
  o["sysfee"] = std::to_string(tx.system_fee());
  o["netfee"] = std::to_string(tx.network_fee());
  o["validuntilblock"] = tx.valid_until_block();
  boost::json::array signers, attributes;
  for (const auto& s : tx.signers()) signers.push_back(s.ToJson());
  for (const auto& a : tx.attributes()) attributes.push_back(a.ToJson());
  o["signers"] = std::move(signers);
  o["attributes"] = std::move(attributes);
  o["script"] = Base64Encode(tx.script());
  o["witnesses"] = WitnessesJson(tx.witnesses());
  return o;
}

StatusOr<Transaction> TransactionFromJson(const boost::json::value& json) {
  ASSIGN_OR_RETURN(const boost::json::object* o, rpcjson::AsObject(json, "transaction"));
  TransactionBuilder b;
  ASSIGN_OR_RETURN(uint64_t version, UintField(*o, "version", UINT8_MAX, "transaction"));
  b.SetVersion(static_cast<uint8_t>(version));
  ASSIGN_OR_RETURN(uint64_t nonce, UintField(*o, "nonce", UINT32_MAX, "transaction"));
  b.SetNonce(static_cast<uint32_t>(nonce));
  ASSIGN_OR_RETURN(int64_t sysfee, FeeField(*o, "sysfee"));
  ASSIGN_OR_RETURN(int64_t netfee, FeeField(*o, "netfee"));
  b.SetSystemFee(sysfee).SetNetworkFee(netfee);
  ASSIGN_OR_RETURN(uint64_t vub, UintField(*o, "validuntilblock", UINT32_MAX, "transaction"));
  b.SetValidUntilBlock(static_cast<uint32_t>(vub));
  constexpr size_t kMax = Transaction::kMaxTransactionAttributes;
  ASSIGN_OR_RETURN(auto signers, ListField<Signer>(*o, "signers", kMax, "transaction"));
  ASSIGN_OR_RETURN(auto attributes, ListField<TransactionAttribute>(*o, "attributes", kMax, "transaction"));
  ASSIGN_OR_RETURN(std::string_view script, StringField(*o, "script", "transaction"));
  ASSIGN_OR_RETURN(auto script_bytes, rpcjson::Base64Decode(script, "transaction \"script\""));
  ASSIGN_OR_RETURN(auto witnesses, ListField<Witness>(*o, "witnesses", kMax, "transaction"));
  b.SetSigners(std::move(signers)).SetAttributes(std::move(attributes)).SetScript(std::move(script_bytes));
  b.SetWitnesses(std::move(witnesses));
  ASSIGN_OR_RETURN(Transaction tx, b.Build());
  RETURN_IF_ERROR(CheckStated(*o, tx.hash(), tx.size(), "transaction"));
  // Some clients (neon-js) write an empty sender; a non-empty one must be the first signer.
  if (const boost::json::value* sender = o->if_contains("sender")) {
    const boost::json::string* s = sender->if_string();
    if (!s) return InvalidArgumentError("transaction \"sender\": expected a string");
    if (!s->empty()) {
      ASSIGN_OR_RETURN(UInt160 account, rpcjson::ParseAddress(*s, "transaction \"sender\""));
      if (account != tx.sender()) {
        return InvalidArgumentError("transaction \"sender\" " + std::string(*s) + " is not the first signer");
      }
    }
  }
  return tx;
}

boost::json::value HeaderToJson(const Header& header) {
  boost::json::object o;
  o["hash"] = header.hash().ToString();
  o["size"] = header.size();
  o["version"] = header.version();
  o["previousblockhash"] = header.prev_hash().ToString();
  o["merkleroot"] = header.merkle_root().ToString();
  o["time"] = header.timestamp();
  o["nonce"] = NonceHex(header.nonce());
  o["index"] = header.index();
  o["primary"] = header.primary_index();
  o["nextconsensus"] = ToAddress(header.next_consensus());
  o["witnesses"] = WitnessesJson({header.witness()});
  return o;
}

StatusOr<Header> HeaderFromJson(const boost::json::value& json) {
  ASSIGN_OR_RETURN(const boost::json::object* o, rpcjson::AsObject(json, "block header"));
  ASSIGN_OR_RETURN(HeaderFields fields, HeaderFieldsFromJson(*o));
  ASSIGN_OR_RETURN(Header header, Header::Create(std::move(fields)));
  RETURN_IF_ERROR(CheckStated(*o, header.hash(), header.size(), "block header"));
  return header;
}

boost::json::value BlockToJson(const Block& block) {
  boost::json::value v = HeaderToJson(block.header());
  boost::json::object& o = *v.if_object();  // HeaderToJson always returns an object
  o["size"] = block.size();
  boost::json::array txs;
  for (const auto& tx : block.transactions()) txs.push_back(TransactionToJson(tx));
  o["tx"] = std::move(txs);
  return v;
}

StatusOr<Block> BlockFromJson(const boost::json::value& json) {
  ASSIGN_OR_RETURN(const boost::json::object* o, rpcjson::AsObject(json, "block"));
  ASSIGN_OR_RETURN(HeaderFields fields, HeaderFieldsFromJson(*o));
  ASSIGN_OR_RETURN(Header header, Header::Create(std::move(fields)));
  ASSIGN_OR_RETURN(const boost::json::array* txs, ArrayField(*o, "tx", "block"));
  if (txs->size() > Block::kMaxTransactions) return InvalidArgumentError("block \"tx\": too many transactions");
  std::vector<Transaction> transactions;
  for (size_t i = 0; i < txs->size(); ++i) {
    auto tx = TransactionFromJson((*txs)[i]);
    if (!tx.ok()) return tx.status().Annotate("block transaction " + std::to_string(i));
    transactions.push_back(std::move(tx).value());
  }
  ASSIGN_OR_RETURN(Block block, Block::Create(std::move(header), std::move(transactions)));
  RETURN_IF_ERROR(CheckStated(*o, block.hash(), block.size(), "block"));
  return block;
}

}  // namespace neosl::neo
