// Leader election for the singletons of a replica set, on the shared store.
//
// Several `neosl serve` replicas share one store. Some work must be done by one of them at a time:
// following the chain (the chain request relay, deposit crediting, block and event triggers),
// scheduling triggers, publishing prices and sending the platform's transactions. Those run in
// the replica that holds the lease named for them; the others serve requests and campaign.
//
// The lease is a row of the `leases` table (migration 13): holder, epoch and expiry. A holder
// renews it every `renew_every`; a candidate takes it once it has expired (`ttl` after the last
// renewal), which bumps the epoch. A graceful stop releases it, so a follower takes over at once.
//
// Expiry alone cannot stop a paused or partitioned leader from writing after its successor has
// started, so every write transaction of a singleton is fenced: it first checks, in the same
// transaction, that the row still names this holder and epoch (`CheckFence`, `FencedStore`).
// Writes are serialised (SQLite) or SERIALIZABLE (PostgreSQL), so a deposed leader's write either
// commits before the takeover or fails; it never lands after its successor has read the state.
// Replicas' clocks only decide when a candidate may try; they never decide who may write.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace neosl::coord {

struct LeaseOptions {
  std::string name;    // the lease, e.g. "singletons"
  std::string holder;  // this replica's id; stable across restarts of one data dir
  std::chrono::milliseconds ttl{3000};
  std::chrono::milliseconds renew_every{1000};  // the leader's renewals
  std::chrono::milliseconds retry_every{500};   // a follower's attempts
};

// Where a lease stands after one step, for tests and logs.
struct LeaseState {
  bool leader = false;
  int64_t epoch = 0;   // this holder's epoch when leader, else the current holder's
  std::string holder;  // the current holder ("" when none)
};

class Lease {
 public:
  // `on_elected(epoch)` runs once, on the lease's thread, when this replica becomes the leader.
  // `on_lost(status)` runs once if it was the leader and another replica now holds the lease.
  // A store that cannot be reached does not count as lost: nobody else can take the lease
  // without it, and the fence refuses this replica's writes if someone did.
  Lease(store::Store& store, const Clock& clock, LeaseOptions options, std::function<void(int64_t)> on_elected,
        std::function<void(const Status&)> on_lost);
  ~Lease();  // Stop()
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // Makes one attempt at once (so a lone replica is the leader when Start returns), then keeps
  // campaigning or renewing on a thread of its own.
  Status Start();
  // Stops the thread and releases the lease if held. Idempotent.
  void Stop();

  bool leader() const { return leader_.load(); }
  int64_t epoch() const { return epoch_.load(); }
  const LeaseOptions& options() const { return options_; }

  // One step: take, keep or observe the lease. Public so tests can drive it with a manual clock.
  StatusOr<LeaseState> Step();
  // Gives the lease up (expiry set to 0) if this replica holds it.
  Status Release();

 private:
  void Run();

  store::Store& store_;
  const Clock& clock_;
  const LeaseOptions options_;
  std::function<void(int64_t)> on_elected_;
  std::function<void(const Status&)> on_lost_;

  std::atomic<bool> leader_{false};
  std::atomic<int64_t> epoch_{0};
  bool lost_reported_ = false;  // the lease thread only

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// Fails the transaction's work unless `holder` still holds lease `name` at `epoch`: the first
// statement of every write transaction of a singleton. FAILED_PRECONDITION when deposed.
Status CheckFence(store::Transaction& tx, std::string_view name, std::string_view holder, int64_t epoch);

// A store whose write transactions run CheckFence first; reads pass through. Handed to the
// singletons in place of the shared store. `inner` must outlive it.
std::unique_ptr<store::Store> MakeFencedStore(store::Store& inner, std::string name, std::string holder, int64_t epoch);
// The same, fenced at whatever epoch `lease` holds when a transaction begins: made before the
// election, its writes fail until this replica leads, and fail again once it has been deposed.
// `inner` and `lease` must outlive it.
std::unique_ptr<store::Store> MakeFencedStore(store::Store& inner, const Lease& lease);

// This data dir's replica id: read from `<data_dir>/instance.id`, made once (random) if absent.
// Stable across restarts, so a replica that restarts takes its own lease back without waiting
// for it to expire; a new data dir (a new pod) is a new replica.
StatusOr<std::string> LoadInstanceId(const std::string& data_dir);

}  // namespace neosl::coord
