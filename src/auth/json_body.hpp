// Reading the small JSON request bodies of the auth routes: an object whose
// fields are checked for type and length, with every problem named in the
// 400's details at once.
//
// Thread-safety: a JsonBody belongs to one request.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/core/error.hpp"

namespace huntaze::auth {

class JsonBody {
 public:
  // Throws 400 invalid_json unless `text` is one JSON object; an empty body is {}.
  explicit JsonBody(std::string_view text);

  // A string of at most max_bytes valid UTF-8, trimmed of surrounding spaces
  // unless raw; an absent required field is recorded as a problem.
  std::string string(std::string_view field, size_t max_bytes, bool required = true, bool raw = false);
  std::optional<std::string> optional_string(std::string_view field, size_t max_bytes);
  std::vector<std::string> strings(std::string_view field, size_t max_items, size_t max_bytes);
  bool has(std::string_view field) const { return object_.contains(field); }

  void problem(std::string field, std::string message) { problems_.push_back({std::move(field), std::move(message)}); }
  // Throws 400 invalid_request with every problem recorded so far.
  void check() const;

 private:
  boost::json::object object_;
  std::vector<ErrorDetail> problems_;
};

// Trimmed and lower-cased (ASCII); nullopt unless mail::plausible_address
// accepts it (one ASCII local@domain of at most 254 bytes).
std::optional<std::string> normalize_email(std::string_view text);

}  // namespace huntaze::auth
