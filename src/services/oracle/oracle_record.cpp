#include "services/oracle/oracle_record.h"

#include <boost/json.hpp>

#include "neo/contract_param.h"
#include "neo/io.h"

namespace neosl::oracle {
namespace {

// Neo's StackItemType values (BinarySerializer).
constexpr uint8_t kInteger = 0x21;
constexpr uint8_t kByteString = 0x28;
constexpr uint8_t kArray = 0x40;

void PutBytes(neo::BinaryWriter& w, std::span<const uint8_t> bytes) {
  w.U8(kByteString);
  w.VarBytes(bytes);
}

void PutText(neo::BinaryWriter& w, std::string_view text) {
  PutBytes(w, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

void PutInteger(neo::BinaryWriter& w, const neo::BigInteger& value) {
  w.U8(kInteger);
  w.VarBytes(value.le_bytes());
}

void PutInteger(neo::BinaryWriter& w, int64_t value) {
  PutInteger(w, neo::BigInteger::FromInt64(value));
}

void PutArray(neo::BinaryWriter& w, size_t count) {
  w.U8(kArray);
  w.VarInt(count);
}

}  // namespace

std::vector<uint8_t> Record(std::string_view request_id, const std::vector<RecordSource>& sources,
                            const RecordRule& rule, ResponseCode code, const std::array<uint8_t, 32>& result_hash,
                            const RecordFunction* function) {
  neo::BinaryWriter w;
  PutArray(w, function != nullptr ? 7 : 6);
  PutText(w, kRecordTag);
  PutText(w, request_id);
  PutArray(w, sources.size());
  for (const RecordSource& s : sources) {
    PutArray(w, 2);
    PutText(w, s.url);
    PutText(w, s.filter);
  }
  PutArray(w, 4);
  PutText(w, rule.rule);
  PutInteger(w, rule.m);
  PutInteger(w, rule.max_spread_bps);
  PutInteger(w, rule.min_sources);
  PutInteger(w, int64_t(code));
  PutBytes(w, result_hash);
  if (function != nullptr) {
    PutArray(w, 4);
    PutText(w, function->function_id);
    PutInteger(w, function->version);
    PutBytes(w, function->source_hash);
    PutBytes(w, function->fetched_hash);
  }
  return w.Take();
}

std::string FunctionArgs(std::string_view request_id, std::string_view result) {
  // JSON is embedded as it came (a filter's exact bytes), not re-serialized.
  boost::system::error_code ec;
  (void)boost::json::parse(result, ec);
  std::string args = "{\"request_id\":" + boost::json::serialize(boost::json::string(request_id)) + ",\"result\":";
  args += ec ? boost::json::serialize(boost::json::string(result)) : std::string(result);
  args += "}";
  return args;
}

StatusOr<std::vector<uint8_t>> ChainResult(std::span<const uint8_t> contract, std::string_view request_id,
                                           ResponseCode code, std::span<const uint8_t> result) {
  if (contract.size() != 20) return InvalidArgumentError("the contract must be 20 bytes");
  ASSIGN_OR_RETURN(neo::BigInteger id, neo::BigInteger::FromDecimal(request_id));
  neo::BinaryWriter w;
  PutArray(w, 4);
  PutBytes(w, contract);
  PutInteger(w, id);
  PutInteger(w, int64_t(code));
  PutBytes(w, result);
  return w.Take();
}

}  // namespace neosl::oracle
