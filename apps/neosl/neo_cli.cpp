#include "apps/neosl/neo_cli.h"

#include <cstdio>
#include <memory>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "core/random.h"
#include "crypto/p256.h"
#include "neo/account.h"
#include "neo/contract_param.h"
#include "neo/payload_json.h"
#include "neo/script_builder.h"
#include "neo/transaction.h"
#include "neo/wallet.h"

namespace neosl::app {
namespace {

namespace json = boost::json;

int Fail(std::string_view command, const Status& s) {
  std::fprintf(stderr, "neosl neo %.*s: %s\n", int(command.size()), command.data(), s.ToString().c_str());
  return 1;
}

void Print(const json::value& v) {
  std::printf("%s\n", json::serialize(v).c_str());
}

// {"wif","address","public_key","script_hash"} for a key. The WIF is the key itself: it is
// printed only because the caller asked for it, and wiped from our memory right after.
json::object KeyInfo(const crypto::PrivateKey& key) {
  SecretBytes wif = neo::WifEncode(key);
  auto script_hash = neo::ScriptHash(neo::SingleSigScript(key.public_key()));
  json::object o{{"wif", std::string(reinterpret_cast<const char*>(wif.bytes().data()), wif.size())},
                 {"address", neo::ToAddress(script_hash)},
                 {"public_key", HexEncode(key.public_key().Compressed())},
                 {"script_hash", script_hash.ToString()}};
  return o;
}

// The CLI takes base64; hex is accepted too since explorers show both. Some base64 text
// is also valid hex ("AAAA"), so the reading that decodes as a transaction wins, base64 first.
StatusOr<neo::Transaction> DecodeTxArgument(const std::string& text) {
  auto from_base64 = neo::rpcjson::Base64Decode(text, "transaction");
  if (from_base64.ok()) {
    auto tx = neo::Transaction::Decode(*from_base64);
    if (tx.ok()) return tx;
    if (!HexDecode(text)) return tx.status();
  }
  if (auto hex = HexDecode(text); hex && !text.empty()) return neo::Transaction::Decode(*hex);
  return InvalidArgumentError("the transaction is neither base64 nor hex");
}

struct NeoFlags {
  std::string wif_or_nep2, passphrase, tx, contract, method;
  std::vector<std::string> args;
  uint32_t magic = 0;
  std::string call_flags = "All";
};

int KeyNew() {
  crypto::PrivateKey key = crypto::PrivateKey::Generate(SecureRandom::Instance());
  Print(KeyInfo(key));
  return 0;
}

int KeyInfoCommand(const NeoFlags& f) {
  StatusOr<crypto::PrivateKey> key = InvalidArgumentError("unreachable");
  if (f.wif_or_nep2.rfind("6P", 0) == 0) {
    if (f.passphrase.empty()) return Fail("key info", InvalidArgumentError("a NEP-2 key needs --passphrase"));
    key = neo::Nep2Decrypt(f.wif_or_nep2, SecretBytes(std::string_view(f.passphrase)));
  } else {
    key = neo::WifDecode(f.wif_or_nep2);
  }
  if (!key.ok()) return Fail("key info", key.status());
  Print(KeyInfo(*key));
  return 0;
}

int KeyEncrypt(const NeoFlags& f) {
  auto key = neo::WifDecode(f.wif_or_nep2);
  if (!key.ok()) return Fail("key encrypt", key.status());
  if (f.passphrase.empty()) return Fail("key encrypt", InvalidArgumentError("--passphrase must not be empty"));
  auto nep2 = neo::Nep2Encrypt(*key, SecretBytes(std::string_view(f.passphrase)));
  if (!nep2.ok()) return Fail("key encrypt", nep2.status());
  Print(json::object{{"nep2", *nep2}});
  return 0;
}

int TxDecode(const NeoFlags& f) {
  auto tx = DecodeTxArgument(f.tx);
  if (!tx.ok()) return Fail("tx decode", tx.status());
  Print(neo::TransactionToJson(*tx));
  return 0;
}

int TxVerify(const NeoFlags& f) {
  auto tx = DecodeTxArgument(f.tx);
  if (!tx.ok()) return Fail("tx verify", tx.status());
  std::vector<uint8_t> signing_data = neo::SigningData(*tx, f.magic);
  json::array results;
  bool all_valid = tx->witnesses().size() == tx->signers().size();
  for (size_t i = 0; i < tx->signers().size(); ++i) {
    const neo::UInt160& account = tx->signers()[i].account;
    json::object r{{"account", account.ToString()}, {"address", neo::ToAddress(account)}};
    Status s;
    if (i >= tx->witnesses().size()) {
      s = InvalidArgumentError("no witness for this signer");
    } else {
      const neo::Witness& w = tx->witnesses()[i];
      if (neo::ScriptHash(w.verification) != account) {
        s = InvalidArgumentError("the witness's verification script does not hash to the signer's account");
      } else {
        s = neo::VerifyWitness(signing_data, w.invocation, w.verification);
      }
    }
    r["valid"] = s.ok();
    if (!s.ok()) r["error"] = s.ToString();
    all_valid = all_valid && s.ok();
    results.push_back(std::move(r));
  }
  Print(json::object{
      {"hash", tx->hash().ToString()}, {"magic", f.magic}, {"valid", all_valid}, {"witnesses", std::move(results)}});
  return all_valid ? 0 : 1;
}

StatusOr<neo::CallFlags> ParseCallFlags(std::string_view name) {
  static const std::pair<std::string_view, neo::CallFlags> kFlags[] = {{"None", neo::CallFlags::None},
                                                                       {"ReadStates", neo::CallFlags::ReadStates},
                                                                       {"WriteStates", neo::CallFlags::WriteStates},
                                                                       {"AllowCall", neo::CallFlags::AllowCall},
                                                                       {"AllowNotify", neo::CallFlags::AllowNotify},
                                                                       {"States", neo::CallFlags::States},
                                                                       {"ReadOnly", neo::CallFlags::ReadOnly},
                                                                       {"All", neo::CallFlags::All}};
  for (const auto& [n, v] : kFlags) {
    if (n == name) return v;
  }
  return InvalidArgumentError("unknown call flags '" + std::string(name) +
                              "' (None, ReadStates, WriteStates, AllowCall, AllowNotify, States, ReadOnly, All)");
}

int ScriptCall(const NeoFlags& f) {
  auto contract = neo::UInt160::Parse(f.contract);
  if (!contract.ok()) return Fail("script call", contract.status().Annotate("contract hash"));
  auto flags = ParseCallFlags(f.call_flags);
  if (!flags.ok()) return Fail("script call", flags.status());
  std::vector<neo::ContractParam> args;
  for (size_t i = 0; i < f.args.size(); ++i) {
    boost::system::error_code ec;
    json::value v = json::parse(f.args[i], ec);
    if (ec) {
      return Fail("script call",
                  InvalidArgumentError("argument " + std::to_string(i + 1) + " is not JSON: " + ec.message()));
    }
    auto p = neo::ContractParamFromJson(v);
    if (!p.ok()) return Fail("script call", p.status().Annotate("argument " + std::to_string(i + 1)));
    args.push_back(std::move(*p));
  }
  neo::ScriptBuilder sb;
  sb.EmitContractCall(*contract, f.method, *flags, args);
  std::printf("%s\n", HexEncode(sb.data()).c_str());
  return 0;
}

}  // namespace

std::function<int()> AddNeoCommands(CLI::App& app) {
  auto f = std::make_shared<NeoFlags>();
  auto* neo = app.add_subcommand("neo", "Neo N3 keys, transactions and scripts");
  neo->require_subcommand(1);

  auto* key = neo->add_subcommand("key", "Neo N3 keys");
  key->require_subcommand(1);
  auto* key_new = key->add_subcommand("new", "Make a new key: {\"wif\",\"address\",\"public_key\",\"script_hash\"}");
  auto* key_info = key->add_subcommand("info", "Show a key given as WIF, or as NEP-2 with --passphrase");
  key_info->add_option("key", f->wif_or_nep2, "WIF or NEP-2 key")->required();
  key_info->add_option("--passphrase", f->passphrase, "NEP-2 passphrase");
  auto* key_encrypt = key->add_subcommand("encrypt", "Encrypt a WIF key with NEP-2: {\"nep2\"}");
  key_encrypt->add_option("wif", f->wif_or_nep2, "WIF key")->required();
  key_encrypt->add_option("--passphrase", f->passphrase, "passphrase")->required();

  auto* tx = neo->add_subcommand("tx", "Neo N3 transactions");
  tx->require_subcommand(1);
  auto* tx_decode = tx->add_subcommand("decode", "Decode a transaction (base64 or hex) to Neo's verbose JSON");
  tx_decode->add_option("tx", f->tx, "serialized transaction, base64 or hex")->required();
  auto* tx_verify =
      tx->add_subcommand("verify", "Verify every single-sig and multisig witness; exit 0 only if all verify");
  tx_verify->add_option("tx", f->tx, "serialized transaction, base64 or hex")->required();
  tx_verify->add_option("--magic", f->magic, "network magic (MainNet 860833102, TestNet 894710606)")->required();

  auto* script = neo->add_subcommand("script", "NeoVM scripts");
  script->require_subcommand(1);
  auto* call = script->add_subcommand("call", "Print the hex script that calls a contract method");
  call->add_option("contract", f->contract, "contract hash, 0x…")->required();
  call->add_option("method", f->method, "method name")->required();
  call->add_option("args", f->args, "arguments as typed JSON, e.g. '{\"type\":\"Integer\",\"value\":\"5\"}'");
  call->add_option("--call-flags", f->call_flags, "call flags (default All)");

  return [=]() -> int {
    if (key_new->parsed()) return KeyNew();
    if (key_info->parsed()) return KeyInfoCommand(*f);
    if (key_encrypt->parsed()) return KeyEncrypt(*f);
    if (tx_decode->parsed()) return TxDecode(*f);
    if (tx_verify->parsed()) return TxVerify(*f);
    if (call->parsed()) return ScriptCall(*f);
    return -1;
  };
}

}  // namespace neosl::app
