// Turns Params into the parallel arrays PQsendQueryParams/PQsendPrepare take.
//
// Every value is sent in text format with an explicit type OID, except Bytes,
// which goes in binary so arbitrary bytes (zeros included) need no escaping.
// NULL is sent with OID 0, letting the server infer the type from context.
// Thread-safety: value type.
#pragma once

#include <string>
#include <vector>

#include "huntaze/db/value.hpp"

namespace huntaze::db::pg {

// Type OIDs from PostgreSQL's pg_type.dat.
namespace oid {
inline constexpr unsigned int null = 0, boolean = 16, bytea = 17, int8 = 20, int4 = 23, text = 25, float8 = 701,
                              uuid = 2950, timestamptz = 1184, jsonb = 3802, int8_array = 1016, text_array = 1009,
                              uuid_array = 2951;
}

// Points into `params` for strings and bytes (no copy), so the Params must
// outlive the EncodedParams. Throws DbError (22021) for text containing a NUL
// byte, which the text protocol cannot carry.
struct EncodedParams {
  explicit EncodedParams(const Params& params);
  EncodedParams(const EncodedParams&) = delete;
  EncodedParams& operator=(const EncodedParams&) = delete;

  int count() const { return static_cast<int>(types.size()); }

  std::vector<unsigned int> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;  // 0 text, 1 binary

 private:
  std::vector<std::string> converted_;  // text produced here (numbers, timestamps, arrays)
};

}  // namespace huntaze::db::pg
