#include "devchain/native.h"

#include <algorithm>
#include <cctype>
#include <numeric>
#include <utility>

#include <boost/json.hpp>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "devchain/engine_internal.h"
#include "neo/account.h"
#include "neo/interop.h"
#include "neo/io.h"
#include "neo/script_builder.h"

namespace neosl::devchain {
namespace {

constexpr uint32_t kNefMagic = 0x3346454E;  // "NEF3"
constexpr std::string_view kNativeCompiler = "neo-core-v3.0";
constexpr size_t kNefCompilerSize = 64;

boost::json::array ParametersJson(const std::vector<std::pair<std::string, std::string>>& parameters) {
  boost::json::array out;
  for (const auto& [name, type] : parameters) out.push_back(boost::json::object{{"name", name}, {"type", type}});
  return out;
}

}  // namespace

neo::UInt160 ContractHash(const neo::UInt160& sender, uint32_t nef_checksum, std::string_view name) {
  neo::ScriptBuilder sb;
  sb.Emit(neo::OpCode::ABORT);
  sb.EmitPush(sender);
  sb.EmitPushInt(static_cast<int64_t>(nef_checksum));
  sb.EmitPushString(name);
  return neo::ScriptHash(sb.data());
}

namespace internal {

Bytes NativeScript(size_t method_count) {
  neo::ScriptBuilder sb;
  for (size_t i = 0; i < method_count; ++i) {
    sb.EmitPushInt(0);
    sb.EmitSysCall("System.Contract.CallNative");
    sb.Emit(neo::OpCode::RET);
  }
  return sb.Take();
}

namespace {
// NefFile's serialisation without the trailing checksum.
Bytes NefBody(std::span<const uint8_t> script) {
  neo::BinaryWriter w;
  w.U32(kNefMagic);
  Bytes compiler(kNefCompilerSize, 0);
  std::copy(kNativeCompiler.begin(), kNativeCompiler.end(), compiler.begin());
  w.Bytes(compiler);
  w.VarString("");  // source
  w.U8(0);          // reserved
  w.VarInt(0);      // method tokens
  w.U16(0);         // reserved
  w.VarBytes(script);
  return w.Take();
}
}  // namespace

uint32_t NefChecksum(std::span<const uint8_t> script) {
  const crypto::Digest256 digest = crypto::DoubleSha256(NefBody(script));
  return static_cast<uint32_t>(digest[0]) | static_cast<uint32_t>(digest[1]) << 8 |
         static_cast<uint32_t>(digest[2]) << 16 | static_cast<uint32_t>(digest[3]) << 24;
}

Bytes NefBytes(std::span<const uint8_t> script) {
  neo::BinaryWriter w;
  w.Bytes(NefBody(script));
  w.U32(NefChecksum(script));
  return w.Take();
}

}  // namespace internal

NativeContract::NativeContract(std::string name, int32_t id)
    : name_(std::move(name)), id_(id), hash_(ContractHash(neo::UInt160(), 0, name_)) {}

const NativeMethod* NativeContract::FindMethod(std::string_view name, size_t parameter_count) const {
  for (const NativeMethod& m : methods_) {
    if (m.name == name && m.parameters.size() == parameter_count) return &m;
  }
  return nullptr;
}

boost::json::value NativeContract::ContractStateJson() const {
  // Neo orders a native's methods by name (ordinal), then parameter count, and gives each a
  // 7-byte stub in that order.
  std::vector<size_t> order(methods_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    const NativeMethod& x = methods_[a];
    const NativeMethod& y = methods_[b];
    if (x.name != y.name) return x.name < y.name;
    return x.parameters.size() < y.parameters.size();
  });
  const Bytes script = internal::NativeScript(methods_.size());

  boost::json::array methods;
  for (size_t i = 0; i < order.size(); ++i) {
    const NativeMethod& m = methods_[order[i]];
    methods.push_back(boost::json::object{{"name", m.name},
                                          {"parameters", ParametersJson(m.parameters)},
                                          {"returntype", m.return_type},
                                          {"offset", static_cast<int64_t>(7 * i)},
                                          {"safe", m.safe}});
  }
  boost::json::array events;
  for (const NativeEvent& e : events_) {
    events.push_back(boost::json::object{{"name", e.name}, {"parameters", ParametersJson(e.parameters)}});
  }
  boost::json::array standards;
  for (const std::string& s : this->standards()) standards.push_back(boost::json::value(s));

  boost::json::object nef{{"magic", kNefMagic},
                          {"compiler", kNativeCompiler},
                          {"source", ""},
                          {"tokens", boost::json::array()},
                          {"script", Base64Encode(script)},
                          {"checksum", internal::NefChecksum(script)}};
  boost::json::object manifest{
      {"name", name_},
      {"groups", boost::json::array()},
      {"features", boost::json::object()},
      {"supportedstandards", std::move(standards)},
      {"abi", boost::json::object{{"methods", std::move(methods)}, {"events", std::move(events)}}},
      {"permissions", boost::json::array{boost::json::object{{"contract", "*"}, {"methods", "*"}}}},
      {"trusts", boost::json::array()},
      {"extra", nullptr}};
  return boost::json::object{{"id", id_},
                             {"updatecounter", 0},
                             {"hash", hash_.ToString()},
                             {"nef", std::move(nef)},
                             {"manifest", std::move(manifest)}};
}

NativeRegistry::NativeRegistry() {
  contracts_.push_back(internal::MakeContractManagement());
  contracts_.push_back(internal::MakeLedgerContract());
  contracts_.push_back(internal::MakeNeoToken());
  contracts_.push_back(internal::MakeGasToken());
  contracts_.push_back(internal::MakePolicyContract());
  contracts_.push_back(internal::MakeSampleConsumer());
  contracts_.push_back(internal::MakeSamplePriceFeed());
}

Status NativeRegistry::Register(std::unique_ptr<NativeContract> contract) {
  if (contract == nullptr) return InvalidArgumentError("no contract to register");
  if (Find(contract->hash()) != nullptr || FindById(contract->id()) != nullptr) {
    return InvalidArgumentError("contract " + contract->name() + " (id " + std::to_string(contract->id()) +
                                ") is already registered");
  }
  contracts_.push_back(std::move(contract));
  return Status::Ok();
}

const NativeContract* NativeRegistry::Find(const neo::UInt160& hash) const {
  for (const auto& c : contracts_) {
    if (c->hash() == hash) return c.get();
  }
  return nullptr;
}

const NativeContract* NativeRegistry::FindByName(std::string_view name) const {
  const auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string wanted = lower(name);
  for (const auto& c : contracts_) {
    if (lower(c->name()) == wanted) return c.get();
  }
  return nullptr;
}

const NativeContract* NativeRegistry::FindById(int32_t id) const {
  for (const auto& c : contracts_) {
    if (c->id() == id) return c.get();
  }
  return nullptr;
}

const neo::UInt160& NativeRegistry::GasHash() {
  static const neo::UInt160 hash = ContractHash(neo::UInt160(), 0, "GasToken");
  return hash;
}

const neo::UInt160& NativeRegistry::NeoHash() {
  static const neo::UInt160 hash = ContractHash(neo::UInt160(), 0, "NeoToken");
  return hash;
}

const neo::UInt160& NativeRegistry::PolicyHash() {
  static const neo::UInt160 hash = ContractHash(neo::UInt160(), 0, "PolicyContract");
  return hash;
}

const neo::UInt160& NativeRegistry::LedgerHash() {
  static const neo::UInt160 hash = ContractHash(neo::UInt160(), 0, "LedgerContract");
  return hash;
}

const neo::UInt160& NativeRegistry::SampleConsumerHash() {
  static const neo::UInt160 hash = ContractHash(neo::UInt160(), 0, "SampleConsumer");
  return hash;
}

const neo::UInt160& NativeRegistry::SamplePriceFeedHash() {
  static const neo::UInt160 hash = ContractHash(neo::UInt160(), 0, "SamplePriceFeed");
  return hash;
}

}  // namespace neosl::devchain
