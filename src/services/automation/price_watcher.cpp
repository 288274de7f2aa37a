// PriceWatcher (sources.h): the price feed's WatchPrices stream over the mesh, kept open by a
// thread of its own that opens it, waits for it to end (or for Stop), and opens it again after a
// backoff (200 ms doubling to 10 s, jittered; back to 200 ms after a stream that delivered
// something). The stream is opened and released on that thread, never on gRPC's.
//
// Which reports tick: those with has_report whose status is "ok" (or unset). A degraded pair's
// report is its last good round sent again while rounds miss their quorum: an old price, which
// must not look like news (EvaluatePrice would skip its round anyway; this keeps it off the
// engine's path altogether).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "core/log.h"
#include "neosl/pricefeed/v1/pricefeed.pb.h"
#include "services/automation/sources.h"

namespace neosl::automation {
namespace {

namespace pricefeedpb = ::neosl::pricefeed::v1;

constexpr std::string_view kService = "pricefeed";
constexpr std::string_view kMethod = "/neosl.pricefeed.v1.PriceFeed/WatchPrices";
constexpr std::string_view kDegraded = "degraded";

const neo::RetryOptions kBackoff{.initial_backoff = std::chrono::milliseconds(200),
                                 .max_backoff = std::chrono::milliseconds(10'000)};

}  // namespace

struct PriceWatcher::Impl {
  Impl(mesh::MeshClient& c, OnTick t, RandomSource& r, Pairs p, std::chrono::milliseconds k)
      : client(c), on_tick(std::move(t)), random(r), pairs(std::move(p)), keep_every(k) {}

  void Run();
  // The loop thread: a WatchPrices stream of each pair the triggers need is kept open, which is
  // what makes the feed observe the pair (pricefeed: "kept observed while you listen").
  void KeepObserved();

  struct Keeper {
    std::unique_ptr<mesh::MeshStream> stream;
    std::shared_ptr<std::atomic<bool>> over;
  };
  std::map<std::string, Keeper> keepers;  // the loop thread only (and Stop, after it ended)
  // gRPC's threads.
  void OnMessage(const google::protobuf::Message& message);
  void OnDone(const Status& status);

  mesh::MeshClient& client;
  const OnTick on_tick;
  RandomSource& random;  // the loop thread only
  const Pairs pairs;
  const std::chrono::milliseconds keep_every;

  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  std::thread loop;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool stream_over = false;  // the current stream ended (on_done ran)
  bool poked = false;        // the pairs changed
  Status stream_status;

  std::atomic<bool> connected{false};
  std::atomic<uint64_t> delivered{0};  // reports read on the current stream
};

void PriceWatcher::Impl::OnMessage(const google::protobuf::Message& message) {
  const auto& report = static_cast<const pricefeedpb::PriceReport&>(message);
  delivered.fetch_add(1, std::memory_order_relaxed);
  if (!report.has_report() || report.status() == kDegraded) return;
  if (!report.status().empty() && report.status() != "ok") return;
  on_tick(PriceTick{.pair = report.pair(),
                    .price = report.price(),
                    .decimals = report.decimals(),
                    .round = report.round(),
                    .timestamp_ms = report.timestamp_ms()});
}

void PriceWatcher::Impl::OnDone(const Status& status) {
  {
    std::lock_guard lock(mu);
    connected = false;
    stream_over = true;
    stream_status = status;
  }
  cv.notify_all();
}

void PriceWatcher::Impl::KeepObserved() {
  if (!pairs) return;
  const std::vector<std::string> wanted = pairs();
  // Streams of pairs no longer wanted, or that ended, are released (here, on the loop thread).
  for (auto it = keepers.begin(); it != keepers.end();) {
    if (it->second.over->load() || std::find(wanted.begin(), wanted.end(), it->first) == wanted.end()) {
      it = keepers.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& pair : wanted) {
    if (keepers.count(pair)) continue;
    pricefeedpb::WatchPricesRequest request;
    request.set_pair(pair);
    auto over = std::make_shared<std::atomic<bool>>(false);
    // Its reports come on the all-pairs stream too; this one only keeps the pair followed.
    auto stream = client.Stream(
        kService, kMethod, request, [](const google::protobuf::Message&) {},
        [over](const Status&) { over->store(true); });
    if (!stream.ok()) {
      log::Debug("automation: a price trigger's pair cannot be followed yet",
                 {{"pair", pair}, {"error", stream.status().ToString()}});
      continue;
    }
    keepers.emplace(pair, Keeper{std::move(*stream), std::move(over)});
  }
}

void PriceWatcher::Impl::Run() {
  int failures = 0;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      stream_over = false;
    }
    delivered = 0;
    pricefeedpb::WatchPricesRequest request;  // every pair
    auto stream = client.Stream(
        kService, kMethod, request, [this](const google::protobuf::Message& m) { OnMessage(m); },
        [this](const Status& s) { OnDone(s); });
    Status ended;
    if (stream.ok()) {
      KeepObserved();
      std::unique_lock lock(mu);
      if (!stream_over) connected = true;  // under mu: OnDone clears it under mu too
      for (;;) {
        cv.wait_for(lock, keep_every, [&] { return stopping || stream_over || poked; });
        if (stopping || stream_over) break;
        poked = false;
        lock.unlock();
        KeepObserved();
        lock.lock();
      }
      ended = stream_over ? stream_status : CancelledError("stopping");
    } else {
      ended = stream.status();
    }
    // Cancels the stream if it is still open and waits until gRPC is done with it.
    if (stream.ok()) stream->reset();
    connected = false;

    std::unique_lock lock(mu);
    if (stopping) return;
    failures = delivered.load() > 0 ? 1 : failures + 1;
    const std::chrono::milliseconds delay = neo::RetryDelay(kBackoff, failures, random);
    // Once per outage: a price feed that is away for long is retried quietly.
    log::Write(failures == 1 ? log::Level::kWarn : log::Level::kDebug,
               "automation: the price stream ended; opening it again",
               {{"error", ended.ToString()}, {"reports", delivered.load()}, {"retry_ms", delay.count()}});
    cv.wait_for(lock, delay, [&] { return stopping; });
    if (stopping) return;
  }
}

PriceWatcher::PriceWatcher(mesh::MeshClient& client, OnTick on_tick, RandomSource& random, Pairs pairs,
                           std::chrono::milliseconds keep_every)
    : impl_(std::make_unique<Impl>(client, std::move(on_tick), random, std::move(pairs), keep_every)) {}

void PriceWatcher::Poke() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->poked = true;
  }
  impl_->cv.notify_all();
}

PriceWatcher::~PriceWatcher() {
  Stop();
}

Status PriceWatcher::Start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (m.started) return FailedPreconditionError("the price watcher was already started");
  if (!m.on_tick) return InvalidArgumentError("the price watcher needs a tick callback");
  m.started = true;
  m.loop = std::thread([&m] { m.Run(); });
  log::Info("automation price watcher started", {{"service", kService}});
  return Status::Ok();
}

// Must not be called from on_tick (it waits for the stream, and so for on_tick, to be done).
void PriceWatcher::Stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.lifecycle_mu);
  if (!m.started || m.stopped) return;
  m.stopped = true;
  {
    std::lock_guard stop_lock(m.mu);
    m.stopping = true;
  }
  m.cv.notify_all();
  if (m.loop.joinable()) m.loop.join();
  m.keepers.clear();  // the loop has ended: releasing them here is safe
  log::Info("automation price watcher stopped", {{"service", kService}});
}

bool PriceWatcher::connected() const {
  return impl_->connected.load();
}

}  // namespace neosl::automation
