// Where chain and price triggers learn that something happened (issue #13): the chain follower
// (blocks and contract notifications, exactly once across restarts), and price reports from the
// price feed; plus the pure rules deciding whether a block, a notification or a price fires a
// trigger.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "mesh/client.h"
#include "neo/rpc_client.h"
#include "neo/ws_subscriber.h"
#include "services/automation/trigger.h"
#include "store/store.h"

namespace neosl::automation {

// ---- matching rules (pure) -------------------------------------------------------------------

// Whether block `height` fires `c`: at == height, or every divides height (height 0 never fires an
// `every` trigger).
bool BlockFires(const BlockCondition& c, uint32_t height);

// The canonical text (spec.h, CanonicalParamText) of a notification argument read as `type`;
// nullopt when the item cannot be read so (an Integer filter on a ByteString of 40 bytes, say).
std::optional<std::string> StackItemText(std::string_view type, const neo::RpcStackItem& item);

// Whether the notification fires `c`: same contract, same name, every filter's param present and
// equal in its type.
bool EventFires(const EventCondition& c, const neo::NotificationEvent& n);

// The context handed to the action, as JSON text:
// block: {"height":N,"hash":"0x…","time":"RFC 3339"}
// event: {"height":N,"tx":"0x…","index":I,"contract":"0x…","event":"Transfer","state":<Neo JSON stack items>}
// price: {"pair":"NEO/USD","price":"11.23","round":42,"time":"RFC 3339","previous":"11.00"}
std::string BlockContextJson(const neo::BlockInfo& block);
std::string EventContextJson(const neo::NotificationEvent& n);

// A price report, as the automation service needs it.
struct PriceTick {
  std::string pair;
  int64_t price = 0;  // in 10^-decimals units
  uint32_t decimals = 0;
  uint64_t round = 0;
  int64_t timestamp_ms = 0;
};

// What a price trigger remembers between reports (TriggerRecord::state_json).
struct PriceState {
  // above/below: which side of the threshold the last report was on (+1 above, −1 at or below).
  std::optional<int> side;
  // change: the price of the last firing (or of the first report), as decimal text.
  std::string reference;
  uint64_t round = 0;  // the last round evaluated: older or equal rounds are ignored
};
std::string PriceStateToJson(const PriceState& s);
StatusOr<PriceState> PriceStateFromJson(std::string_view json);  // "" → a fresh state

struct PriceDecision {
  bool fire = false;
  PriceState next;
  std::string context_json;  // when fire
};
// Evaluates `tick` against `c` given `prev`:
// - above: fires when the previous side was at-or-below and the price is now above the
//   threshold; below: the mirror. The first report only sets the side: a trigger created while
//   the price is already above does not fire until it goes below and crosses again.
// - change: fires when |price − reference| · 10000 ≥ change_bps · reference; the reference is
//   then the new price. The first report sets the reference.
// A tick of a round ≤ prev.round changes nothing. Exact integer arithmetic throughout (prices
// of different decimals compare exactly).
PriceDecision EvaluatePrice(const PriceCondition& c, const PriceState& prev, const PriceTick& tick);

// ---- the chain follower ----------------------------------------------------------------------

// One block as the follower hands it over: its notifications, in chain order.
struct ChainBlock {
  neo::BlockInfo block;
  std::vector<neo::NotificationEvent> notifications;
  // The block was already on chain when the follower started (a block missed while the service
  // was down, or before its first start: catch-up policies apply to it).
  bool backlog = false;
};

struct ChainFollowerOptions {
  std::string cursor = "automation";  // chain_request_cursors row
  // A block is handed over once this many blocks are on top of it (0: at once).
  uint32_t confirmations = 0;
  std::chrono::milliseconds retry_interval{1000};  // after the handler failed
};

// Follows the chain (a neo::ChainSubscriber from `subscribers`, blocks and every notification)
// from its cursor. For each block it opens a write transaction, calls `handler(tx, block)`,
// advances the cursor in the same transaction and commits; a handler error or a failed commit
// rolls everything back and the block is offered again after retry_interval (nothing skipped).
// After the commit, `after_commit(block)` runs (the engine dispatches the runs it recorded).
// A follower without a cursor starts just before the first block it sees
// (chain_requests::StartCursorBefore), so the first start records nothing as missed.
class ChainFollower {
 public:
  using Handler = std::function<Status(store::Transaction& tx, const ChainBlock& block)>;
  using AfterCommit = std::function<void(const ChainBlock& block)>;
  using SubscriberFactory = std::function<StatusOr<std::unique_ptr<neo::ChainSubscriber>>(
      const neo::Subscriptions& subscriptions, std::optional<uint32_t> start_index)>;

  ChainFollower(ChainFollowerOptions options, store::Store& store, neo::RpcClient& rpc, SubscriberFactory subscribers,
                Handler handler, AfterCommit after_commit, const Clock& clock);
  ~ChainFollower();  // Stop()

  // Reads the cursor, asks the node for its height (blocks up to it are `backlog`), starts
  // following. Once.
  Status Start();
  void Stop();
  // The last block handed over and committed.
  std::optional<uint32_t> last_block() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- prices ----------------------------------------------------------------------------------

// Follows the price feed's WatchPrices stream over the mesh (all pairs) and calls `on_tick` for
// each report that has one (has_report), on gRPC's thread, in order per pair. A stream that ends
// or fails is opened again after a backoff (200 ms doubling to 10 s); Stop cancels it.
//
// The price feed runs rounds only for pairs somebody follows. `pairs` (optional) names the pairs
// the triggers need: the watcher keeps a WatchPrices stream of each open (which keeps the pair
// observed), checked when the main stream opens, every `keep_every`, and at once after Poke.
class PriceWatcher {
 public:
  using OnTick = std::function<void(const PriceTick& tick)>;
  using Pairs = std::function<std::vector<std::string>()>;
  PriceWatcher(mesh::MeshClient& client, OnTick on_tick, RandomSource& random, Pairs pairs = nullptr,
               std::chrono::milliseconds keep_every = std::chrono::seconds(60));
  ~PriceWatcher();  // Stop()
  Status Start();
  void Stop();
  bool connected() const;
  // The pairs changed (a price trigger was created or resumed): keep them observed now. Any thread.
  void Poke();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace neosl::automation
