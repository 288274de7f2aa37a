// Neo's JSON, byte for byte: Neo.Json's JToken.Parse and JToken.ToString (ToByteArray), which
// the oracle's JPath filter (jpath.h) reads and writes, so that a result is exactly the bytes a
// Neo oracle node would put in its response transaction:
//   - parsing (Neo.Json/JToken.cs): System.Text.Json's Utf8JsonReader with comments skipped, no
//     trailing commas, nesting ≤ 64; duplicate property names are an error; every number becomes
//     a double (correctly rounded; beyond ±1.8e308 an error, below 5e-324 a signed zero);
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

// JToken.Parse's default max_nest.
inline constexpr int kNeoJsonMaxNest = 64;

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
