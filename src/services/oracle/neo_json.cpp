#include "services/oracle/neo_json.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>

namespace neosl::oracle {
namespace {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Parsing: Neo.Json/JToken.cs (Parse, Read, ReadObject).

// Decimal exponent of the first non-zero digit of a JSON number ("0.05" → -2, "12e3" → 4),
// saturated far beyond any double. Only asked about numbers that are not zero.
int64_t LeadingDigitExponent(std::string_view number) {
  size_t i = number.empty() || number[0] != '-' ? 0 : 1;
  int64_t int_digits = 0;
  int64_t leading = INT64_MIN;
  for (; i < number.size() && number[i] >= '0' && number[i] <= '9'; ++i, ++int_digits) {
    if (leading == INT64_MIN && number[i] != '0') leading = -int_digits;  // fixed up below
  }
  if (leading != INT64_MIN) leading += int_digits - 1;
  if (i < number.size() && number[i] == '.') {
    ++i;
    for (int64_t j = 1; i < number.size() && number[i] >= '0' && number[i] <= '9'; ++i, ++j) {
      if (leading == INT64_MIN && number[i] != '0') leading = -j;
    }
  }
  int64_t exponent = 0;
  if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
    ++i;
    const bool negative = i < number.size() && number[i] == '-';
    if (i < number.size() && (number[i] == '-' || number[i] == '+')) ++i;
    for (; i < number.size(); ++i) {
      if (exponent < (int64_t{1} << 40)) exponent = exponent * 10 + (number[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  return leading == INT64_MIN ? INT64_MIN : leading + exponent;
}

// Utf8JsonReader.GetDouble: correctly rounded; an overflow to infinity is an error, an underflow
// is a zero of the number's sign.
bool ParseNeoDouble(std::string_view text, double& out) {
  double d = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, d);
  if (ec == std::errc() && ptr == end) {
    out = d;
    return std::isfinite(d);
  }
  if (ec == std::errc::result_out_of_range && LeadingDigitExponent(text) < 0) {
    out = text[0] == '-' ? -0.0 : 0.0;
    return true;
  }
  return false;
}

// Decodes one well-formed UTF-8 sequence at s[i]; returns its length, or 0 if ill-formed.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  const unsigned b0 = byte(i);
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(i + 1)) {
    cp = ((b0 & 0x1F) << 6) | (byte(i + 1) & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
    if (!cont(i + 1, lo, hi) || !cont(i + 2)) return 0;
    cp = ((b0 & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F);
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (!cont(i + 1, lo, hi) || !cont(i + 2) || !cont(i + 3)) return 0;
    cp = ((b0 & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) | ((byte(i + 2) & 0x3F) << 6) | (byte(i + 3) & 0x3F);
    return 4;
  }
  return 0;
}

// Neo parses a .NET string (OracleHttpsProtocol decodes the body with StrictUTF8), so no text
// that is not UTF-8 reaches it, not even inside a comment, where Boost does not look.
bool IsUtf8(std::string_view s) {
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else if (const size_t len = DecodeUtf8(s, i, cp); len > 0) {
      i += len;
    } else {
      return false;
    }
  }
  return true;
}

// Where Boost.JSON (with comments allowed) and Utf8JsonReader (CommentHandling.Skip) part ways:
// a `//` comment also ends at '\r' and must not hold U+2028/U+2029; no comment may sit between a
// property name and its colon; and an exponent beyond Boost's int range is not an error but 0
// or infinity. Returns the text to hand to Boost: `text` itself, or a copy in `storage` with each
// such '\r' made '\n' and each such exponent made ±99999999, which gives the same double.
StatusOr<std::string_view> AlignWithUtf8JsonReader(std::string_view text, std::string& storage) {
  size_t copied = 0;  // text[0, copied) is already in storage
  bool rewritten = false;
  const auto replace = [&](size_t pos, size_t len, std::string_view with) {
    storage.append(text.substr(copied, pos - copied));
    storage.append(with);
    copied = pos + len;
    rewritten = true;
  };
  bool after_string = false;   // only whitespace and comments since the last string
  bool comment_after = false;  // … and at least one comment
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '/' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '*')) {
      comment_after = after_string;
      if (text[i + 1] == '*') {
        const size_t end = text.find("*/", i + 2);
        if (end == std::string_view::npos) break;  // unterminated: Boost rejects it too
        i = end + 1;
        continue;
      }
      size_t j = i + 2;
      for (; j < text.size() && text[j] != '\n' && text[j] != '\r'; ++j) {
        if (text.substr(j, 3) == "\xE2\x80\xA8" || text.substr(j, 3) == "\xE2\x80\xA9") {
          return InvalidArgumentError("line separator in a comment");
        }
      }
      if (j < text.size() && text[j] == '\r') replace(j, 1, "\n");
      i = j;
      continue;
    }
    if (c == ':' && comment_after) return InvalidArgumentError("comment between a property name and its colon");
    after_string = comment_after = false;
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
      after_string = true;
    } else if ((c == 'e' || c == 'E') && i > 0 && text[i - 1] >= '0' && text[i - 1] <= '9') {
      size_t digits = i + 1 < text.size() && (text[i + 1] == '-' || text[i + 1] == '+') ? i + 2 : i + 1;
      size_t end = digits;
      while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
      size_t significant = digits;
      while (significant < end && text[significant] == '0') ++significant;
      if (end - significant > 9) replace(digits, end - digits, "99999999");
      i = end - 1;
    }
  }
  if (!rewritten) return text;
  storage.append(text.substr(copied));
  return std::string_view(storage);
}

// A basic_parser handler that builds the tree Neo's JToken.Read builds: numbers as doubles,
// duplicate property names rejected as soon as the second name is read.
class NeoJsonBuilder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) {
    stack_.push_back(Frame{json::value(json::array_kind), {}});
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) { return Close(); }
  bool on_object_begin(json::error_code&) {
    stack_.push_back(Frame{json::value(json::object_kind), {}});
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) { return Close(); }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    text_.append(s.data(), s.size());
    json::value v(json::string(text_.data(), text_.size()));
    text_.clear();
    return Add(std::move(v));
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    text_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    text_.append(s.data(), s.size());
    Frame& top = stack_.back();
    if (top.value.get_object().contains(text_)) return Fail(ec, "duplicate property name");
    top.key = std::move(text_);
    text_.clear();
    return true;
  }
  bool on_number_part(json::string_view s, json::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, json::string_view s, json::error_code& ec) { return OnNumber(s, ec); }
  bool on_uint64(uint64_t, json::string_view s, json::error_code& ec) { return OnNumber(s, ec); }
  bool on_double(double, json::string_view s, json::error_code& ec) { return OnNumber(s, ec); }
  bool on_bool(bool b, json::error_code&) { return Add(json::value(b)); }
  bool on_null(json::error_code&) { return Add(json::value(nullptr)); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

  json::value& root() { return root_; }
  const std::string& failure() const { return failure_; }

 private:
  struct Frame {
    json::value value;
    std::string key;  // objects: the name of the value being read
  };

  bool OnNumber(json::string_view last, json::error_code& ec) {
    number_.append(last.data(), last.size());
    double d = 0;
    const bool ok = ParseNeoDouble(number_, d);
    number_.clear();
    if (!ok) return Fail(ec, "number out of the range of a double");
    return Add(json::value(d));
  }
  bool Add(json::value v) {
    if (stack_.empty()) {
      root_ = std::move(v);
    } else if (Frame& top = stack_.back(); top.value.is_array()) {
      top.value.get_array().push_back(std::move(v));
    } else {
      top.value.get_object().emplace(top.key, std::move(v));
    }
    return true;
  }
  bool Close() {
    json::value v = std::move(stack_.back().value);
    stack_.pop_back();
    return Add(std::move(v));
  }
  bool Fail(json::error_code& ec, std::string message) {
    failure_ = std::move(message);
    ec = json::error::syntax;
    return false;
  }

  std::vector<Frame> stack_;
  json::value root_;
  std::string text_;
  std::string number_;
  std::string failure_;
};

// ---------------------------------------------------------------------------------------------
// Serialization: Neo.Json/JToken.cs (ToByteArray: Utf8JsonWriter, default encoder).

void AppendUnicodeEscape(std::string& out, uint32_t unit) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(unit >> shift) & 0xF]);
}

// JavaScriptEncoder.Default: printable ASCII stays, except the HTML-sensitive `"&'+<>` and
// `` ` ``; `\b \t \n \f \r \\` get their short forms; everything else, all non-ASCII included,
// becomes \uXXXX (UTF-16 units, so astral characters become a surrogate pair).
void AppendNeoString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\b': out += "\\b"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\f': out += "\\f"; break;
        case '\r': out += "\\r"; break;
        case '\\': out += "\\\\"; break;
        case '"':
        case '&':
        case '\'':
        case '+':
        case '<':
        case '>':
        case '`':
        case 0x7F: AppendUnicodeEscape(out, c); break;
        default:
          if (c < 0x20) {
            AppendUnicodeEscape(out, c);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t cp = 0xFFFD;  // for a byte that starts no well-formed sequence
    const size_t len = DecodeUtf8(s, i, cp);
    i += len == 0 ? 1 : len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      AppendUnicodeEscape(out, 0xD800 + (cp >> 10));
      AppendUnicodeEscape(out, 0xDC00 + (cp & 0x3FF));
    } else {
      AppendUnicodeEscape(out, cp);
    }
  }
  out.push_back('"');
}

void AppendNeoNumber(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  out += FormatNeoNumber(d);
}

void AppendNeoJson(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; return;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case json::kind::int64: AppendNeoNumber(out, static_cast<double>(v.get_int64())); return;
    case json::kind::uint64: AppendNeoNumber(out, static_cast<double>(v.get_uint64())); return;
    case json::kind::double_: AppendNeoNumber(out, v.get_double()); return;
    case json::kind::string: {
      const json::string& s = v.get_string();
      AppendNeoString(out, std::string_view(s.data(), s.size()));
      return;
    }
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const json::value& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendNeoJson(out, item);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const json::key_value_pair& p : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        AppendNeoString(out, std::string_view(p.key().data(), p.key().size()));
        out.push_back(':');
        AppendNeoJson(out, p.value());
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

StatusOr<json::value> ParseNeoJson(std::string_view text, int max_nest) {
  if (max_nest < 0) return InvalidArgumentError("max_nest must not be negative");
  json::parse_options options;
  options.max_depth = max_nest == 0 ? kNeoJsonMaxNest : max_nest;  // JsonReaderOptions: 0 = 64
  options.allow_comments = true;                                   // JsonCommentHandling.Skip
  options.allow_trailing_commas = false;
  options.allow_invalid_utf8 = false;
  if (!IsUtf8(text)) return InvalidArgumentError("not UTF-8");
  std::string storage;
  ASSIGN_OR_RETURN(const std::string_view aligned, AlignWithUtf8JsonReader(text, storage));
  json::basic_parser<NeoJsonBuilder> parser(options);
  json::error_code ec;
  const size_t consumed = parser.write_some(false, aligned.data(), aligned.size(), ec);
  if (ec) {
    const std::string& failure = parser.handler().failure();
    return InvalidArgumentError(failure.empty() ? ec.message() : failure);
  }
  if (consumed != aligned.size()) return InvalidArgumentError("unexpected data after the JSON value");
  return std::move(parser.handler().root());
}

std::string FormatNeoNumber(double d) {
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  // The shortest round-trip digits, as .NET's Grisu3/Dragon4 shortest mode finds them.
  char buf[40];
  const auto result = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(result.ptr - buf));  // "-d.ddde+XX"
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  int exponent = 0;
  const std::string_view exp_text = sci.substr(e_pos + 1);
  std::from_chars(exp_text.data() + (exp_text[0] == '+' ? 1 : 0), exp_text.data() + exp_text.size(), exponent);

  // Number.Formatting.cs FormatGeneral, with nMaxDigits = max(digits, DoublePrecision = 17):
  // `scale` is where the decimal point goes (value = 0.d1d2… × 10^scale).
  const int n = static_cast<int>(digits.size());
  const int scale = exponent + 1;
  std::string out = d < 0 ? "-" : "";
  if (scale > std::max(n, 17) || scale < -3) {
    out.push_back(digits[0]);
    if (n > 1) out += "." + digits.substr(1);
    const int e = scale - 1;
    out += e < 0 ? "E-" : "E+";
    const std::string e_digits = std::to_string(e < 0 ? -e : e);
    if (e_digits.size() < 2) out.push_back('0');
    out += e_digits;
  } else if (scale > 0) {
    out += digits.substr(0, static_cast<size_t>(std::min(scale, n)));
    if (scale > n) out.append(static_cast<size_t>(scale - n), '0');
    if (n > scale) out += "." + digits.substr(static_cast<size_t>(scale));
  } else {
    out += "0.";
    out.append(static_cast<size_t>(-scale), '0');
    out += digits;
  }
  return out;
}

std::string NeoJsonSerialize(const json::value& v) {
  std::string out;
  AppendNeoJson(out, v);
  return out;
}

}  // namespace neosl::oracle
