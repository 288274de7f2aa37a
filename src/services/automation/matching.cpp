// The pure rules of sources.h: whether a block, a notification or a price report fires a trigger,
// and the context JSON handed to the action.
//
// Notification arguments are read as NeoVM reads a stack item as a type (Integer from a Boolean
// or a ByteString of at most 32 bytes, Boolean from an Integer or such a ByteString), then written
// in CanonicalParamText's form (spec.h) and compared as text. Hashes arrive as the VM holds them,
// little-endian, and are printed reversed, as Neo's UInt160/UInt256 ToString() print them (the
// NEP-17 trackers read a Transfer's `from` as `new UInt160(bytes)`).
//
// Prices are compared exactly: every value is an unbounded integer scaled by a power of ten, so
// prices of different decimals and thresholds of any precision compare without rounding.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "chain_requests/request.h"  // IsValidUtf8
#include "core/encoding.h"
#include "neo/contract_param.h"  // BigInteger
#include "services/automation/sources.h"

namespace neosl::automation {
namespace {

namespace json = boost::json;

// ---- exact decimals --------------------------------------------------------------------------

// A non-negative integer of any size, little-endian base 2^32, without high zero limbs.
class Natural {
 public:
  static Natural FromUint64(uint64_t v) {
    Natural n;
    while (v != 0) {
      n.limbs_.push_back(static_cast<uint32_t>(v));
      v >>= 32;
    }
    return n;
  }

  bool zero() const { return limbs_.empty(); }

  void MulAdd(uint32_t mul, uint32_t add) {
    uint64_t carry = add;
    for (uint32_t& limb : limbs_) {
      const uint64_t v = uint64_t{limb} * mul + carry;
      limb = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
    if (carry != 0) limbs_.push_back(static_cast<uint32_t>(carry));
    Trim();
  }

  // Divides in place; returns the remainder.
  uint32_t DivMod(uint32_t divisor) {
    uint64_t rem = 0;
    for (size_t i = limbs_.size(); i-- > 0;) {
      const uint64_t cur = (rem << 32) | limbs_[i];
      limbs_[i] = static_cast<uint32_t>(cur / divisor);
      rem = cur % divisor;
    }
    Trim();
    return static_cast<uint32_t>(rem);
  }

  void Add(const Natural& other) {
    uint64_t carry = 0;
    for (size_t i = 0; i < std::max(limbs_.size(), other.limbs_.size()) || carry != 0; ++i) {
      if (i == limbs_.size()) limbs_.push_back(0);
      const uint64_t v = uint64_t{limbs_[i]} + (i < other.limbs_.size() ? other.limbs_[i] : 0) + carry;
      limbs_[i] = static_cast<uint32_t>(v);
      carry = v >> 32;
    }
  }

  // *this − other; requires *this ≥ other.
  void Subtract(const Natural& other) {
    int64_t borrow = 0;
    for (size_t i = 0; i < limbs_.size(); ++i) {
      int64_t v = int64_t{limbs_[i]} - borrow - (i < other.limbs_.size() ? int64_t{other.limbs_[i]} : 0);
      borrow = v < 0 ? 1 : 0;
      if (v < 0) v += int64_t{1} << 32;
      limbs_[i] = static_cast<uint32_t>(v);
    }
    Trim();
  }

  std::string ToDecimal() const {
    if (zero()) return "0";
    Natural n = *this;
    std::string out;
    while (!n.zero()) {
      uint32_t chunk = n.DivMod(1'000'000'000);
      for (int i = 0; i < 9; ++i) {
        out.push_back(static_cast<char>('0' + chunk % 10));
        chunk /= 10;
      }
    }
    while (out.size() > 1 && out.back() == '0') out.pop_back();
    std::reverse(out.begin(), out.end());
    return out;
  }

  // −1, 0 or 1 as a is less than, equal to or greater than b.
  static int Compare(const Natural& a, const Natural& b) {
    if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
    for (size_t i = a.limbs_.size(); i-- > 0;) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

 private:
  void Trim() {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  }
  std::vector<uint32_t> limbs_;
};

// sign · magnitude · 10^−scale.
struct Decimal {
  bool negative = false;
  Natural magnitude;
  uint32_t scale = 0;

  static Decimal FromScaled(int64_t value, uint32_t decimals) {
    Decimal d;
    d.negative = value < 0;
    // 0 − v in unsigned arithmetic: the magnitude of INT64_MIN too.
    d.magnitude = Natural::FromUint64(value < 0 ? uint64_t{0} - static_cast<uint64_t>(value) : uint64_t(value));
    d.scale = decimals;
    if (d.magnitude.zero()) d.negative = false;
    return d;
  }

  // "12", "-0.5", "11.23000000": an optional '-', digits, optionally '.' and digits.
  static std::optional<Decimal> Parse(std::string_view text) {
    Decimal d;
    if (!text.empty() && text.front() == '-') {
      d.negative = true;
      text.remove_prefix(1);
    }
    const size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (whole.empty() || (dot != std::string_view::npos && fraction.empty())) return std::nullopt;
    constexpr size_t kMaxDigits = 200;  // far past any price; bounds the work on a corrupt state
    if (whole.size() + fraction.size() > kMaxDigits) return std::nullopt;
    for (std::string_view part : {whole, fraction}) {
      for (char c : part) {
        if (c < '0' || c > '9') return std::nullopt;
        d.magnitude.MulAdd(10, static_cast<uint32_t>(c - '0'));
      }
    }
    d.scale = static_cast<uint32_t>(fraction.size());
    if (d.magnitude.zero()) d.negative = false;
    return d;
  }

  // The same value at scale `to` (≥ scale).
  Natural MagnitudeAt(uint32_t to) const {
    Natural m = magnitude;
    for (uint32_t i = scale; i < to; ++i) m.MulAdd(10, 0);
    return m;
  }
};

// −1, 0 or 1 as a is less than, equal to or greater than b.
int Compare(const Decimal& a, const Decimal& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  const uint32_t scale = std::max(a.scale, b.scale);
  const int m = Natural::Compare(a.MagnitudeAt(scale), b.MagnitudeAt(scale));
  return a.negative ? -m : m;
}

// Whether |price − reference| · 10000 ≥ bps · |reference|. A reference of zero: any change.
bool MovedBy(const Decimal& price, const Decimal& reference, uint32_t bps) {
  if (reference.magnitude.zero()) return !price.magnitude.zero();
  const uint32_t scale = std::max(price.scale, reference.scale);
  Natural p = price.MagnitudeAt(scale);
  Natural r = reference.MagnitudeAt(scale);
  Natural diff;
  if (price.negative != reference.negative) {  // on both sides of zero: the sum of the magnitudes
    diff = std::move(p);
    diff.Add(r);
  } else if (Natural::Compare(p, r) >= 0) {
    diff = std::move(p);
    diff.Subtract(r);
  } else {
    diff = r;
    diff.Subtract(p);
  }
  diff.MulAdd(10'000, 0);
  Natural threshold = r;
  threshold.MulAdd(bps, 0);
  return Natural::Compare(diff, threshold) >= 0;
}

// 12345 at 2 → "123.45"; 5 at 3 → "0.005"; trailing zeros kept.
std::string FormatScaled(int64_t value, uint32_t decimals) {
  const Decimal d = Decimal::FromScaled(value, decimals);
  std::string digits = d.magnitude.ToDecimal();
  if (digits.size() <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
  if (decimals > 0) digits.insert(digits.size() - decimals, ".");
  return (d.negative ? "-" : "") + digits;
}

// "NEO/USD", "neo-usd" and "NEO_USD" name one pair.
std::string PairKey(std::string_view pair) {
  std::string out(pair);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c == '-' || c == '_') c = '/';
  }
  return out;
}

// ---- stack items -----------------------------------------------------------------------------

// The bytes of a ByteString or Buffer item; nullopt for any other type.
std::optional<std::vector<uint8_t>> ItemBytes(const neo::RpcStackItem& item) {
  if (item.type() != "ByteString" && item.type() != "Buffer") return std::nullopt;
  auto bytes = item.AsBytes();
  if (!bytes.ok()) return std::nullopt;
  return *std::move(bytes);
}

// NeoVM's integer limit for ByteString → Integer conversion (Integer.MaxSize).
constexpr size_t kMaxIntegerBytes = 32;

// Little-endian two's complement, as NeoVM reads a ByteString as an Integer.
std::string IntegerFromLe(const std::vector<uint8_t>& le) {
  if (le.empty()) return "0";
  const bool negative = (le.back() & 0x80) != 0;
  std::vector<uint8_t> mag = le;
  if (negative) {  // the magnitude: invert and add one
    unsigned carry = 1;
    for (uint8_t& byte : mag) {
      const unsigned v = static_cast<uint8_t>(~byte) + carry;
      byte = static_cast<uint8_t>(v);
      carry = v >> 8;
    }
  }
  Natural n;
  for (size_t i = mag.size(); i-- > 0;) n.MulAdd(256, mag[i]);
  return (negative && !n.zero() ? "-" : "") + n.ToDecimal();
}

std::optional<std::string> IntegerText(const neo::RpcStackItem& item) {
  const std::string_view type = item.type();
  if (type == "Integer") {
    auto text = item.IntegerText();
    if (!text.ok()) return std::nullopt;
    auto big = neo::BigInteger::FromDecimal(*text);
    if (!big.ok()) return std::nullopt;
    return big->decimal();
  }
  if (type == "Boolean") {
    auto b = item.AsBool();
    if (!b.ok()) return std::nullopt;
    return std::string(*b ? "1" : "0");
  }
  auto bytes = ItemBytes(item);
  if (!bytes || bytes->size() > kMaxIntegerBytes) return std::nullopt;
  return IntegerFromLe(*bytes);
}

std::optional<std::string> BooleanText(const neo::RpcStackItem& item) {
  const std::string_view type = item.type();
  if (type == "Boolean") {
    auto b = item.AsBool();
    if (!b.ok()) return std::nullopt;
    return std::string(*b ? "true" : "false");
  }
  if (type == "Integer") {
    auto text = IntegerText(item);
    if (!text) return std::nullopt;
    return std::string(*text != "0" ? "true" : "false");
  }
  auto bytes = ItemBytes(item);
  if (!bytes || bytes->size() > kMaxIntegerBytes) return std::nullopt;
  const bool any = std::any_of(bytes->begin(), bytes->end(), [](uint8_t b) { return b != 0; });
  return std::string(any ? "true" : "false");
}

}  // namespace

// ---- blocks ----------------------------------------------------------------------------------

bool BlockFires(const BlockCondition& c, uint32_t height) {
  if (c.at) return height == *c.at;
  return c.every != 0 && height != 0 && height % c.every == 0;
}

// ---- notifications ---------------------------------------------------------------------------

std::optional<std::string> StackItemText(std::string_view type, const neo::RpcStackItem& item) {
  if (type == "Integer") return IntegerText(item);
  if (type == "Boolean") return BooleanText(item);
  auto bytes = ItemBytes(item);
  if (!bytes) return std::nullopt;
  if (type == "Hash160") {
    auto hash = neo::UInt160::FromBytes(*bytes);
    if (!hash.ok()) return std::nullopt;
    return hash->ToString();
  }
  if (type == "Hash256") {
    auto hash = neo::UInt256::FromBytes(*bytes);
    if (!hash.ok()) return std::nullopt;
    return hash->ToString();
  }
  if (type == "String") {
    std::string text(bytes->begin(), bytes->end());
    if (!chain_requests::IsValidUtf8(text)) return std::nullopt;
    return text;
  }
  if (type == "ByteString" || type == "ByteArray") return HexEncode(*bytes);
  if (type == "PublicKey") {
    // A compressed point's shape; whether it is on the curve need not be checked here, as the
    // filter's value was, and bytes that are not a point can never equal it.
    if (bytes->size() != 33 || ((*bytes)[0] != 0x02 && (*bytes)[0] != 0x03)) return std::nullopt;
    return HexEncode(*bytes);
  }
  return std::nullopt;
}

bool EventFires(const EventCondition& c, const neo::NotificationEvent& n) {
  auto contract = neo::UInt160::Parse(c.contract);
  if (!contract.ok() || *contract != n.notification.contract) return false;
  if (c.event != n.notification.event_name) return false;
  if (c.filters.empty()) return true;
  auto args = n.notification.state.AsArray();
  if (!args.ok()) return false;
  for (const EventFilter& f : c.filters) {
    if (f.param >= args->size()) return false;
    std::optional<std::string> text = StackItemText(f.type, (*args)[f.param]);
    if (!text || *text != f.equals) return false;
  }
  return true;
}

// ---- contexts --------------------------------------------------------------------------------

std::string BlockContextJson(const neo::BlockInfo& block) {
  json::object o;
  o["height"] = block.index;
  o["hash"] = block.hash.ToString();
  o["time"] = FormatRfc3339Millis(static_cast<int64_t>(block.time_ms));
  return json::serialize(o);
}

std::string EventContextJson(const neo::NotificationEvent& n) {
  json::object o;
  o["height"] = n.block_index;
  o["tx"] = n.container.ToString();
  o["index"] = n.index;
  o["contract"] = n.notification.contract.ToString();
  o["event"] = n.notification.event_name;
  // As the node sent it: {"type":"Array","value":[…]}, Neo's JSON for the arguments.
  o["state"] = n.notification.state.json();
  return json::serialize(o);
}

// ---- prices ----------------------------------------------------------------------------------

std::string PriceStateToJson(const PriceState& s) {
  json::object o;
  if (s.side) o["side"] = *s.side;
  o["reference"] = s.reference;
  // As text: a round is a uint64, beyond what every JSON reader keeps exactly.
  o["round"] = std::to_string(s.round);
  return json::serialize(o);
}

StatusOr<PriceState> PriceStateFromJson(std::string_view text) {
  if (text.empty()) return PriceState{};
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return DataLossError("a price trigger's state is not a JSON object");
  PriceState s;
  if (const json::value* side = o->if_contains("side"); side != nullptr && !side->is_null()) {
    if (!side->is_int64() || (side->get_int64() != 1 && side->get_int64() != -1)) {
      return DataLossError("a price trigger's state has a side other than 1 or -1");
    }
    s.side = static_cast<int>(side->get_int64());
  }
  if (const json::value* reference = o->if_contains("reference"); reference != nullptr) {
    if (!reference->is_string()) return DataLossError("a price trigger's reference is not text");
    s.reference = std::string(reference->get_string());
    if (!s.reference.empty() && !Decimal::Parse(s.reference)) {
      return DataLossError("a price trigger's reference is not a decimal number");
    }
  }
  if (const json::value* round = o->if_contains("round"); round != nullptr) {
    const json::string* r = round->if_string();
    uint64_t n = 0;
    bool ok = r != nullptr && !r->empty() && r->size() <= 20;
    for (size_t i = 0; ok && i < r->size(); ++i) {
      const char c = (*r)[i];
      ok = c >= '0' && c <= '9' && n <= (UINT64_MAX - static_cast<uint64_t>(c - '0')) / 10;
      if (ok) n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!ok) return DataLossError("a price trigger's round is not a decimal uint64");
    s.round = n;
  }
  return s;
}

// For above/below the state's reference holds the last report's price too (the context's
// "previous"); it takes no part in their decision.
PriceDecision EvaluatePrice(const PriceCondition& c, const PriceState& prev, const PriceTick& tick) {
  PriceDecision d;
  d.next = prev;
  if (PairKey(tick.pair) != PairKey(c.pair) || tick.round <= prev.round) return d;
  d.next.round = tick.round;
  const Decimal price = Decimal::FromScaled(tick.price, tick.decimals);
  const std::string price_text = FormatScaled(tick.price, tick.decimals);
  const std::string previous = prev.reference;
  std::optional<Decimal> reference = prev.reference.empty() ? std::nullopt : Decimal::Parse(prev.reference);

  switch (c.mode) {
    case PriceCondition::Mode::kAbove:
    case PriceCondition::Mode::kBelow: {
      std::optional<Decimal> threshold = Decimal::Parse(c.value);
      if (!threshold) return PriceDecision{.fire = false, .next = prev};  // never stored: the spec checks it
      const int side = Compare(price, *threshold) > 0 ? 1 : -1;
      d.next.side = side;
      d.next.reference = price_text;
      if (prev.side) {
        d.fire = c.mode == PriceCondition::Mode::kAbove ? (*prev.side < 0 && side > 0) : (*prev.side > 0 && side < 0);
      }
      break;
    }
    case PriceCondition::Mode::kChange:
      if (!reference) {  // the first report (or an unreadable reference): it becomes the reference
        d.next.reference = price_text;
        break;
      }
      d.fire = MovedBy(price, *reference, c.change_bps);
      if (d.fire) d.next.reference = price_text;
      break;
  }

  if (d.fire) {
    json::object o;
    o["pair"] = tick.pair;
    o["price"] = price_text;
    o["round"] = tick.round;
    o["time"] = FormatRfc3339Millis(tick.timestamp_ms);
    if (previous.empty()) {
      o["previous"] = nullptr;
    } else {
      o["previous"] = previous;
    }
    d.context_json = json::serialize(o);
  }
  return d;
}

}  // namespace neosl::automation
