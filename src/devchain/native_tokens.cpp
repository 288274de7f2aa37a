// GasToken and NeoToken: Neo's FungibleToken (NEP-17) with Neo's ids, prefixes and account state
// layouts.
//
// Devchain simplifications, both so that balances and supplies stay exactly what the user did:
//   - NEO transfers distribute no GAS (NeoToken.OnBalanceChanging's DistributeGas); only the
//     account's balanceHeight is updated, as there.
//   - NEO and GAS PostPersist mint no committee or voter rewards; NEO has no candidates, votes
//     or committee.
#include <optional>
#include <utility>

#include "devchain/engine_internal.h"
#include "devchain/native.h"

namespace neosl::devchain {
namespace {

using internal::HashItem;

constexpr int32_t kNeoId = -5;
constexpr int32_t kGasId = -6;
constexpr uint8_t kPrefixTotalSupply = 0x0b;
constexpr uint8_t kPrefixAccount = 0x14;
// GasToken.InitializeAsync mints ProtocolSettings.InitialGasDistribution (MainNet's value).
constexpr int64_t kInitialGasDistribution = 52'000'000 * kGasFactor;

// AccountState (GAS): Struct[balance]. NeoAccountState: Struct[balance, balanceHeight, voteTo,
// lastGasPerVote]; voteTo is always Null here.
struct AccountState {
  Int256 balance;
  Int256 balance_height;
  Int256 last_gas_per_vote;
};

class FungibleToken final : public NativeContract {
 public:
  FungibleToken(std::string name, int32_t id, const std::string& symbol, int64_t decimals)
      : NativeContract(std::move(name), id), is_neo_(id == kNeoId) {
    const std::vector<std::pair<std::string, std::string>> no_params;
    AddMethod({"symbol", no_params, "String", 0, 0, kCallNone, true,
               [symbol](ApplicationEngine&, std::vector<StackItemPtr>&) -> StatusOr<StackItemPtr> {
                 return internal::StringItem(symbol);
               }});
    AddMethod({"decimals", no_params, "Integer", 0, 0, kCallNone, true,
               [decimals](ApplicationEngine&, std::vector<StackItemPtr>&) -> StatusOr<StackItemPtr> {
                 return StackItem::Integer(decimals);
               }});
    AddMethod({"totalSupply", no_params, "Integer", 1 << 15, 0, kReadStates, true,
               [this](ApplicationEngine& engine, std::vector<StackItemPtr>&) -> StatusOr<StackItemPtr> {
                 ASSIGN_OR_RETURN(Int256 supply, TotalSupply(engine.snapshot()));
                 return StackItem::Integer(supply);
               }});
    AddMethod({"balanceOf",
               {{"account", "Hash160"}},
               "Integer",
               1 << 15,
               0,
               kReadStates,
               true,
               [this](ApplicationEngine& engine, std::vector<StackItemPtr>& args) -> StatusOr<StackItemPtr> {
                 ASSIGN_OR_RETURN(neo::UInt160 account, internal::ArgHash160(args[0], "account"));
                 ASSIGN_OR_RETURN(std::optional<AccountState> state, Load(engine.snapshot(), account));
                 return StackItem::Integer(state ? state->balance : Int256());
               }});
    AddMethod({"transfer",
               {{"from", "Hash160"}, {"to", "Hash160"}, {"amount", "Integer"}, {"data", "Any"}},
               "Boolean",
               1 << 17,
               50,
               kStates | kAllowCall | kAllowNotify,
               false,
               [this](ApplicationEngine& engine, std::vector<StackItemPtr>& args) -> StatusOr<StackItemPtr> {
                 ASSIGN_OR_RETURN(neo::UInt160 from, internal::ArgHash160(args[0], "from"));
                 ASSIGN_OR_RETURN(neo::UInt160 to, internal::ArgHash160(args[1], "to"));
                 ASSIGN_OR_RETURN(Int256 amount, internal::ArgInteger(args[2], "amount"));
                 ASSIGN_OR_RETURN(bool done, Transfer(engine, from, to, amount, args[3]));
                 return StackItem::Boolean(done);
               }});
    AddEvent({"Transfer", {{"from", "Hash160"}, {"to", "Hash160"}, {"amount", "Integer"}}});
  }

  std::vector<std::string> standards() const override { return {"NEP-17"}; }

  Status Initialize(ApplicationEngine& engine) override {
    if (is_neo_) return Mint(engine, engine.block().primary, Int256::FromInt64(kNeoTotalSupply), false);
    return Mint(engine, engine.block().primary, Int256::FromInt64(kInitialGasDistribution), false);
  }

  // GasToken.OnPersistAsync: every transaction's sender pays its system and network fees (burnt),
  // and the block's primary receives the network fees.
  Status OnPersist(ApplicationEngine& engine) override {
    if (is_neo_) return Status::Ok();
    Int256 network_fees;
    for (const neo::Transaction* tx : engine.block().transactions) {
      ASSIGN_OR_RETURN(Int256 fees, Int256::FromInt64(tx->system_fee()).Add(Int256::FromInt64(tx->network_fee())));
      RETURN_IF_ERROR(Burn(engine, tx->sender(), fees));
      ASSIGN_OR_RETURN(network_fees, network_fees.Add(Int256::FromInt64(tx->network_fee())));
    }
    return Mint(engine, engine.block().primary, network_fees, false);
  }

  StatusOr<Int256> TotalSupply(const DataCache& state) const {
    if (is_neo_) return Int256::FromInt64(kNeoTotalSupply);  // NeoToken.TotalSupply is constant
    return internal::ReadInteger(state, internal::Key(id(), kPrefixTotalSupply), Int256());
  }

  StatusOr<std::optional<AccountState>> Load(const DataCache& state, const neo::UInt160& account) const {
    ASSIGN_OR_RETURN(StackItemPtr item, internal::ReadItem(state, AccountKey(account)));
    if (item == nullptr) return std::optional<AccountState>();
    const auto& fields = item->items();
    if (item->type() != StackItemType::kStruct || fields.size() != (is_neo_ ? 4u : 1u)) {
      return DataLossError(name() + " account state of " + account.ToString() + " is malformed");
    }
    AccountState out;
    ASSIGN_OR_RETURN(out.balance, fields[0]->GetInteger());
    if (is_neo_) {
      ASSIGN_OR_RETURN(out.balance_height, fields[1]->GetInteger());
      ASSIGN_OR_RETURN(out.last_gas_per_vote, fields[3]->GetInteger());
    }
    return std::optional<AccountState>(out);
  }

  Status Mint(ApplicationEngine& engine, const neo::UInt160& account, const Int256& amount,
              bool call_on_payment) const {
    if (amount.IsNegative()) return InvalidArgumentError("cannot be negative (Parameter 'amount')");
    if (amount.IsZero()) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<AccountState> state, Load(engine.snapshot(), account));
    AccountState s = state.value_or(AccountState{});
    OnBalanceChanging(engine, s);
    ASSIGN_OR_RETURN(s.balance, s.balance.Add(amount));
    RETURN_IF_ERROR(Store(engine.snapshot(), account, s));
    RETURN_IF_ERROR(AddToSupply(engine.snapshot(), amount));
    return PostTransfer(engine, std::nullopt, account, amount, StackItem::Null(), call_on_payment);
  }

  Status Burn(ApplicationEngine& engine, const neo::UInt160& account, const Int256& amount) const {
    if (amount.IsNegative()) return InvalidArgumentError("cannot be negative (Parameter 'amount')");
    if (amount.IsZero()) return Status::Ok();
    ASSIGN_OR_RETURN(std::optional<AccountState> state, Load(engine.snapshot(), account));
    if (!state || state->balance < amount) {
      return FailedPreconditionError("cannot burn " + amount.ToDecimal() + " " + name() + " from " +
                                     account.ToString() + ": the balance is " +
                                     (state ? state->balance : Int256()).ToDecimal());
    }
    OnBalanceChanging(engine, *state);
    RETURN_IF_ERROR(Debit(engine.snapshot(), account, *state, amount));
    ASSIGN_OR_RETURN(Int256 negative, amount.Negate());
    RETURN_IF_ERROR(AddToSupply(engine.snapshot(), negative));
    return PostTransfer(engine, account, std::nullopt, amount, StackItem::Null(), false);
  }

 private:
  Bytes AccountKey(const neo::UInt160& account) const { return internal::Key(id(), kPrefixAccount, account.span()); }

  // NeoToken.OnBalanceChanging, without the GAS distribution (see the file comment).
  void OnBalanceChanging(const ApplicationEngine& engine, AccountState& state) const {
    if (is_neo_) state.balance_height = Int256::FromInt64(engine.block().index);
  }

  Status Store(DataCache& snapshot, const neo::UInt160& account, const AccountState& s) const {
    std::vector<StackItemPtr> fields{StackItem::Integer(s.balance)};
    if (is_neo_) {
      fields.push_back(StackItem::Integer(s.balance_height));
      fields.push_back(StackItem::Null());
      fields.push_back(StackItem::Integer(s.last_gas_per_vote));
    }
    return internal::WriteItem(snapshot, AccountKey(account), StackItem::Struct(std::move(fields)));
  }

  // A balance that reaches zero removes the account entry (FungibleToken does so for both tokens).
  Status Debit(DataCache& snapshot, const neo::UInt160& account, AccountState state, const Int256& amount) const {
    if (state.balance == amount) {
      snapshot.Delete(AccountKey(account));
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(state.balance, state.balance.Sub(amount));
    return Store(snapshot, account, state);
  }

  Status AddToSupply(DataCache& snapshot, const Int256& delta) const {
    Bytes key = internal::Key(id(), kPrefixTotalSupply);
    ASSIGN_OR_RETURN(Int256 supply, internal::ReadInteger(snapshot, key, Int256()));
    ASSIGN_OR_RETURN(supply, supply.Add(delta));
    internal::WriteInteger(snapshot, std::move(key), supply);
    return Status::Ok();
  }

  // FungibleToken.Transfer.
  StatusOr<bool> Transfer(ApplicationEngine& engine, const neo::UInt160& from, const neo::UInt160& to,
                          const Int256& amount, const StackItemPtr& data) const {
    if (amount.IsNegative()) return FailedPreconditionError("cannot be negative (Parameter 'amount')");
    if (engine.calling_script_hash() != from) {
      ASSIGN_OR_RETURN(bool witnessed, engine.CheckWitness(from));
      if (!witnessed) return false;
    }
    DataCache& snapshot = engine.snapshot();
    ASSIGN_OR_RETURN(std::optional<AccountState> from_state, Load(snapshot, from));
    if (amount.IsZero()) {
      if (from_state) {
        OnBalanceChanging(engine, *from_state);
        RETURN_IF_ERROR(Store(snapshot, from, *from_state));
      }
    } else {
      if (!from_state || from_state->balance < amount) return false;
      OnBalanceChanging(engine, *from_state);
      if (from == to) {
        RETURN_IF_ERROR(Store(snapshot, from, *from_state));
      } else {
        RETURN_IF_ERROR(Debit(snapshot, from, *from_state, amount));
        ASSIGN_OR_RETURN(std::optional<AccountState> to_state, Load(snapshot, to));
        AccountState t = to_state.value_or(AccountState{});
        OnBalanceChanging(engine, t);
        ASSIGN_OR_RETURN(t.balance, t.balance.Add(amount));
        RETURN_IF_ERROR(Store(snapshot, to, t));
      }
    }
    RETURN_IF_ERROR(PostTransfer(engine, from, to, amount, data, true));
    return true;
  }

  // FungibleToken.PostTransferAsync: the Transfer event, then onNEP17Payment on a contract.
  Status PostTransfer(ApplicationEngine& engine, const std::optional<neo::UInt160>& from,
                      const std::optional<neo::UInt160>& to, const Int256& amount, const StackItemPtr& data,
                      bool call_on_payment) const {
    const auto hash_or_null = [](const std::optional<neo::UInt160>& h) { return h ? HashItem(*h) : StackItem::Null(); };
    RETURN_IF_ERROR(engine.Notify(
        hash(), "Transfer", StackItem::Array({hash_or_null(from), hash_or_null(to), StackItem::Integer(amount)})));
    if (!call_on_payment || !to || !engine.IsContract(*to)) return Status::Ok();
    return engine.CallContract(*to, "onNEP17Payment", kAll, {hash_or_null(from), StackItem::Integer(amount), data})
        .status();
  }

  bool is_neo_;
};

const FungibleToken* Token(const NativeRegistry& natives, const neo::UInt160& hash) {
  return dynamic_cast<const FungibleToken*>(natives.Find(hash));
}

int64_t BalanceOf(const DataCache& state, int32_t id, bool neo, const neo::UInt160& account) {
  StatusOr<StackItemPtr> item = internal::ReadItem(state, internal::Key(id, kPrefixAccount, account.span()));
  if (!item.ok() || *item == nullptr || (*item)->items().size() != (neo ? 4u : 1u)) return 0;
  StatusOr<Int256> balance = (*item)->items()[0]->GetInteger();
  if (!balance.ok()) return 0;
  StatusOr<int64_t> value = balance->ToInt64();
  return value.ok() ? *value : 0;
}

}  // namespace

namespace internal {
std::unique_ptr<NativeContract> MakeNeoToken() {
  return std::make_unique<FungibleToken>("NeoToken", kNeoId, "NEO", 0);
}
std::unique_ptr<NativeContract> MakeGasToken() {
  return std::make_unique<FungibleToken>("GasToken", kGasId, "GAS", 8);
}
}  // namespace internal

int64_t GasBalance(const DataCache& state, const neo::UInt160& account) {
  return BalanceOf(state, kGasId, false, account);
}

int64_t NeoBalance(const DataCache& state, const neo::UInt160& account) {
  return BalanceOf(state, kNeoId, true, account);
}

StatusOr<Int256> GasTotalSupply(const DataCache& state) {
  return internal::ReadInteger(state, internal::Key(kGasId, kPrefixTotalSupply), Int256());
}

Status MintGas(ApplicationEngine& engine, const neo::UInt160& account, int64_t amount, bool call_on_payment) {
  const FungibleToken* gas = Token(engine.natives(), NativeRegistry::GasHash());
  if (gas == nullptr) return InternalError("GasToken is not registered");
  return gas->Mint(engine, account, Int256::FromInt64(amount), call_on_payment);
}

Status BurnGas(ApplicationEngine& engine, const neo::UInt160& account, int64_t amount) {
  const FungibleToken* gas = Token(engine.natives(), NativeRegistry::GasHash());
  if (gas == nullptr) return InternalError("GasToken is not registered");
  return gas->Burn(engine, account, Int256::FromInt64(amount));
}

Status MintNeo(ApplicationEngine& engine, const neo::UInt160& account, int64_t amount) {
  const FungibleToken* neo_token = Token(engine.natives(), NativeRegistry::NeoHash());
  if (neo_token == nullptr) return InternalError("NeoToken is not registered");
  return neo_token->Mint(engine, account, Int256::FromInt64(amount), false);
}

}  // namespace neosl::devchain
