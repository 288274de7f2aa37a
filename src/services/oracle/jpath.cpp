#include "services/oracle/jpath.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace neosl::oracle {

namespace json = boost::json;

namespace {

// ---------------------------------------------------------------------------------------------
// The path: Neo.Json/JPathToken.cs, JPathTokenType.cs and JToken.JsonPath.

enum class TokenType {
  kRoot,
  kDot,
  kLeftBracket,
  kRightBracket,
  kAsterisk,
  kComma,
  kColon,
  kIdentifier,
  kString,
  kNumber
};

std::string_view TokenName(TokenType type) {
  static constexpr std::string_view kNames[] = {"Root",  "Dot",   "LeftBracket", "RightBracket", "Asterisk",
                                                "Comma", "Colon", "Identifier",  "String",       "Number"};
  return kNames[static_cast<int>(type)];
}

struct Token {
  TokenType type;
  std::string_view content;  // Identifier, String (with its quotes) and Number only
};

Status FilterError(std::string_view message) {
  return InvalidArgumentError("filter: " + std::string(message));
}

Status UnexpectedToken(TokenType type) {
  return FilterError("unexpected token " + std::string(TokenName(type)));
}

bool IsIdentifierStart(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// JPathToken.Parse. Neo tokenizes the whole path before evaluating any of it.
StatusOr<std::vector<Token>> Tokenize(std::string_view expr) {
  std::vector<Token> tokens;
  for (size_t i = 0; i < expr.size(); ++i) {
    const char c = expr[i];
    size_t end = i + 1;
    TokenType type;
    switch (c) {
      case '$': type = TokenType::kRoot; break;
      case '.': type = TokenType::kDot; break;
      case '[': type = TokenType::kLeftBracket; break;
      case ']': type = TokenType::kRightBracket; break;
      case '*': type = TokenType::kAsterisk; break;
      case ',': type = TokenType::kComma; break;
      case ':': type = TokenType::kColon; break;
      case '\'':  // up to the next quote; no escapes (the body is read as JSON later)
        type = TokenType::kString;
        end = expr.find('\'', i + 1);
        if (end == std::string_view::npos) return FilterError("unterminated string");
        ++end;
        break;
      default:
        if (IsIdentifierStart(c)) {
          type = TokenType::kIdentifier;
          while (end < expr.size() && (IsIdentifierStart(expr[end]) || IsDigit(expr[end]))) ++end;
        } else if (c == '-' || IsDigit(c)) {
          type = TokenType::kNumber;
          while (end < expr.size() && IsDigit(expr[end])) ++end;
        } else {
          return FilterError("invalid character at position " + std::to_string(i));
        }
    }
    const bool has_content = type == TokenType::kString || type == TokenType::kIdentifier || type == TokenType::kNumber;
    tokens.push_back(Token{type, has_content ? expr.substr(i, end - i) : std::string_view()});
    i = end - 1;
  }
  return tokens;
}

// int.Parse of a Number token ("-?[0-9]*"): a lone "-" and anything outside int32 fail.
StatusOr<int64_t> ParseIndex(std::string_view content) {
  const bool negative = content[0] == '-';
  const std::string_view digits = content.substr(negative ? 1 : 0);
  if (digits.empty()) return FilterError("invalid number");
  int64_t value = 0;
  for (char c : digits) {
    value = value * 10 + (c - '0');
    if (value > int64_t{INT32_MAX} + 1) return FilterError("number out of range");
  }
  if (!negative && value > INT32_MAX) return FilterError("number out of range");
  return negative ? -value : value;
}

// JToken.Parse($"\"{content.Trim('\'')}\"").GetString(): the quoted body is a JSON string body.
StatusOr<std::string> ParseName(std::string_view content) {
  const std::string text = "\"" + std::string(content.substr(1, content.size() - 2)) + "\"";
  StatusOr<json::value> parsed = ParseNeoJson(text);
  if (!parsed.ok()) return FilterError("bad string in path: " + std::string(parsed.status().message()));
  if (!parsed->is_string()) return FilterError("bad string in path");
  return std::string(parsed->get_string().data(), parsed->get_string().size());
}

using Values = std::vector<const json::value*>;

// JPathToken.ProcessJsonPath and its helpers. Every descent spends one of kJPathMaxDepth and may
// leave at most kJPathMaxObjects values; Neo checks the count once the step is built, stopping
// early here ends the same way and bounds the memory.
class JPathEvaluator {
 public:
  explicit JPathEvaluator(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Status Run(Values& objects) {
    ASSIGN_OR_RETURN(Token first, Next());
    if (first.type != TokenType::kRoot) return UnexpectedToken(first.type);
    while (next_ < tokens_.size()) {
      ASSIGN_OR_RETURN(Token token, Next());
      switch (token.type) {
        case TokenType::kDot: RETURN_IF_ERROR(ProcessDot(objects)); break;
        case TokenType::kLeftBracket: RETURN_IF_ERROR(ProcessBracket(objects)); break;
        default: return UnexpectedToken(token.type);
      }
    }
    return Status::Ok();
  }

 private:
  StatusOr<Token> Next() {
    if (next_ >= tokens_.size()) return FilterError("unexpected end of expression");
    return tokens_[next_++];
  }

  Status ProcessDot(Values& objects) {
    ASSIGN_OR_RETURN(Token token, Next());
    switch (token.type) {
      case TokenType::kAsterisk: return DescentAll(objects);
      case TokenType::kDot: return ProcessRecursiveDescent(objects);
      case TokenType::kIdentifier: return DescentNames(objects, {std::string(token.content)});
      default: return UnexpectedToken(token.type);
    }
  }

  Status ProcessBracket(Values& objects) {
    ASSIGN_OR_RETURN(Token token, Next());
    switch (token.type) {
      case TokenType::kAsterisk: {
        ASSIGN_OR_RETURN(Token right, Next());
        if (right.type != TokenType::kRightBracket) return UnexpectedToken(right.type);
        return DescentAll(objects);
      }
      case TokenType::kColon: return ProcessSlice(objects, 0);
      case TokenType::kNumber: {
        ASSIGN_OR_RETURN(Token next, Next());
        switch (next.type) {
          case TokenType::kColon: {
            ASSIGN_OR_RETURN(int64_t start, ParseIndex(token.content));
            return ProcessSlice(objects, start);
          }
          case TokenType::kComma: return ProcessUnion(objects, token);
          case TokenType::kRightBracket: {
            ASSIGN_OR_RETURN(int64_t index, ParseIndex(token.content));
            return DescentIndexes(objects, {index});
          }
          default: return UnexpectedToken(next.type);
        }
      }
      case TokenType::kString: {
        ASSIGN_OR_RETURN(Token next, Next());
        switch (next.type) {
          case TokenType::kComma: return ProcessUnion(objects, token);
          case TokenType::kRightBracket: {
            ASSIGN_OR_RETURN(std::string name, ParseName(token.content));
            return DescentNames(objects, {std::move(name)});
          }
          default: return UnexpectedToken(next.type);
        }
      }
      default: return UnexpectedToken(token.type);
    }
  }

  // `..name`: the matches of each level, level by level (not in document order), while
  // descending until a level is empty; each level spends depth.
  Status ProcessRecursiveDescent(Values& objects) {
    ASSIGN_OR_RETURN(Token token, Next());
    if (token.type != TokenType::kIdentifier) return UnexpectedToken(token.type);
    Values results;
    while (!objects.empty()) {
      for (const json::value* v : objects) {
        if (!v->is_object()) continue;
        for (const json::key_value_pair& p : v->get_object()) {
          if (std::string_view(p.key().data(), p.key().size()) == token.content) results.push_back(&p.value());
        }
      }
      RETURN_IF_ERROR(DescentAll(objects));
      if (results.size() > kJPathMaxObjects) return FilterError("more than 1024 objects");
    }
    objects = std::move(results);
    return Status::Ok();
  }

  Status ProcessSlice(Values& objects, int64_t start) {
    ASSIGN_OR_RETURN(Token token, Next());
    switch (token.type) {
      case TokenType::kNumber: {
        ASSIGN_OR_RETURN(Token next, Next());
        if (next.type != TokenType::kRightBracket) return UnexpectedToken(next.type);
        ASSIGN_OR_RETURN(int64_t end, ParseIndex(token.content));
        return DescentRange(objects, start, end);
      }
      case TokenType::kRightBracket: return DescentRange(objects, start, 0);
      default: return UnexpectedToken(token.type);
    }
  }

  Status ProcessUnion(Values& objects, Token first) {
    std::vector<Token> items = {first};
    while (true) {
      ASSIGN_OR_RETURN(Token token, Next());
      if (token.type != first.type) return UnexpectedToken(token.type);
      items.push_back(token);
      ASSIGN_OR_RETURN(Token separator, Next());
      if (separator.type == TokenType::kRightBracket) break;
      if (separator.type != TokenType::kComma) return UnexpectedToken(separator.type);
    }
    if (first.type == TokenType::kNumber) {
      std::vector<int64_t> indexes;
      for (const Token& item : items) {
        ASSIGN_OR_RETURN(int64_t index, ParseIndex(item.content));
        indexes.push_back(index);
      }
      return DescentIndexes(objects, indexes);
    }
    std::vector<std::string> names;
    for (const Token& item : items) {
      ASSIGN_OR_RETURN(std::string name, ParseName(item.content));
      names.push_back(std::move(name));
    }
    return DescentNames(objects, names);
  }

  Status SpendDepth() {
    if (depth_left_ <= 0) return FilterError("exceeded max depth");
    --depth_left_;
    return Status::Ok();
  }

  // Adds to a step's output; false once the step holds more than kJPathMaxObjects.
  static bool Push(Values& out, const json::value* v) {
    out.push_back(v);
    return out.size() <= kJPathMaxObjects;
  }
  static Status TooMany() { return FilterError("more than 1024 objects"); }

  // Children of every array and object (JContainer.Children: items, property values).
  Status DescentAll(Values& objects) {
    RETURN_IF_ERROR(SpendDepth());
    Values out;
    for (const json::value* v : objects) {
      if (v->is_array()) {
        for (const json::value& item : v->get_array()) {
          if (!Push(out, &item)) return TooMany();
        }
      } else if (v->is_object()) {
        for (const json::key_value_pair& p : v->get_object()) {
          if (!Push(out, &p.value())) return TooMany();
        }
      }
    }
    objects = std::move(out);
    return Status::Ok();
  }

  Status DescentNames(Values& objects, const std::vector<std::string>& names) {
    RETURN_IF_ERROR(SpendDepth());
    Values out;
    for (const json::value* v : objects) {
      if (!v->is_object()) continue;
      for (const std::string& name : names) {
        if (const json::value* found = v->get_object().if_contains(name); found && !Push(out, found)) return TooMany();
      }
    }
    objects = std::move(out);
    return Status::Ok();
  }

  Status DescentIndexes(Values& objects, const std::vector<int64_t>& indexes) {
    RETURN_IF_ERROR(SpendDepth());
    Values out;
    for (const json::value* v : objects) {
      if (!v->is_array()) continue;
      const json::array& array = v->get_array();
      const auto count = static_cast<int64_t>(array.size());
      for (int64_t index : indexes) {
        const int64_t i = index >= 0 ? index : index + count;
        if (i >= 0 && i < count && !Push(out, &array[static_cast<size_t>(i)])) return TooMany();
      }
    }
    objects = std::move(out);
    return Status::Ok();
  }

  // [start:end]: a negative start counts from the end (clamped at 0); an end ≤ 0 counts from
  // the end too, so 0 means "to the end".
  Status DescentRange(Values& objects, int64_t start, int64_t end) {
    RETURN_IF_ERROR(SpendDepth());
    Values out;
    for (const json::value* v : objects) {
      if (!v->is_array()) continue;
      const json::array& array = v->get_array();
      const auto count = static_cast<int64_t>(array.size());
      const int64_t first = std::max<int64_t>(start >= 0 ? start : start + count, 0);
      const int64_t last = std::min(end > 0 ? end : end + count, count);  // exclusive
      for (int64_t i = first; i < last; ++i) {
        if (!Push(out, &array[static_cast<size_t>(i)])) return TooMany();
      }
    }
    objects = std::move(out);
    return Status::Ok();
  }

  std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_left_ = kJPathMaxDepth;
};

}  // namespace

StatusOr<std::string> ApplyJPath(std::string_view json_text, std::string_view path) {
  if (path.empty()) return std::string(json_text);
  // Neo parses the body first (JToken.Parse), then the path (JToken.JsonPath).
  StatusOr<json::value> root = ParseNeoJson(json_text);
  if (!root.ok()) return InvalidArgumentError("response is not JSON: " + std::string(root.status().message()));
  // JToken.Parse("null") is a C# null, and Filter's `beforeObject.JsonPath(…)` then throws.
  if (root->is_null()) return FilterError("the response is JSON null");
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(path));
  Values objects = {&*root};
  RETURN_IF_ERROR(JPathEvaluator(std::move(tokens)).Run(objects));
  std::string out = "[";
  for (size_t i = 0; i < objects.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += NeoJsonSerialize(*objects[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace neosl::oracle
