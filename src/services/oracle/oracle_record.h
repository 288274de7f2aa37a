// What the enclave signs for an oracle answer (docs/oracle.md, "Checking an answer"): Neo
// BinarySerializer encodings, so that a contract can rebuild or read them with StdLib.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "services/oracle/response_code.h"

namespace neosl::oracle {

inline constexpr std::string_view kRecordTag = "neosl-oracle-v1";

struct RecordSource {
  std::string url;
  std::string filter;
};

struct RecordRule {
  std::string rule;  // "all-equal", "majority", "median", "m-of-n"
  int64_t m = 0;
  int64_t max_spread_bps = 0;
  int64_t min_sources = 0;
};

// A result post-processed by a function: which function (version, source) made the final
// result out of which fetched one.
struct RecordFunction {
  std::string function_id;
  int64_t version = 0;
  std::array<uint8_t, 32> source_hash{};
  std::array<uint8_t, 32> fetched_hash{};  // SHA-256 of the filtered (and agreed) result it was given
};

// The signed record of an API request: the Array
//   ["neosl-oracle-v1", request_id, [[url, filter], …], [rule, m, max_spread_bps, min_sources],
//    code, SHA-256(result)]
// of ByteStrings and Integers, with a seventh item [function_id, version, source_hash,
// SHA-256(fetched result)] when a function made the result. The report key signs SHA-256 of
// these bytes.
std::vector<uint8_t> Record(std::string_view request_id, const std::vector<RecordSource>& sources,
                            const RecordRule& rule, ResponseCode code, const std::array<uint8_t, 32>& result_hash,
                            const RecordFunction* function = nullptr);

// The arguments a post-processing function is invoked with: the JSON text
//   {"request_id":"<id>","result":<the result>}
// where the result is embedded byte for byte when it is JSON (a JPath filter's array), else as a
// string. The same bytes every time, so that the enclave can check what the function was given.
std::string FunctionArgs(std::string_view request_id, std::string_view result);

// A chain request's callback result: the Array [contract (ByteString, 20 bytes, little-endian as
// UInt160 stores it), requestId (Integer), code (Integer), result (ByteString)], signed by the
// report key over SHA-256 of these bytes. INVALID_ARGUMENT when `request_id` is not a decimal
// integer in NeoVM's range or `contract` is not 20 bytes.
StatusOr<std::vector<uint8_t>> ChainResult(std::span<const uint8_t> contract, std::string_view request_id,
                                           ResponseCode code, std::span<const uint8_t> result);

}  // namespace neosl::oracle
