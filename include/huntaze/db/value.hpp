// Typed query parameters for PostgreSQL.
//
// A Param is one bind value; SQL text never contains data. Supported types and
// the PostgreSQL type they bind as:
//   nullptr / std::nullopt  NULL (untyped)        bool          boolean
//   int32_t                 integer               int64_t       bigint
//   double                  double precision      std::string   text
//   Bytes                   bytea (binary)        Uuid          uuid
//   Timestamp               timestamptz (UTC)     Json          jsonb
//   std::vector<int64_t>    bigint[]              std::vector<std::string>  text[]
//   std::vector<Uuid>       uuid[]
// Thread-safety: value types.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "huntaze/core/uuid.hpp"

namespace huntaze::db {

// Microsecond precision, as timestamptz stores it.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

struct Bytes {
  std::string data;
  bool operator==(const Bytes&) const = default;
};

struct Json {
  std::string text;  // serialized JSON
  bool operator==(const Json&) const = default;
};

class Param {
 public:
  using Storage = std::variant<std::monostate, bool, int32_t, int64_t, double, std::string, Bytes, Uuid, Timestamp,
                               Json, std::vector<int64_t>, std::vector<std::string>, std::vector<Uuid>>;

  Param(std::nullptr_t) {}
  Param(std::nullopt_t) {}
  // Constrained so that pointers and other integers never turn into bool.
  template <class B>
    requires std::same_as<B, bool>
  Param(B v) : value_(v) {}
  Param(int32_t v) : value_(v) {}
  Param(int64_t v) : value_(v) {}
  Param(double v) : value_(v) {}
  Param(std::string v) : value_(std::move(v)) {}
  Param(std::string_view v) : value_(std::string(v)) {}
  Param(const char* v) : value_(std::string(v)) {}
  Param(Bytes v) : value_(std::move(v)) {}
  Param(Uuid v) : value_(v) {}
  Param(Timestamp v) : value_(v) {}
  Param(Json v) : value_(std::move(v)) {}
  Param(std::vector<int64_t> v) : value_(std::move(v)) {}
  Param(std::vector<std::string> v) : value_(std::move(v)) {}
  Param(std::vector<Uuid> v) : value_(std::move(v)) {}
  template <class T>
  Param(const std::optional<T>& v) {
    if (v) *this = Param(*v);
  }

  const Storage& value() const noexcept { return value_; }
  bool is_null() const noexcept { return std::holds_alternative<std::monostate>(value_); }

 private:
  Storage value_;
};

using Params = std::vector<Param>;

}  // namespace huntaze::db
