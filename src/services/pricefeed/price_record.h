// What the enclave signs for a price (docs/pricefeed.md, "Checking a price"): Neo
// BinarySerializer encodings (StdLib.serialize), so that a contract can rebuild them.
//
// Every observation carries two signatures by the report key, each over SHA-256 of a record:
//   report record  Array["neosl-price-report-v1", pair, price, decimals, timestamp, round,
//                        Array[venue, …]]   — the API's report: which venues were used
//   chain record   Array["neosl-price-v1", pair, price, decimals, timestamp, round]
//                  — what a contract's updatePrice(pair, price, decimals, timestamp, round,
//                  signature) can rebuild from its own arguments and check with
//                  CryptoLib.verifyWithECDsa(record, key, signature, secp256r1SHA256)
// Strings are ByteStrings of their UTF-8, numbers Integers; timestamp is Unix milliseconds.
// The two tags differ, so neither signature can pass for the other.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace neosl::pricefeed {

inline constexpr std::string_view kChainRecordTag = "neosl-price-v1";
inline constexpr std::string_view kReportRecordTag = "neosl-price-report-v1";

struct PriceRecord {
  std::string pair;  // "NEO/USD"
  int64_t price = 0;
  int64_t decimals = 0;
  int64_t timestamp_ms = 0;
  int64_t round = 0;
  std::vector<std::string> venues;  // used, in the order the report lists them (report record only)
};

std::vector<uint8_t> ChainRecord(const PriceRecord& r);
std::vector<uint8_t> ReportRecord(const PriceRecord& r);

}  // namespace neosl::pricefeed
