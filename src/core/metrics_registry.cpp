#include "core/metrics_registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/log.h"

namespace neosl::metrics {
namespace {

constexpr std::string_view kOverflow = "_overflow";

struct CounterSeries final : internal::Series {
  std::atomic<uint64_t> value{0};
};

struct GaugeSeries final : internal::Series {
  std::atomic<double> value{0};
};

struct HistogramSeries final : internal::Series {
  explicit HistogramSeries(size_t buckets) : counts(new std::atomic<uint64_t>[buckets + 1]), size(buckets + 1) {
    for (size_t i = 0; i < size; ++i) counts[i].store(0, std::memory_order_relaxed);
  }
  // Per bucket, not cumulative (the last one is +Inf): one add per observation, summed at render.
  std::unique_ptr<std::atomic<uint64_t>[]> counts;
  size_t size;
  std::atomic<double> sum{0};
};

bool ValidName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Registration mistakes are the code's, found by the first test that registers: say which and stop.
[[noreturn]] void Misdeclared(const std::string& name, const char* why) {
  std::fprintf(stderr, "metrics: family %s: %s\n", name.c_str(), why);
  std::abort();
}

void Validate(const FamilyInfo& info) {
  if (!ValidName(info.name, true)) Misdeclared(info.name, "not a valid metric name");
  for (size_t i = 0; i < info.labels.size(); ++i) {
    const std::string& l = info.labels[i];
    if (!ValidName(l, false) || l.starts_with("__")) Misdeclared(info.name, "a label name is not valid");
    if (info.type == Type::kHistogram && l == "le") Misdeclared(info.name, "a histogram cannot have a label le");
    if (std::count(info.labels.begin(), info.labels.end(), l) > 1) Misdeclared(info.name, "a label name repeats");
  }
  if (info.type == Type::kHistogram) {
    if (info.buckets.empty()) Misdeclared(info.name, "a histogram needs buckets");
    for (size_t i = 0; i < info.buckets.size(); ++i) {
      if (!std::isfinite(info.buckets[i]) || (i > 0 && info.buckets[i] <= info.buckets[i - 1])) {
        Misdeclared(info.name, "buckets must be finite and increasing");
      }
    }
  }
  if (info.type == Type::kCounter && !info.name.ends_with("_total")) Misdeclared(info.name, "a counter ends in _total");
}

bool SameLabels(const std::vector<std::string>& have, LabelValues want) {
  if (have.size() != want.size()) return false;
  auto it = want.begin();
  for (const std::string& v : have) {
    if (v != *it++) return false;
  }
  return true;
}

// The label values as stored: as many as the family has names (a mismatch is a bug; it is padded
// or cut rather than crash a request path).
std::vector<std::string> Normalized(LabelValues values, size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (std::string_view v : values) {
    if (out.size() == n) break;
    out.emplace_back(v);
  }
  out.resize(n);
  return out;
}

}  // namespace

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

std::vector<std::string> FamilyInfo::SampleNames() const {
  if (type != Type::kHistogram) return {name};
  return {name + "_bucket", name + "_sum", name + "_count"};
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Whole numbers as integers (counts, datoshi); anything else in its shortest exact form.
  if (value == std::trunc(value) && std::fabs(value) < 9.007199254740992e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

// ---- Family ----

Family::Family(FamilyInfo info) : info_(std::move(info)) {}

Family::~Family() {
  for (internal::Series* s = head_.load(); s != nullptr;) {
    internal::Series* next = s->next;
    delete s;
    s = next;
  }
}

const internal::Series* Family::Lookup(LabelValues labels) const {
  for (const internal::Series* s = head_.load(std::memory_order_acquire); s != nullptr; s = s->next) {
    if (SameLabels(s->labels, labels)) return s;
  }
  return nullptr;
}

internal::Series& Family::Find(LabelValues labels) {
  internal::Series* head = head_.load(std::memory_order_acquire);
  for (internal::Series* s = head; s != nullptr; s = s->next) {
    if (SameLabels(s->labels, labels)) return *s;
  }
  std::vector<std::string> values = Normalized(labels, info_.labels.size());
  if (labels.size() != values.size()) {  // a bug: found by its padded or cut values, never added twice
    for (internal::Series* s = head; s != nullptr; s = s->next) {
      if (s->labels == values) return *s;
    }
  }
  if (count_.load(std::memory_order_relaxed) >= kMaxSeriesPerFamily) {
    if (!overflow_logged_.exchange(true)) {
      // The values themselves are not logged: they are what should not have been a label.
      log::Error("metrics: a family has too many series; new label values are folded into _overflow",
                 {{"metric", info_.name}, {"series", static_cast<int64_t>(kMaxSeriesPerFamily)}});
    }
    std::fill(values.begin(), values.end(), std::string(kOverflow));
    for (internal::Series* s = head; s != nullptr; s = s->next) {
      if (s->labels == values) return *s;
    }
  }
  std::unique_ptr<internal::Series> fresh = NewSeries();
  fresh->labels = std::move(values);
  internal::Series* seen = head;  // the list as far as it was searched
  while (true) {
    fresh->next = head;
    if (head_.compare_exchange_weak(head, fresh.get(), std::memory_order_acq_rel, std::memory_order_acquire)) {
      count_.fetch_add(1, std::memory_order_relaxed);
      return *fresh.release();
    }
    // Others prepended meanwhile: one of theirs may be this very series.
    for (internal::Series* s = head; s != seen; s = s->next) {
      if (s->labels == fresh->labels) return *s;
    }
    seen = head;
  }
}

void Family::AddCallbackImpl(const void* owner, Callback callback) {
  std::lock_guard lock(callbacks_mu_);
  callbacks_.emplace_back(owner, std::move(callback));
}

void Family::RemoveCallbacksImpl(const void* owner) {
  std::lock_guard lock(callbacks_mu_);
  std::erase_if(callbacks_, [owner](const auto& c) { return c.first == owner; });
}

std::string Family::LabelText(const std::vector<std::string>& values) const {
  std::string out;
  for (size_t i = 0; i < values.size() && i < info_.labels.size(); ++i) {
    if (i > 0) out += ',';
    out += info_.labels[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  return out;
}

void Family::Render(std::string& out) const {
  out += "# HELP " + info_.name + " " + EscapeHelp(info_.help) + "\n";
  out += "# TYPE " + info_.name + " " + std::string(TypeName(info_.type)) + "\n";
  RenderSamples(out);
}

std::vector<const internal::Series*> Family::Sorted() const {
  std::vector<const internal::Series*> all;
  for (const internal::Series* s = head_.load(std::memory_order_acquire); s != nullptr; s = s->next) all.push_back(s);
  std::sort(all.begin(), all.end(), [](const auto* a, const auto* b) { return a->labels < b->labels; });
  return all;
}

void Family::RenderScalars(std::string& out, bool sum) const {
  std::map<std::vector<std::string>, double> samples;
  auto merge = [&](std::vector<std::string> labels, double value) {
    auto [it, fresh] = samples.emplace(std::move(labels), value);
    if (!fresh) it->second = sum ? it->second + value : value;
  };
  for (const internal::Series* s = head_.load(std::memory_order_acquire); s != nullptr; s = s->next) {
    const double v = info_.type == Type::kCounter
                         ? static_cast<double>(static_cast<const CounterSeries*>(s)->value.load())
                         : static_cast<const GaugeSeries*>(s)->value.load();
    merge(s->labels, v);
  }
  {
    struct Collect final : Sink {
      size_t n = 0;
      std::function<void(std::vector<std::string>, double)> add;
      void Add(LabelValues labels, double value) override { add(Normalized(labels, n), value); }
    } sink;
    sink.n = info_.labels.size();
    sink.add = merge;
    std::lock_guard lock(callbacks_mu_);
    for (const auto& [owner, callback] : callbacks_) callback(sink);
  }
  for (const auto& [labels, value] : samples) {
    const std::string text = LabelText(labels);
    out += info_.name;
    if (!text.empty()) out += "{" + text + "}";
    out += " " + FormatValue(value) + "\n";
  }
}

// ---- Counter, Gauge, Histogram ----

void Counter::Inc(LabelValues labels, uint64_t n) {
  static_cast<CounterSeries&>(Find(labels)).value.fetch_add(n, std::memory_order_relaxed);
}

uint64_t Counter::Value(LabelValues labels) const {
  const auto* s = static_cast<const CounterSeries*>(Lookup(labels));
  return s ? s->value.load(std::memory_order_relaxed) : 0;
}

std::unique_ptr<internal::Series> Counter::NewSeries() const {
  return std::make_unique<CounterSeries>();
}

void Gauge::Set(LabelValues labels, double value) {
  static_cast<GaugeSeries&>(Find(labels)).value.store(value, std::memory_order_relaxed);
}

void Gauge::Add(LabelValues labels, double delta) {
  static_cast<GaugeSeries&>(Find(labels)).value.fetch_add(delta, std::memory_order_relaxed);
}

double Gauge::Value(LabelValues labels) const {
  const auto* s = static_cast<const GaugeSeries*>(Lookup(labels));
  return s ? s->value.load(std::memory_order_relaxed) : 0;
}

std::unique_ptr<internal::Series> Gauge::NewSeries() const {
  return std::make_unique<GaugeSeries>();
}

void Histogram::Observe(LabelValues labels, double value) {
  auto& s = static_cast<HistogramSeries&>(Find(labels));
  const auto& bounds = info().buckets;
  // The first bound at or above the value (le); NaN lands in +Inf, and poisons the sum as it should.
  const size_t i = std::isnan(value) ? bounds.size()
                                     : size_t(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  s.counts[i].fetch_add(1, std::memory_order_relaxed);
  s.sum.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::Count(LabelValues labels) const {
  const auto* s = static_cast<const HistogramSeries*>(Lookup(labels));
  uint64_t n = 0;
  for (size_t i = 0; s != nullptr && i < s->size; ++i) n += s->counts[i].load(std::memory_order_relaxed);
  return n;
}

double Histogram::Sum(LabelValues labels) const {
  const auto* s = static_cast<const HistogramSeries*>(Lookup(labels));
  return s ? s->sum.load(std::memory_order_relaxed) : 0;
}

std::unique_ptr<internal::Series> Histogram::NewSeries() const {
  return std::make_unique<HistogramSeries>(info().buckets.size());
}

void Histogram::RenderSamples(std::string& out) const {
  const std::string& name = info().name;
  for (const internal::Series* series : Sorted()) {
    const auto& s = static_cast<const HistogramSeries&>(*series);
    const std::string labels = LabelText(s.labels);
    const std::string prefix = labels.empty() ? std::string() : labels + ",";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < s.size; ++i) {
      cumulative += s.counts[i].load(std::memory_order_relaxed);
      const std::string le = i + 1 < s.size ? FormatValue(info().buckets[i]) : "+Inf";
      out += name + "_bucket{" + prefix + "le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
    }
    const std::string braces = labels.empty() ? std::string() : "{" + labels + "}";
    out += name + "_sum" + braces + " " + FormatValue(s.sum.load(std::memory_order_relaxed)) + "\n";
    // The +Inf bucket's count, so that the two agree however observations raced the render.
    out += name + "_count" + braces + " " + std::to_string(cumulative) + "\n";
  }
}

// ---- Registry ----

Family& Registry::Add(FamilyInfo info) {
  Validate(info);
  std::lock_guard lock(mu_);
  if (auto it = families_.find(info.name); it != families_.end()) {
    const FamilyInfo& have = it->second->info();
    if (have.type != info.type || have.labels != info.labels || have.buckets != info.buckets) {
      Misdeclared(info.name, "registered twice, differently");
    }
    return *it->second;
  }
  std::unique_ptr<Family> family;
  switch (info.type) {
    case Type::kCounter: family = std::make_unique<Counter>(std::move(info)); break;
    case Type::kGauge: family = std::make_unique<Gauge>(std::move(info)); break;
    case Type::kHistogram: family = std::make_unique<Histogram>(std::move(info)); break;
  }
  Family& f = *family;
  families_.emplace(f.info().name, std::move(family));
  return f;
}

Counter& Registry::AddCounter(std::string name, std::string help, std::vector<std::string> labels) {
  const bool plain = labels.empty();
  auto& c = static_cast<Counter&>(Add({std::move(name), std::move(help), Type::kCounter, std::move(labels), {}}));
  if (plain) c.Inc({}, 0);  // shown as 0 from the start, so rate() sees the first increment
  return c;
}

Gauge& Registry::AddGauge(std::string name, std::string help, std::vector<std::string> labels) {
  return static_cast<Gauge&>(Add({std::move(name), std::move(help), Type::kGauge, std::move(labels), {}}));
}

Histogram& Registry::AddHistogram(std::string name, std::string help, std::vector<std::string> labels,
                                  std::vector<double> buckets) {
  return static_cast<Histogram&>(
      Add({std::move(name), std::move(help), Type::kHistogram, std::move(labels), std::move(buckets)}));
}

std::string Registry::Render() const {
  // Families are never removed: render outside the lock, so that a callback may register.
  std::vector<const Family*> families;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) families.push_back(f.get());
  }
  std::string out;
  for (const Family* f : families) f->Render(out);
  return out;
}

std::vector<FamilyInfo> Registry::Families() const {
  std::lock_guard lock(mu_);
  std::vector<FamilyInfo> out;
  for (const auto& [name, f] : families_) out.push_back(f->info());
  return out;
}

Registry& Default() {
  static Registry* registry = new Registry();  // never destroyed: metrics may be counted during exit
  return *registry;
}

}  // namespace neosl::metrics
