#include "gateway/json_text.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace neosl::gateway {
namespace json = boost::json;

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}

size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') {
        i = SkipString(s, i);
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return i;
  }
  while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
         s[i] != '\r') {
    ++i;
  }
  return i;
}

std::string WithoutMember(std::string_view body, std::string_view key) {
  struct Member {
    size_t begin, end;  // from the key's quote to the end of the value
    bool match;
  };
  std::vector<Member> members;
  size_t i = SkipSpace(body, 0);
  if (i >= body.size() || body[i] != '{') return std::string(body);
  i = SkipSpace(body, i + 1);
  while (i < body.size() && body[i] == '"') {
    const size_t begin = i;
    i = SkipString(body, i);
    boost::system::error_code ec;
    json::value name = json::parse(body.substr(begin, i - begin), ec);
    i = SkipSpace(body, i);
    if (ec || i >= body.size() || body[i] != ':') return std::string(body);  // not an object's text
    i = SkipValue(body, SkipSpace(body, i + 1));
    members.push_back({begin, i, name.is_string() && name.as_string() == key});
    i = SkipSpace(body, i);
    if (i < body.size() && body[i] == ',') i = SkipSpace(body, i + 1);
  }
  // Cut each match with the comma that joins it to what is kept: the one after it while a kept
  // member follows, else the one after the last kept member before it. Keep every other byte.
  std::vector<std::pair<size_t, size_t>> cuts;
  std::optional<size_t> last_kept;
  bool kept_after = false;
  for (size_t m = members.size(); m-- > 0;) {
    if (!members[m].match) {
      kept_after = true;
      continue;
    }
    if (kept_after) {
      cuts.emplace_back(members[m].begin, members[m + 1].begin);
      continue;
    }
    last_kept.reset();
    for (size_t p = m; p-- > 0;) {
      if (!members[p].match) {
        last_kept = p;
        break;
      }
    }
    cuts.emplace_back(last_kept ? members[*last_kept].end : members.front().begin, members[m].end);
  }
  std::sort(cuts.begin(), cuts.end());
  std::string out;
  size_t at = 0;
  for (const auto& [from, to] : cuts) {
    if (from > at) out.append(body.substr(at, from - at));
    at = std::max(at, to);
  }
  out.append(body.substr(at));
  return out;
}

}  // namespace neosl::gateway
