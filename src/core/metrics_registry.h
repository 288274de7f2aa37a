// A process-wide registry of Prometheus metrics — counters, gauges and histograms — for the
// services' business figures (core/business_metrics.h declares them all). The gateway's
// GET /metrics renders it after its HTTP and mesh metrics.
//
//   Counter& served = metrics::Default().AddCounter("neosl_things_total", "Things served.", {"outcome"});
//   served.Inc({"ok"});
//
// Every family declares its label names once, at registration. A series (one set of label values)
// is created on first use and then updated with a relaxed atomic: finding it walks a short list
// that is only ever prepended to with a compare-and-swap, so the request paths that count take no
// lock. A gauge or counter may also be a callback, evaluated at render time (a feed's staleness
// from the time of its last price).
//
// Label values must come from a small fixed set — an enum's names, an operator-configured pair, a
// service's identity — never from a user (no account ids, function ids or URLs): every series
// lives as long as the process and is sent on every scrape. As a backstop, past
// kMaxSeriesPerFamily series a family folds new label values into one series whose values are all
// "_overflow", and says so once in the log.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neosl::metrics {

using LabelValues = std::initializer_list<std::string_view>;

enum class Type { kCounter, kGauge, kHistogram };
std::string_view TypeName(Type type);  // "counter", "gauge", "histogram"

inline constexpr size_t kMaxSeriesPerFamily = 1000;

struct FamilyInfo {
  std::string name;
  std::string help;
  Type type = Type::kCounter;
  std::vector<std::string> labels;
  std::vector<double> buckets;  // histograms: the upper bounds, increasing (+Inf implied)
  // The names a scrape shows: the name itself, or a histogram's _bucket, _sum and _count.
  std::vector<std::string> SampleNames() const;
};

// What a callback reports its samples through, at render time.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Add(LabelValues labels, double value) = 0;
};
using Callback = std::function<void(Sink&)>;

namespace internal {

// One series: its label values and, in the derived types, its value. Never freed before its
// family; `next` is set before the series is published and never changes.
struct Series {
  virtual ~Series() = default;
  std::vector<std::string> labels;
  Series* next = nullptr;
};

}  // namespace internal

class Family {
 public:
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;
  virtual ~Family();

  const FamilyInfo& info() const { return info_; }
  // The text exposition of this family: # HELP, # TYPE and its samples in label order.
  void Render(std::string& out) const;

 protected:
  explicit Family(FamilyInfo info);

  // The series of `labels`, created on first use (lock-free).
  internal::Series& Find(LabelValues labels);
  // The series of `labels` if it exists.
  const internal::Series* Lookup(LabelValues labels) const;
  virtual std::unique_ptr<internal::Series> NewSeries() const = 0;
  // Appends the sample lines of every series.
  virtual void RenderSamples(std::string& out) const = 0;
  // The series, in label order.
  std::vector<const internal::Series*> Sorted() const;

  void AddCallbackImpl(const void* owner, Callback callback);
  void RemoveCallbacksImpl(const void* owner);
  // Callback samples merged with the direct series: counters add up, a gauge keeps the last.
  void RenderScalars(std::string& out, bool sum) const;
  std::string LabelText(const std::vector<std::string>& values) const;

 private:
  FamilyInfo info_;
  std::atomic<internal::Series*> head_{nullptr};
  std::atomic<size_t> count_{0};
  std::atomic<bool> overflow_logged_{false};
  mutable std::mutex callbacks_mu_;  // held while callbacks run, so removal waits for them
  std::vector<std::pair<const void*, Callback>> callbacks_;
};

class Counter final : public Family {
 public:
  explicit Counter(FamilyInfo info) : Family(std::move(info)) {}
  void Inc(LabelValues labels = {}, uint64_t n = 1);
  // The series' value (0 for none yet); callbacks not included.
  uint64_t Value(LabelValues labels = {}) const;
  // Samples reported by `callback` at render time (a component's own running totals), added to
  // any direct series with the same labels. RemoveCallbacks before `owner` goes away; it waits
  // for a render in progress.
  void AddCallback(const void* owner, Callback callback) { AddCallbackImpl(owner, std::move(callback)); }
  void RemoveCallbacks(const void* owner) { RemoveCallbacksImpl(owner); }

 private:
  std::unique_ptr<internal::Series> NewSeries() const override;
  void RenderSamples(std::string& out) const override { RenderScalars(out, /*sum=*/true); }
};

class Gauge final : public Family {
 public:
  explicit Gauge(FamilyInfo info) : Family(std::move(info)) {}
  void Set(LabelValues labels, double value);
  void Add(LabelValues labels, double delta);
  double Value(LabelValues labels = {}) const;
  // As Counter's; where samples share labels, the last reported shows (callbacks after series).
  void AddCallback(const void* owner, Callback callback) { AddCallbackImpl(owner, std::move(callback)); }
  void RemoveCallbacks(const void* owner) { RemoveCallbacksImpl(owner); }

 private:
  std::unique_ptr<internal::Series> NewSeries() const override;
  void RenderSamples(std::string& out) const override { RenderScalars(out, /*sum=*/false); }
};

class Histogram final : public Family {
 public:
  explicit Histogram(FamilyInfo info) : Family(std::move(info)) {}
  void Observe(LabelValues labels, double value);
  uint64_t Count(LabelValues labels = {}) const;
  double Sum(LabelValues labels = {}) const;

 private:
  std::unique_ptr<internal::Series> NewSeries() const override;
  void RenderSamples(std::string& out) const override;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a family, or returns the one registered under `name` when it has the same type,
  // labels and buckets (so two places may declare one family). A name, label or bucket list that
  // is not valid, or a second registration that differs, is a programming error: it aborts with
  // the name, at start-up (every family is declared in business_metrics.cpp and registered by
  // RegisterAll, which the tests run).
  Counter& AddCounter(std::string name, std::string help, std::vector<std::string> labels = {});
  Gauge& AddGauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Histogram& AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                          std::vector<double> buckets);

  // The Prometheus text exposition format 0.0.4, families in name order.
  std::string Render() const;
  // What is registered, in name order (the observability test checks the dashboards against it).
  std::vector<FamilyInfo> Families() const;

 private:
  Family& Add(FamilyInfo info);
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

// The process's registry.
Registry& Default();

// Text helpers of the exposition format.
std::string EscapeLabelValue(std::string_view value);  // \ " and newline escaped
std::string EscapeHelp(std::string_view help);         // \ and newline escaped
std::string FormatValue(double value);                 // shortest round trip; NaN, +Inf, -Inf

}  // namespace neosl::metrics
