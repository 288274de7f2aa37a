#include "services/pricefeed/price_record.h"

#include <span>

#include "neo/contract_param.h"
#include "neo/io.h"

namespace neosl::pricefeed {
namespace {

// Neo's StackItemType values (BinarySerializer).
constexpr uint8_t kInteger = 0x21;
constexpr uint8_t kByteString = 0x28;
constexpr uint8_t kArray = 0x40;

void PutText(neo::BinaryWriter& w, std::string_view text) {
  w.U8(kByteString);
  w.VarBytes(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

void PutInteger(neo::BinaryWriter& w, int64_t value) {
  w.U8(kInteger);
  w.VarBytes(neo::BigInteger::FromInt64(value).le_bytes());
}

void PutCommon(neo::BinaryWriter& w, std::string_view tag, const PriceRecord& r) {
  PutText(w, tag);
  PutText(w, r.pair);
  PutInteger(w, r.price);
  PutInteger(w, r.decimals);
  PutInteger(w, r.timestamp_ms);
  PutInteger(w, r.round);
}

}  // namespace

std::vector<uint8_t> ChainRecord(const PriceRecord& r) {
  neo::BinaryWriter w;
  w.U8(kArray);
  w.VarInt(6);
  PutCommon(w, kChainRecordTag, r);
  return w.Take();
}

std::vector<uint8_t> ReportRecord(const PriceRecord& r) {
  neo::BinaryWriter w;
  w.U8(kArray);
  w.VarInt(7);
  PutCommon(w, kReportRecordTag, r);
  w.U8(kArray);
  w.VarInt(r.venues.size());
  for (const std::string& v : r.venues) PutText(w, v);
  return w.Take();
}

}  // namespace neosl::pricefeed
