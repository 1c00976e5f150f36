// A string that must never reach a log line or a printed config.
//
// Secret has no implicit conversion to string: reading the value takes an
// explicit reveal(), which is easy to grep for in review.
#pragma once

#include <ostream>
#include <string>

namespace huntaze {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  // What a log or a printed config shows instead of the value.
  std::string redacted() const { return value_.empty() ? "" : "<redacted>"; }

  friend std::ostream& operator<<(std::ostream& os, const Secret& s) { return os << s.redacted(); }
  bool operator==(const Secret&) const = default;

 private:
  std::string value_;
};

}  // namespace huntaze
