// Values on the wire of the PostgreSQL backend: store::Value parameters in PostgreSQL's binary
// format, and binary result columns back into the Value alternative SQLite would give for them
// (integers of every width and booleans as int64, NUMERIC as int64 when whole, else double).
// Internal to src/store.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace neosl::store::postgres {

// `params` as the parallel arrays PQsendQueryParams takes, all in binary format: int64 as
// int8, double as float8, string as text, Blob as bytea, NULL untyped (so the server infers
// its type from where it is used). Points into `params`, which must outlive this.
class EncodedParams {
 public:
  explicit EncodedParams(const Params& params);

  int count() const { return static_cast<int>(types_.size()); }
  const unsigned int* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<unsigned int> types_;  // pg_type OIDs
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::array<char, 8>> numbers_;  // big-endian int8 and float8
};

// One non-NULL column value in binary format, decoded into `*out`. INTERNAL for a type outside
// the portable dialect (timestamps, arrays, …) or a malformed value. (An out parameter rather
// than StatusOr<Value>: GCC 12 sees a bogus free of a non-heap object in the latter.)
Status DecodeColumn(unsigned int type_oid, const char* data, size_t len, int column, Value* out);

}  // namespace neosl::store::postgres
