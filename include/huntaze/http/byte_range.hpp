// The Range request header (RFC 9110 §14.2), for serving files that
// browsers seek in (videos): one range of bytes, or the whole file.
//
//   Range: bytes=0-1023      the first KiB
//   Range: bytes=1000-       from byte 1000 to the end
//   Range: bytes=-500        the last 500 bytes
//
// Several ranges in one header get the whole file (a 200): multipart
// answers are not worth their cost for media playback, and RFC 9110 lets a
// server ignore Range.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace huntaze::http {

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
  uint64_t length() const { return last - first + 1; }
};

enum class RangeAnswer {
  whole,          // no usable Range: 200 with the whole file
  partial,        // 206 with `range`
  unsatisfiable,  // 416 with Content-Range: bytes */size
};

struct RangeRequest {
  RangeAnswer answer = RangeAnswer::whole;
  ByteRange range;
};

// `header` is the Range value, or nullopt when absent; `size` the file's.
RangeRequest parse_range(std::optional<std::string_view> header, uint64_t size);

}  // namespace huntaze::http
