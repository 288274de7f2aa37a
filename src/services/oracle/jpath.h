// Neo's JPath filter for oracle responses, byte for byte.
//
// A dApp that asks for `https://…` with filter `$.price` must get exactly the bytes Neo's
// OracleService would put in the response transaction, or the oracle nodes disagree and the
// contract sees a different result from neosl than from Neo. So this is not "a JSONPath": it is
// Neo.Json's JToken.Parse + JToken.JsonPath + JToken.ToByteArray(false), quirks included:
//   - parsing and serialization: Neo's JSON (neo_json.h);
//   - the path (Neo.Json/JPathToken.cs): `$`, `.name`, `.*`, `..name`, `[n]` (negative counts
//     from the end), `[*]`, `['name']` (a JSON string body), unions `[1,2]` / `['a','b']`,
//     slices `[a:b]` where an end of 0 or an omitted end means "to the end"; at most 6 descents
//     along the whole path and at most 1,024 values after any step;
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "services/oracle/neo_json.h"

namespace neosl::oracle {

// JPathToken.ProcessJsonPath's maxDepth and maxObjects.
inline constexpr int kJPathMaxDepth = 6;
inline constexpr int kJPathMaxObjects = 1024;

// Neo's OracleService.Filter: `path` empty → `json_text` unchanged (not even parsed).
// Otherwise parses `json_text` as Neo's JToken.Parse does, applies the JPath, and returns the
// resulting array serialized exactly as Neo serializes it (compact; Neo's number and string
// formatting and escaping).
// INVALID_ARGUMENT "filter: …" for a bad path or over Neo's depth/object limits (and for a body
// that is JSON `null`, on which Neo's Filter fails too);
// INVALID_ARGUMENT "response is not JSON: …" when the input does not parse (no input text in the
// message).
StatusOr<std::string> ApplyJPath(std::string_view json_text, std::string_view path);

}  // namespace neosl::oracle
