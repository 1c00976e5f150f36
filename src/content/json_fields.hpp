// Reading the fields of one JSON object (a request body, or one item of an
// ingestion batch) with every problem recorded instead of thrown, so that a
// 400 names them all at once and a batch can reject one item and keep the rest.
//
//   Fields f(item, problems);
//   auto id = f.text("platform_fan_id", 128);           // required
//   auto tier = f.text("tier", 32, Need::optional);
//   if (f.failed()) ...                                   // problems holds the details
//
// Thread-safety: a Fields belongs to one request.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/error.hpp"

namespace huntaze::content {

enum class Need { required, optional };

class Fields {
 public:
  // `prefix` is put before field names in the problems ("" for a body).
  Fields(const boost::json::object& object, std::vector<ErrorDetail>& problems, std::string prefix = "");

  // Valid UTF-8 without control characters (but tab and newline when
  // multiline), trimmed of surrounding spaces, at most max_bytes; a
  // required one must not be empty. nullopt when absent, null or invalid.
  std::optional<std::string> text(std::string_view field, size_t max_bytes, Need need = Need::required,
                                  bool multiline = false);
  // A platform id: 1..max_bytes printable ASCII, taken as sent.
  std::optional<std::string> token(std::string_view field, size_t max_bytes, Need need = Need::required);
  std::optional<int64_t> integer(std::string_view field, int64_t min, int64_t max, Need need = Need::required);
  // RFC 3339 with an offset or Z.
  std::optional<SysTime> time(std::string_view field, Need need = Need::required);
  // One of the listed words.
  std::optional<std::string> word(std::string_view field, const std::vector<std::string_view>& allowed,
                                  Need need = Need::required);
  // An array of at most max_items texts of at most max_bytes each (trimmed,
  // empty ones dropped, duplicates removed in order).
  std::optional<std::vector<std::string>> texts(std::string_view field, size_t max_items, size_t max_bytes,
                                                Need need = Need::optional);

  // Records a problem of this object's field.
  void problem(std::string_view field, std::string message);
  // True once any problem was recorded through this reader.
  bool failed() const noexcept { return failed_; }

 private:
  const boost::json::value* present(std::string_view field, Need need);

  const boost::json::object& object_;
  std::vector<ErrorDetail>& problems_;
  std::string prefix_;
  bool failed_ = false;
};

}  // namespace huntaze::content
