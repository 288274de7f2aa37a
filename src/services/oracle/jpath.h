// Neo's JPath filter for oracle responses, byte for byte.
//
// A dApp that asks for `https://…` with filter `$.price` must get exactly the bytes Neo's
// OracleService would put in the response transaction, or the oracle nodes disagree and the
// contract sees a different result from neosl than from Neo. So this is not "a JSONPath": it is
// Neo.Json's JToken.Parse + JToken.JsonPath + JToken.ToByteArray(false), quirks included:
//   - parsing (Neo.Json/JToken.cs): System.Text.Json's Utf8JsonReader with comments skipped, no
//     trailing commas, nesting ≤ 64; duplicate property names are an error; every number becomes
//     a double (correctly rounded; beyond ±1.8e308 an error, below 5e-324 a signed zero);
//   - the path (Neo.Json/JPathToken.cs): `$`, `.name`, `.*`, `..name`, `[n]` (negative counts
//     from the end), `[*]`, `['name']` (a JSON string body), unions `[1,2]` / `['a','b']`,
//     slices `[a:b]` where an end of 0 or an omitted end means "to the end"; at most 6 descents
//     along the whole path and at most 1,024 values after any step;
//   - serialization (Neo.Json/JToken.cs, JNumber.cs, JString.cs): compact Utf8JsonWriter with the
//     default JavaScriptEncoder, i.e. every non-ASCII character, the controls, DEL and
//     " & ' + < > ` are written as \uXXXX (upper-case hex; \b \t \n \f \r \\ stay short), and
//     numbers as .NET's double.ToString() ("1E+21", "-0", …).
#pragma once

#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "core/status.h"

namespace neosl::oracle {

// Neo.Json's limits: JToken.Parse's default max_nest and JPathToken.ProcessJsonPath's
// maxDepth/maxObjects.
inline constexpr int kNeoJsonMaxNest = 64;
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

// Serializes a value exactly as Neo's JToken.ToString() does (exposed for tests and consensus).
// Numbers of any kind are written as the double Neo would hold; a non-finite double, which Neo
// cannot hold, is written as `null`. Strings that are not valid UTF-8 have each bad byte written
// as U+FFFD.
std::string NeoJsonSerialize(const boost::json::value& v);

// Parses as Neo's JToken.Parse(text, max_nest). Every number comes back as a double (kind
// double, so `-0` keeps its sign); objects keep their order. INVALID_ARGUMENT on any text Neo
// rejects; the message never quotes the text.
StatusOr<boost::json::value> ParseNeoJson(std::string_view text, int max_nest = kNeoJsonMaxNest);

// .NET's double.ToString(CultureInfo.InvariantCulture), which Utf8JsonWriter also writes: the
// shortest round-trip digits, in fixed notation unless the decimal exponent is below -4 or at
// least max(digits, 17) ("0.0001", "1E-05", "10000000000000000", "1E+17",
// "1.2345678901234568E+29", "-0"). `d` must be finite.
std::string FormatNeoNumber(double d);

}  // namespace neosl::oracle
