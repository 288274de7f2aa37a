#include "store/postgres_sql.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <initializer_list>
#include <string>

namespace neosl::store::postgres {
namespace {

// PostgreSQL's wire protocol counts parameters in 16 bits.
constexpr int kMaxParameters = 65535;

enum class Kind {
  kSpace,
  kComment,
  kString,       // '…'
  kQuoted,       // "…" or `…` (SQLite also takes backquotes for identifiers)
  kWord,         // keyword or bare identifier
  kPlaceholder,  // ? or ?NNN
  kSemicolon,
  kOther,  // numbers, operators, punctuation
};

struct Token {
  Kind kind;
  std::string_view text;
};

bool IsWordStart(char c) {
  // Bytes >= 0x80 are UTF-8 identifier characters to both databases.
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

bool IsWordChar(char c) {
  return IsWordStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The end of a quoted run that starts at `i` with `quote`, where a doubled quote stands for
// itself. An unterminated run ends with the text: the server reports the syntax error.
size_t QuotedEnd(std::string_view sql, size_t i, char quote) {
  size_t j = i + 1;
  while (j < sql.size()) {
    if (sql[j] != quote) {
      ++j;
    } else if (j + 1 < sql.size() && sql[j + 1] == quote) {
      j += 2;
    } else {
      return j + 1;
    }
  }
  return sql.size();
}

std::vector<Token> Tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    size_t end = i + 1;
    Kind kind = Kind::kOther;
    if (IsSpace(c)) {
      while (end < sql.size() && IsSpace(sql[end])) ++end;
      kind = Kind::kSpace;
    } else if (sql.substr(i, 2) == "--") {
      end = sql.find('\n', i);
      end = end == std::string_view::npos ? sql.size() : end;
      kind = Kind::kComment;
    } else if (sql.substr(i, 2) == "/*") {
      end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() : end + 2;
      kind = Kind::kComment;
    } else if (c == '\'') {
      end = QuotedEnd(sql, i, c);
      kind = Kind::kString;
    } else if (c == '"' || c == '`') {
      end = QuotedEnd(sql, i, c);
      kind = Kind::kQuoted;
    } else if (c == '?') {
      while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end]))) ++end;
      kind = Kind::kPlaceholder;
    } else if (IsWordStart(c)) {
      while (end < sql.size() && IsWordChar(sql[end])) ++end;
      kind = Kind::kWord;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      // A number with its exponent or hex digits, so that "1e5" never yields a word "e5".
      while (end < sql.size() && (IsWordChar(sql[end]) || sql[end] == '.')) ++end;
    } else if (c == ';') {
      kind = Kind::kSemicolon;
    }
    tokens.push_back({kind, sql.substr(i, end - i)});
    i = end;
  }
  return tokens;
}

bool IsTrivia(const Token& t) {
  return t.kind == Kind::kSpace || t.kind == Kind::kComment;
}

bool WordIs(const Token& t, std::string_view upper) {
  if (t.kind != Kind::kWord || t.text.size() != upper.size()) return false;
  for (size_t i = 0; i < upper.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(t.text[i])) != upper[i]) return false;
  }
  return true;
}

// The index of the first token after `i` that is not blank or a comment, or tokens.size().
size_t NextSignificant(const std::vector<Token>& tokens, size_t i) {
  ++i;
  while (i < tokens.size() && IsTrivia(tokens[i])) ++i;
  return i;
}

// Whether the significant tokens after `i` are the words `words`; if so, `*last` is the index
// of the last of them.
bool FollowedBy(const std::vector<Token>& tokens, size_t i, std::initializer_list<std::string_view> words,
                size_t* last) {
  for (std::string_view word : words) {
    i = NextSignificant(tokens, i);
    if (i >= tokens.size() || !WordIs(tokens[i], word)) return false;
  }
  *last = i;
  return true;
}

}  // namespace

std::vector<std::string_view> SplitStatements(std::string_view script) {
  std::vector<std::string_view> statements;
  std::vector<Token> tokens = Tokenize(script);
  // [first, last] are the significant tokens of the statement being collected.
  const Token* first = nullptr;
  const Token* last = nullptr;
  auto flush = [&] {
    if (first != nullptr) {
      const char* begin = first->text.data();
      const char* end = last->text.data() + last->text.size();
      statements.emplace_back(begin, static_cast<size_t>(end - begin));
    }
    first = last = nullptr;
  };
  for (const Token& t : tokens) {
    if (t.kind == Kind::kSemicolon) {
      flush();
    } else if (t.kind != Kind::kSpace) {
      // A comment alone is no statement, but one inside a statement stays with it.
      if (first == nullptr && t.kind == Kind::kComment) continue;
      if (first == nullptr) first = &t;
      last = &t;
    }
  }
  flush();
  return statements;
}

StatusOr<TranslatedStatement> TranslateStatement(std::string_view statement) {
  std::vector<Token> tokens = Tokenize(statement);
  TranslatedStatement out;
  out.sql.reserve(statement.size() + 16);
  int highest = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    size_t last = 0;
    if (t.kind == Kind::kPlaceholder) {
      int n = highest + 1;
      if (t.text.size() > 1) {
        std::string_view digits = t.text.substr(1);
        n = digits.size() > 5 ? kMaxParameters + 1 : std::stoi(std::string(digits));
      }
      if (n < 1 || n > kMaxParameters) {
        return InternalError("SQL placeholder " + std::string(t.text) + " is out of range 1.." +
                             std::to_string(kMaxParameters));
      }
      highest = std::max(highest, n);
      out.sql += '$';
      out.sql += std::to_string(n);
      // "?AND" is fine to SQLite; PostgreSQL rejects "$1AND" as trailing junk.
      if (i + 1 < tokens.size() && tokens[i + 1].kind == Kind::kWord) out.sql += ' ';
    } else if (WordIs(t, "INTEGER") || WordIs(t, "INT")) {
      if (FollowedBy(tokens, i, {"PRIMARY", "KEY", "AUTOINCREMENT"}, &last)) {
        out.sql += "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
        i = last;
      } else {
        out.sql += "BIGINT";
      }
    } else if (WordIs(t, "REAL")) {
      out.sql += "DOUBLE PRECISION";
    } else if (WordIs(t, "BLOB")) {
      out.sql += "BYTEA";
    } else if (WordIs(t, "WITHOUT") && FollowedBy(tokens, i, {"ROWID"}, &last)) {
      i = last;  // PostgreSQL tables have no rowid to go without
    } else if (WordIs(t, "X") && i + 1 < tokens.size() && tokens[i + 1].kind == Kind::kString) {
      // X'0A1B' → '\x0A1B'::BYTEA, PostgreSQL's hex input for bytea.
      std::string_view literal = tokens[i + 1].text;
      out.sql += "'\\x";
      out.sql += literal.substr(1);  // keeps the closing quote
      out.sql += "::BYTEA";
      ++i;
    } else {
      out.sql += t.text;
    }
  }
  out.parameter_count = highest;
  return out;
}

}  // namespace neosl::store::postgres
