// Deposits: the accounts' deposit addresses (gasbank_addresses) and the watcher that follows the
// chain and credits GAS sent to them (gasbank_deposits, the ledger), block by block.
#include "services/gasbank/deposits.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "chain_requests/request_store.h"
#include "core/business_metrics.h"
#include "core/crash_point.h"
#include "core/encoding.h"
#include "core/log.h"
#include "neo/account.h"
#include "neo/ws_subscriber.h"
#include "services/gasbank/ledger.h"

namespace neosl::gasbank {
namespace {

constexpr size_t kMaxAccountBytes = 64;  // as the enclave's deposit_key ECALL allows
constexpr int kMaxListLimit = 1000;
constexpr std::string_view kTransferEvent = "Transfer";
constexpr std::string_view kAddressColumns = "account_id, script_hash, address, public_key, created_at_ms";
constexpr std::string_view kDepositColumns =
    "tx_hash, notify_index, account_id, from_hash, amount, block_index, state, entry_seq, created_at_ms, "
    "credited_at_ms";

Status CheckAccount(const std::string& account) {
  const bool ok =
      !account.empty() && account.size() <= kMaxAccountBytes && std::all_of(account.begin(), account.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      });
  if (!ok) return FieldViolationError("account", "an account id is 1 to 64 letters, digits, '_' or '-'");
  return Status::Ok();
}

StatusOr<DepositAddress> ReadAddress(const store::Row& row) {
  DepositAddress a;
  ASSIGN_OR_RETURN(a.account, row.Text(0));
  ASSIGN_OR_RETURN(std::string hash, row.Text(1));
  auto parsed = neo::UInt160::Parse(hash);
  if (!parsed.ok()) return InternalError("stored deposit script_hash is not a hash");
  a.script_hash = *parsed;
  ASSIGN_OR_RETURN(a.address, row.Text(2));
  ASSIGN_OR_RETURN(a.public_key, row.Text(3));
  ASSIGN_OR_RETURN(a.created_at_ms, row.Int(4));
  return a;
}

StatusOr<DepositRecord> ReadDeposit(const store::Row& row) {
  DepositRecord d;
  ASSIGN_OR_RETURN(d.tx_hash, row.Text(0));
  ASSIGN_OR_RETURN(d.notify_index, chain_requests::U32Column(row, 1, "notify_index"));
  ASSIGN_OR_RETURN(d.account, row.Text(2));
  ASSIGN_OR_RETURN(d.from, row.Text(3));
  ASSIGN_OR_RETURN(d.amount, row.Int(4));
  ASSIGN_OR_RETURN(d.block_index, chain_requests::U32Column(row, 5, "block_index"));
  ASSIGN_OR_RETURN(d.state, row.Text(6));
  ASSIGN_OR_RETURN(d.entry_seq, row.OptionalInt(7));
  ASSIGN_OR_RETURN(d.created_at_ms, row.Int(8));
  ASSIGN_OR_RETURN(d.credited_at_ms, row.OptionalInt(9));
  return d;
}

// A GAS transfer as the chain announced it, before it is known to pay a deposit address.
struct Transfer {
  neo::UInt256 container;  // the transaction (or, for OnPersist/PostPersist, the block)
  uint32_t notify_index = 0;
  uint32_t block_index = 0;
  std::optional<neo::UInt160> from;  // unset: a mint
  neo::UInt160 to;
  int64_t amount = 0;
  std::string unusable;  // why the amount cannot be credited (0, or over int64); empty if it can
};

// A Hash160 argument of a NEP-17 Transfer: 20 bytes, or Any (null) for a mint or a burn.
StatusOr<std::optional<neo::UInt160>> HashArgument(const neo::RpcStackItem& item) {
  if (item.type() == "Any") return std::optional<neo::UInt160>();
  ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, item.AsBytes());
  ASSIGN_OR_RETURN(neo::UInt160 hash, neo::UInt160::FromBytes(bytes));
  return std::optional<neo::UInt160>(hash);
}

// The NEP-17 shape [from, to, amount]; nullopt for a burn (no `to`: nothing arrives anywhere).
// An amount that is an integer but not a positive int64 is kept, marked unusable: whether that
// is worth a word in the log depends on whether it paid a deposit address.
StatusOr<std::optional<Transfer>> ParseTransfer(const neo::NotificationEvent& event) {
  ASSIGN_OR_RETURN(std::vector<neo::RpcStackItem> args, event.notification.state.AsArray());
  if (args.size() != 3) return InvalidArgumentError("a Transfer has 3 arguments, not " + std::to_string(args.size()));
  ASSIGN_OR_RETURN(std::optional<neo::UInt160> from, HashArgument(args[0]));
  ASSIGN_OR_RETURN(std::optional<neo::UInt160> to, HashArgument(args[1]));
  if (!to) return std::optional<Transfer>();
  Transfer t{.container = event.container,
             .notify_index = event.index,
             .block_index = event.block_index,
             .from = from,
             .to = *to};
  auto amount = args[2].AsInt64();
  if (amount.ok() && *amount > 0) {
    t.amount = *amount;
  } else if (amount.ok()) {
    t.unusable = "amount " + std::to_string(*amount) + " is not positive";
  } else if (amount.status().code() == StatusCode::kOutOfRange) {
    t.unusable = "amount is over int64";
  } else {
    return amount.status();
  }
  return std::optional<Transfer>(std::move(t));
}

// What one block's transaction did, for the log and the stats once it has committed.
struct BlockOutcome {
  std::vector<DepositRecord> seen;
  std::vector<DepositRecord> credited;
  std::vector<std::pair<Transfer, std::string>> skipped;  // paid a deposit address; not credited
};

}  // namespace

const neo::UInt160& GasTokenHash() {
  static const neo::UInt160 kGas = *neo::UInt160::Parse("0xd2a4cff31913016155e38e474a2c06d08be276cf");
  return kGas;
}

// ---- DepositAddresses -------------------------------------------------------------------------

DepositAddresses::DepositAddresses(store::Store& store, DepositKeyDeriver derive, const Clock& clock)
    : store_(store), derive_(std::move(derive)), clock_(clock) {}

StatusOr<DepositAddress> DepositAddresses::Get(const std::string& account) {
  RETURN_IF_ERROR(CheckAccount(account));
  const std::string select = "SELECT " + std::string(kAddressColumns) + " FROM gasbank_addresses WHERE account_id = ?";
  ASSIGN_OR_RETURN(auto rows, store_.Query(select, {account}));
  if (!rows.empty()) return ReadAddress(rows[0]);

  // Derived outside any store transaction: an ECALL must not hold the write lock. Two first calls
  // may both derive (the same key); the insert below keeps one row and both answer it.
  if (!derive_) return FailedPreconditionError("deposit addresses need the enclave's deposit keys");
  ASSIGN_OR_RETURN(crypto::PublicKey key, derive_(account));
  const neo::UInt160 hash = neo::ScriptHash(neo::SingleSigScript(key));
  const auto compressed = key.Compressed();
  RETURN_IF_ERROR(store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    return tx
        .Exec(
            "INSERT INTO gasbank_addresses (account_id, script_hash, address, public_key, created_at_ms) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            {account, hash.ToString(), neo::ToAddress(hash), HexEncode(compressed), clock_.NowUnixMillis()})
        .status();
  }));
  ASSIGN_OR_RETURN(rows, store_.Query(select, {account}));
  // Only another account holding the same script hash keeps the row out: a deriver that gave two
  // accounts one key, which must never be papered over.
  if (rows.empty()) return InternalError("the deposit key derived for " + account + " belongs to another account");
  return ReadAddress(rows[0]);
}

StatusOr<std::optional<std::string>> DepositAddresses::AccountOf(store::Transaction& tx,
                                                                 const neo::UInt160& script_hash) {
  ASSIGN_OR_RETURN(std::optional<store::Row> row, tx.QueryOptional("SELECT account_id FROM gasbank_addresses "
                                                                   "WHERE script_hash = ?",
                                                                   {script_hash.ToString()}));
  if (!row) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string account, row->Text(0));
  return std::optional<std::string>(std::move(account));
}

StatusOr<std::vector<DepositAddress>> DepositAddresses::List(store::Store& store) {
  ASSIGN_OR_RETURN(auto rows, store.Query("SELECT " + std::string(kAddressColumns) +
                                          " FROM gasbank_addresses ORDER BY created_at_ms, account_id"));
  std::vector<DepositAddress> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(DepositAddress a, ReadAddress(row));
    out.push_back(std::move(a));
  }
  return out;
}

// ---- DepositWatcher ---------------------------------------------------------------------------

struct DepositWatcher::Impl final : neo::ChainEventHandler {
  Impl(DepositWatcherOptions o, store::Store& s, chain_requests::SubscriberFactory f, const Clock& c)
      : opts(std::move(o)), store(s), factory(std::move(f)), clock(c) {}

  // The subscriber's thread: the GAS transfers of the block being delivered, then the block.
  void OnNotification(const neo::NotificationEvent& event) override;
  void OnBlock(const neo::BlockEvent& event) override;
  void OnError(const Status& status) override;

  // Records the block's deposits, credits those now confirmed and moves the cursor, in one store
  // transaction.
  StatusOr<BlockOutcome> RecordBlock(uint32_t index, const std::vector<Transfer>& transfers);

  const DepositWatcherOptions opts;
  store::Store& store;
  const chain_requests::SubscriberFactory factory;
  const Clock& clock;

  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  std::unique_ptr<neo::ChainSubscriber> subscriber;

  // Set by Stop: a block waiting to retry a failed store gives up (it stays unrecorded).
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool closing = false;

  std::vector<Transfer> block_transfers;  // subscriber thread only

  std::atomic<uint64_t> seen{0};
  std::atomic<uint64_t> credited{0};
  std::atomic<int64_t> last_block{-1};
};

void DepositWatcher::Impl::OnNotification(const neo::NotificationEvent& event) {
  // The subscription filters on both, but a token calling itself GAS elsewhere must never count.
  if (event.notification.contract != GasTokenHash() || event.notification.event_name != kTransferEvent) return;
  auto transfer = ParseTransfer(event);
  if (!transfer.ok()) {
    log::Warn("gas bank: a GAS Transfer was skipped", {{"tx", event.container.ToString()},
                                                       {"index", event.index},
                                                       {"block", event.block_index},
                                                       {"reason", transfer.status().message()}});
    return;
  }
  if (*transfer) block_transfers.push_back(**transfer);
}

void DepositWatcher::Impl::OnBlock(const neo::BlockEvent& event) {
  const uint32_t index = event.block.index;
  std::vector<Transfer> batch = std::move(block_transfers);
  block_transfers.clear();
  // Only this block's: the subscriber hands a block's events over just before the block itself.
  std::erase_if(batch, [index](const Transfer& t) { return t.block_index != index; });
  if (last_block.load() < 0) {  // the first block of a watcher that had no cursor
    Status s = chain_requests::StartCursorBefore(store, opts.cursor_name, index, clock.NowUnixMillis());
    if (!s.ok()) log::Warn("gas bank: recording where deposits are followed from failed", {{"error", s.ToString()}});
  }
  // The block is recorded (its deposits, the credits it confirms and the cursor) or following
  // waits: the subscriber goes on to the next block only once this returns, so none is skipped.
  // On Stop it stays unrecorded and the next Start resumes at it.
  for (int failures = 0;; ++failures) {
    {
      std::unique_lock lock(stop_mu);
      if (failures > 0) stop_cv.wait_for(lock, opts.retry_interval, [&] { return closing; });
      if (closing) return;
    }
    auto outcome = RecordBlock(index, batch);
    if (!outcome.ok()) {
      log::Warn("gas bank: recording a block's deposits failed; retrying",
                {{"block", index}, {"error", outcome.status().ToString()}});
      continue;
    }
    if (!outcome->credited.empty()) CrashPoint("gasbank.deposit.after_commit");
    for (const auto& [t, account] : outcome->skipped) {
      log::Warn("gas bank: a GAS transfer to a deposit address cannot be credited", {{"account", account},
                                                                                     {"tx", t.container.ToString()},
                                                                                     {"index", t.notify_index},
                                                                                     {"block", t.block_index},
                                                                                     {"reason", t.unusable}});
    }
    for (const DepositRecord& d : outcome->seen) {
      log::Info("gas bank deposit seen", {{"account", d.account},
                                          {"amount", d.amount},
                                          {"tx", d.tx_hash},
                                          {"index", d.notify_index},
                                          {"block", d.block_index},
                                          {"confirmations", opts.confirmations}});
    }
    for (const DepositRecord& d : outcome->credited) {
      log::Info("gas bank deposit credited", {{"account", d.account},
                                              {"amount", d.amount},
                                              {"tx", d.tx_hash},
                                              {"index", d.notify_index},
                                              {"block", d.block_index},
                                              {"entry", d.entry_seq.value_or(0)}});
    }
    seen += outcome->seen.size();
    credited += outcome->credited.size();
    last_block.store(index);
    for (const DepositRecord& d : outcome->credited) metrics::GasBank().Posted("deposit", d.amount);
    metrics::GasBank().deposits_credited.Inc({}, outcome->credited.size());
    metrics::ChainFollowers().block.Set({opts.cursor_name}, index);
    metrics::ChainFollowers().block_time.Set({opts.cursor_name}, double(event.block.time_ms) / 1000);
    return;
  }
}

void DepositWatcher::Impl::OnError(const Status& status) {
  log::Debug("gas bank: following the chain failed; the subscriber retries", {{"error", status.ToString()}});
}

StatusOr<BlockOutcome> DepositWatcher::Impl::RecordBlock(uint32_t index, const std::vector<Transfer>& transfers) {
  BlockOutcome out;
  const int64_t now = clock.NowUnixMillis();
  Status s = store::RunInTransaction(store, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    out = BlockOutcome{};
    // Seen: a replayed block finds its rows (the key is the notification's) and adds nothing.
    for (const Transfer& t : transfers) {
      ASSIGN_OR_RETURN(std::optional<std::string> account, DepositAddresses::AccountOf(tx, t.to));
      if (!account) continue;
      if (!t.unusable.empty()) {
        out.skipped.emplace_back(t, *std::move(account));
        continue;
      }
      DepositRecord d{.tx_hash = t.container.ToString(),
                      .notify_index = t.notify_index,
                      .account = *std::move(account),
                      .from = t.from ? t.from->ToString() : std::string(),
                      .amount = t.amount,
                      .block_index = t.block_index,
                      .state = "seen",
                      .created_at_ms = now};
      ASSIGN_OR_RETURN(
          int64_t inserted,
          tx.Exec("INSERT INTO gasbank_deposits (tx_hash, notify_index, account_id, from_hash, amount, "
                  "block_index, state, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, 'seen', ?) "
                  "ON CONFLICT (tx_hash, notify_index) DO NOTHING",
                  {d.tx_hash, int64_t{d.notify_index}, d.account, d.from, d.amount, int64_t{d.block_index}, now}));
      if (inserted == 1) out.seen.push_back(std::move(d));
    }
    // Credited: every deposit now `confirmations` blocks deep, this block's own included when
    // that is 0. A deposit seen before a restart is credited by the first block past its depth.
    if (index >= opts.confirmations) {
      ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT " + std::string(kDepositColumns) +
                                               " FROM gasbank_deposits WHERE state = 'seen' AND block_index <= ? "
                                               "ORDER BY block_index, tx_hash, notify_index",
                                           {int64_t{index - opts.confirmations}}));
      for (const auto& row : rows) {
        ASSIGN_OR_RETURN(DepositRecord d, ReadDeposit(row));
        Entry entry{.key = "deposit:" + d.tx_hash + ":" + std::to_string(d.notify_index),
                    .kind = "deposit",
                    .account = d.account,
                    .service = "gasbank",
                    .reference = d.tx_hash,
                    .lines = {{Book::kCustody, "", -d.amount}, {Book::kAvailable, d.account, d.amount}}};
        // Posting the same entry again answers the first one, so a row that somehow lost its
        // mark is marked with the entry it already has, and nothing is credited twice.
        auto posted = Ledger::Post(tx, entry, now);
        if (!posted.ok()) {
          // The store failing ends the block's transaction (and it is retried). The ledger
          // refusing this one entry (its key taken by another entry, say) must not hold up every
          // other deposit: left seen, it is tried again with each block and shouts each time.
          const StatusCode code = posted.status().code();
          const bool refused = code == StatusCode::kInvalidArgument || code == StatusCode::kAlreadyExists ||
                               code == StatusCode::kFailedPrecondition;
          if (!refused) return posted.status();
          log::Error("gas bank: a deposit cannot be credited", {{"account", d.account},
                                                                {"amount", d.amount},
                                                                {"tx", d.tx_hash},
                                                                {"index", d.notify_index},
                                                                {"error", posted.status().ToString()}});
          continue;
        }
        ASSIGN_OR_RETURN(int64_t marked,
                         tx.Exec("UPDATE gasbank_deposits SET state = 'credited', entry_seq = ?, credited_at_ms = ? "
                                 "WHERE tx_hash = ? AND notify_index = ? AND state = 'seen'",
                                 {posted->seq, now, d.tx_hash, int64_t{d.notify_index}}));
        if (marked != 1) return InternalError("a deposit changed state under the watcher's transaction");
        d.state = "credited";
        d.entry_seq = posted->seq;
        d.credited_at_ms = now;
        out.credited.push_back(std::move(d));
      }
    }
    RETURN_IF_ERROR(chain_requests::AdvanceCursor(tx, opts.cursor_name, index, now));
    if (!out.credited.empty()) CrashPoint("gasbank.deposit.before_commit");
    return Status::Ok();
  });
  RETURN_IF_ERROR(s);
  return out;
}

DepositWatcher::DepositWatcher(DepositWatcherOptions options, store::Store& store,
                               chain_requests::SubscriberFactory subscribers, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), store, std::move(subscribers), clock)) {}

DepositWatcher::~DepositWatcher() {
  Stop();
}

Status DepositWatcher::Start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (m.started) return FailedPreconditionError("the deposit watcher was already started");
  if (m.opts.cursor_name.empty()) return InvalidArgumentError("the deposit watcher needs a cursor name");
  if (m.opts.retry_interval.count() <= 0) return InvalidArgumentError("retry_interval must be positive");
  if (!m.factory) return InvalidArgumentError("the deposit watcher needs a subscriber factory");

  ASSIGN_OR_RETURN(std::optional<uint32_t> cursor, chain_requests::ReadCursor(m.store, m.opts.cursor_name));
  const std::optional<uint32_t> start = cursor ? std::optional<uint32_t>(*cursor + 1) : m.opts.start_index;

  neo::Subscriptions subscriptions;
  subscriptions.blocks = neo::BlockFilter{};
  subscriptions.notifications =
      neo::NotificationFilter{.contract = GasTokenHash(), .name = std::string(kTransferEvent)};
  ASSIGN_OR_RETURN(m.subscriber, m.factory(subscriptions, start));
  if (m.subscriber == nullptr) return InvalidArgumentError("the subscriber factory returned no subscriber");
  m.started = true;
  if (cursor) m.last_block.store(*cursor);
  if (Status s = m.subscriber->Start(m); !s.ok()) {
    m.stopped = true;
    return s;
  }
  log::Info("gas bank deposit watcher started", {{"cursor", m.opts.cursor_name},
                                                 {"from_block", start ? int64_t{*start} : int64_t{-1}},
                                                 {"confirmations", m.opts.confirmations}});
  return Status::Ok();
}

void DepositWatcher::Stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  {
    std::lock_guard stop_lock(m.stop_mu);
    m.closing = true;
  }
  m.stop_cv.notify_all();
  m.subscriber->Stop();
  log::Info("gas bank deposit watcher stopped", {{"cursor", m.opts.cursor_name}});
}

DepositWatcherStats DepositWatcher::stats() const {
  const Impl& m = *impl_;
  DepositWatcherStats s;
  s.seen = m.seen.load();
  s.credited = m.credited.load();
  const int64_t last = m.last_block.load();
  if (last >= 0) s.last_block = static_cast<uint32_t>(last);
  return s;
}

StatusOr<std::vector<DepositRecord>> DepositWatcher::ListDeposits(store::Store& store, const std::string& account,
                                                                  int limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return FieldViolationError("limit", "between 1 and " + std::to_string(kMaxListLimit));
  }
  ASSIGN_OR_RETURN(auto rows, store.Query("SELECT " + std::string(kDepositColumns) +
                                              " FROM gasbank_deposits WHERE account_id = ? "
                                              "ORDER BY block_index DESC, tx_hash DESC, notify_index DESC LIMIT ?",
                                          {account, int64_t{limit}}));
  std::vector<DepositRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ASSIGN_OR_RETURN(DepositRecord d, ReadDeposit(row));
    out.push_back(std::move(d));
  }
  return out;
}

StatusOr<int64_t> DepositWatcher::PendingAmount(store::Store& store, const std::string& account) {
  ASSIGN_OR_RETURN(auto rows, store.Query("SELECT COALESCE(SUM(amount), 0) FROM gasbank_deposits "
                                          "WHERE account_id = ? AND state = 'seen'",
                                          {account}));
  if (rows.empty()) return int64_t{0};
  return rows[0].Int(0);
}

}  // namespace neosl::gasbank
