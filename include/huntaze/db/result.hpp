// Rows returned by a query, with typed access.
//
//   auto res = co_await db.query("SELECT id, handle FROM content.fans WHERE creator_id = $1", creator);
//   for (const auto& row : res) use(row.get<Uuid>(0), row.get<std::string>("handle"));
//
// A Row points into its Result: keep the Result in a variable while rows are
// used (never `(co_await db.query(...)).front()`).
//
// get<T>() supports the types listed in value.hpp plus std::optional<T> of
// each (NULL -> nullopt). Reading NULL into a non-optional, a missing column or
// an unparsable value throws std::runtime_error naming the column.
// Thread-safety: a Result is immutable; share it freely once received.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "huntaze/db/value.hpp"

struct pg_result;  // libpq's PGresult, kept out of this header

namespace huntaze::db {

class Result;

class Row {
 public:
  template <class T>
  T get(int column) const;
  template <class T>
  T get(std::string_view column) const {
    return get<T>(index_of(column));
  }
  bool is_null(int column) const;
  int index_of(std::string_view column) const;  // throws if absent

 private:
  friend class Result;
  Row(const Result* result, int row) : result_(result), row_(row) {}
  const Result* result_;
  int row_;
};

class Result {
 public:
  Result() = default;
  explicit Result(std::shared_ptr<pg_result> res);

  size_t size() const noexcept { return static_cast<size_t>(rows_); }
  bool empty() const noexcept { return rows_ == 0; }
  int columns() const noexcept;
  std::string column_name(int column) const;
  // Rows touched by INSERT/UPDATE/DELETE (from the command tag).
  int64_t affected() const;

  Row operator[](size_t i) const { return Row(this, static_cast<int>(i)); }
  Row front() const { return (*this)[0]; }

  class iterator {
   public:
    iterator(const Result* r, int i) : r_(r), i_(i) {}
    Row operator*() const { return (*r_)[static_cast<size_t>(i_)]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const Result* r_;
    int i_;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, rows_}; }

  // Raw access for Row: the text of a field, or nullptr when NULL.
  const char* raw(int row, int column, int* length) const;

 private:
  std::shared_ptr<pg_result> res_;
  int rows_ = 0;
};

// Supported get<T> types (defined in src/db/result.cpp).
template <> bool Row::get<bool>(int) const;
template <> int32_t Row::get<int32_t>(int) const;
template <> int64_t Row::get<int64_t>(int) const;
template <> double Row::get<double>(int) const;
template <> std::string Row::get<std::string>(int) const;
template <> Bytes Row::get<Bytes>(int) const;
template <> Uuid Row::get<Uuid>(int) const;
template <> Timestamp Row::get<Timestamp>(int) const;
template <> Json Row::get<Json>(int) const;
template <> std::vector<int64_t> Row::get<std::vector<int64_t>>(int) const;
template <> std::vector<std::string> Row::get<std::vector<std::string>>(int) const;
template <> std::vector<Uuid> Row::get<std::vector<Uuid>>(int) const;
template <> std::optional<bool> Row::get<std::optional<bool>>(int) const;
template <> std::optional<int32_t> Row::get<std::optional<int32_t>>(int) const;
template <> std::optional<int64_t> Row::get<std::optional<int64_t>>(int) const;
template <> std::optional<double> Row::get<std::optional<double>>(int) const;
template <> std::optional<std::string> Row::get<std::optional<std::string>>(int) const;
template <> std::optional<Bytes> Row::get<std::optional<Bytes>>(int) const;
template <> std::optional<Uuid> Row::get<std::optional<Uuid>>(int) const;
template <> std::optional<Timestamp> Row::get<std::optional<Timestamp>>(int) const;
template <> std::optional<Json> Row::get<std::optional<Json>>(int) const;

}  // namespace huntaze::db
