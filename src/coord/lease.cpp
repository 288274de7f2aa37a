#include "coord/lease.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <sstream>
#include <unistd.h>
#include <utility>

#include "core/encoding.h"
#include "core/log.h"
#include "core/random.h"

namespace neosl::coord {

Lease::Lease(store::Store& store, const Clock& clock, LeaseOptions options, std::function<void(int64_t)> on_elected,
             std::function<void(const Status&)> on_lost)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      on_elected_(std::move(on_elected)),
      on_lost_(std::move(on_lost)) {}

Lease::~Lease() {
  Stop();
}

StatusOr<LeaseState> Lease::Step() {
  LeaseState state;
  const int64_t ttl = options_.ttl.count();
  Status s = store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    const int64_t now = clock_.NowUnixMillis();
    ASSIGN_OR_RETURN(
        auto row, tx.QueryOptional("SELECT holder, epoch, expires_at_ms FROM leases WHERE name = ?", {options_.name}));
    if (!row.has_value()) {
      RETURN_IF_ERROR(
          tx.Exec("INSERT INTO leases (name, holder, epoch, expires_at_ms, renewed_at_ms) VALUES (?, ?, 1, ?, ?)",
                  {options_.name, options_.holder, now + ttl, now})
              .status());
      state = {true, 1, options_.holder};
      return Status();
    }
    ASSIGN_OR_RETURN(std::string holder, row->Text(0));
    ASSIGN_OR_RETURN(int64_t epoch, row->Int(1));
    ASSIGN_OR_RETURN(int64_t expires, row->Int(2));
    if (holder == options_.holder && expires > 0) {
      // Ours: renew. (Also after a restart of this data dir: the old process is gone, since a
      // data dir is served by one process at a time.)
      RETURN_IF_ERROR(tx.Exec("UPDATE leases SET expires_at_ms = ?, renewed_at_ms = ? WHERE name = ?",
                              {now + ttl, now, options_.name})
                          .status());
      state = {true, epoch, holder};
    } else if (expires <= now) {
      // Expired or released: take it, under a new epoch that fences the old holder out.
      RETURN_IF_ERROR(tx.Exec("UPDATE leases SET holder = ?, epoch = ?, expires_at_ms = ?, renewed_at_ms = ? "
                              "WHERE name = ?",
                              {options_.holder, epoch + 1, now + ttl, now, options_.name})
                          .status());
      state = {true, epoch + 1, options_.holder};
    } else {
      state = {false, epoch, holder};
    }
    return Status();
  });
  if (!s.ok()) return s;

  if (state.leader && !leader_.load()) {
    epoch_ = state.epoch;
    leader_ = true;
    lost_reported_ = false;
    log::Info("elected", {{"lease", options_.name}, {"holder", options_.holder}, {"epoch", state.epoch}});
    if (on_elected_) on_elected_(state.epoch);
  } else if (leader_.load() && (!state.leader || state.epoch != epoch_.load())) {
    leader_ = false;
    Status lost = FailedPreconditionError("lease '" + options_.name + "' is now held by " + state.holder +
                                          " at epoch " + std::to_string(state.epoch) + " (this replica had epoch " +
                                          std::to_string(epoch_.load()) + ")");
    log::Error("lost the lease", {{"lease", options_.name}, {"message", lost.message()}});
    if (!lost_reported_ && on_lost_) on_lost_(lost);
    lost_reported_ = true;
  }
  return state;
}

Status Lease::Release() {
  if (!leader_.load()) return Status();
  leader_ = false;
  return store::RunInTransaction(store_, store::TxMode::kWrite, [&](store::Transaction& tx) -> Status {
    return tx
        .Exec("UPDATE leases SET expires_at_ms = 0 WHERE name = ? AND holder = ? AND epoch = ?",
              {options_.name, options_.holder, epoch_.load()})
        .status();
  });
}

Status Lease::Start() {
  // The first attempt inline: a lone replica (and every single-node install) is the leader
  // before serve goes on. An unreachable store is not fatal here; the thread keeps trying.
  if (auto first = Step(); !first.ok()) {
    log::Warn("lease: first attempt failed; retrying",
              {{"lease", options_.name}, {"message", first.status().message()}});
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return FailedPreconditionError("lease already started");
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
  return Status();
}

void Lease::Run() {
  bool failing = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto wait = leader_.load() ? options_.renew_every : options_.retry_every;
    if (cv_.wait_for(lock, wait, [this] { return stopping_; })) break;
    lock.unlock();
    auto step = Step();
    if (!step.ok() && !failing) {
      log::Warn("lease: cannot reach the store; retrying",
                {{"lease", options_.name}, {"message", step.status().message()}});
    } else if (step.ok() && failing) {
      log::Info("lease: the store answers again", {{"lease", options_.name}});
    }
    failing = !step.ok();
    lock.lock();
  }
}

void Lease::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (Status s = Release(); !s.ok()) {
    // The lease then expires after its ttl instead of at once.
    log::Warn("lease: could not release", {{"lease", options_.name}, {"message", s.message()}});
  }
}

Status CheckFence(store::Transaction& tx, std::string_view name, std::string_view holder, int64_t epoch) {
  ASSIGN_OR_RETURN(auto row, tx.QueryOptional("SELECT holder, epoch FROM leases WHERE name = ?", {std::string(name)}));
  if (row.has_value()) {
    ASSIGN_OR_RETURN(std::string current, row->Text(0));
    ASSIGN_OR_RETURN(int64_t current_epoch, row->Int(1));
    if (current == holder && current_epoch == epoch) return Status();
    return FailedPreconditionError("fenced: lease '" + std::string(name) + "' is held at epoch " +
                                   std::to_string(current_epoch) + "; this replica's epoch " + std::to_string(epoch) +
                                   " is over");
  }
  return FailedPreconditionError("fenced: lease '" + std::string(name) + "' is held by nobody");
}

namespace {

class FencedStore final : public store::Store {
 public:
  // The epoch to check, or nullopt when this replica does not lead (nothing to check: refused).
  using EpochSource = std::function<std::optional<int64_t>()>;

  FencedStore(store::Store& inner, std::string name, std::string holder, EpochSource epoch)
      : inner_(inner), name_(std::move(name)), holder_(std::move(holder)), epoch_(std::move(epoch)) {}

  std::string_view backend() const override { return inner_.backend(); }

  StatusOr<std::unique_ptr<store::Transaction>> Begin(store::TxMode mode) override {
    if (mode != store::TxMode::kWrite) return inner_.Begin(mode);
    const std::optional<int64_t> epoch = epoch_();
    if (!epoch) return FailedPreconditionError("fenced: this replica does not hold lease '" + name_ + "'");
    ASSIGN_OR_RETURN(auto tx, inner_.Begin(mode));
    if (Status s = CheckFence(*tx, name_, holder_, *epoch); !s.ok()) {
      (void)tx->Rollback();
      return s;
    }
    return tx;
  }
  StatusOr<std::vector<store::Row>> Query(std::string_view sql, const store::Params& params) override {
    return inner_.Query(sql, params);
  }
  Status Ping() override { return inner_.Ping(); }
  Status Migrate(const std::vector<store::Migration>& migrations) override { return inner_.Migrate(migrations); }
  StatusOr<int> SchemaVersion() override { return inner_.SchemaVersion(); }

 private:
  store::Store& inner_;
  const std::string name_;
  const std::string holder_;
  const EpochSource epoch_;
};

}  // namespace

std::unique_ptr<store::Store> MakeFencedStore(store::Store& inner, std::string name, std::string holder,
                                              int64_t epoch) {
  return std::make_unique<FencedStore>(inner, std::move(name), std::move(holder),
                                       [epoch] { return std::optional<int64_t>(epoch); });
}

std::unique_ptr<store::Store> MakeFencedStore(store::Store& inner, const Lease& lease) {
  return std::make_unique<FencedStore>(inner, lease.options().name, lease.options().holder,
                                       [&lease]() -> std::optional<int64_t> {
                                         if (!lease.leader()) return std::nullopt;
                                         return lease.epoch();
                                       });
}

StatusOr<std::string> LoadInstanceId(const std::string& data_dir) {
  const std::string path = data_dir + "/instance.id";
  {
    std::ifstream in(path);
    if (in) {
      std::string id;
      std::getline(in, id);
      if (id.size() >= 8 && id.size() <= 64) return id;
      return DataLossError(path + " does not hold a replica id; delete it to make a new one");
    }
  }
  std::array<uint8_t, 8> bytes{};
  SecureRandom::Instance().Fill(bytes);
  std::string id = HexEncode(bytes);
  // Written whole under a temporary name, then linked into place: link fails if the name
  // exists, so of two processes racing here both end up with the same, complete id.
  const std::string tmp = path + "." + id + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError("cannot create " + tmp + ": " + std::strerror(errno));
  std::string line = id + "\n";
  bool ok = write(fd, line.data(), line.size()) == ssize_t(line.size()) && fsync(fd) == 0;
  close(fd);
  int linked = ok ? link(tmp.c_str(), path.c_str()) : -1;
  int err = errno;
  unlink(tmp.c_str());
  if (!ok) return UnavailableError("cannot write " + tmp);
  if (linked != 0) {
    if (err == EEXIST) return LoadInstanceId(data_dir);
    return UnavailableError("cannot create " + path + ": " + std::strerror(err));
  }
  return id;
}

}  // namespace neosl::coord
