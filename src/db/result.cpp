#include "huntaze/db/result.hpp"

#include <libpq-fe.h>

#include <stdexcept>

#include "pg_text.hpp"

namespace huntaze::db {

Result::Result(std::shared_ptr<pg_result> res) : res_(std::move(res)), rows_(res_ ? PQntuples(res_.get()) : 0) {}

int Result::columns() const noexcept {
  return res_ ? PQnfields(res_.get()) : 0;
}

std::string Result::column_name(int column) const {
  if (column < 0 || column >= columns()) {
    std::string unknown = "#";  // built in steps: GCC 12 warns falsely on "#" + to_string at -O3
    unknown += std::to_string(column);
    return unknown;
  }
  return PQfname(res_.get(), column);
}

int64_t Result::affected() const {
  if (!res_) return 0;
  // PQcmdTuples takes a non-const PGresult* but does not modify it.
  const char* tuples = PQcmdTuples(res_.get());
  return *tuples ? pg::parse_int64(tuples) : 0;
}

const char* Result::raw(int row, int column, int* length) const {
  if (row < 0 || row >= rows_)
    throw std::runtime_error("row " + std::to_string(row) + " out of range (" + std::to_string(rows_) + " rows)");
  if (column < 0 || column >= columns())
    throw std::runtime_error("column index " + std::to_string(column) + " out of range (" + std::to_string(columns()) +
                             " columns)");
  if (PQgetisnull(res_.get(), row, column)) return nullptr;
  if (length) *length = PQgetlength(res_.get(), row, column);
  return PQgetvalue(res_.get(), row, column);
}

bool Row::is_null(int column) const {
  return result_->raw(row_, column, nullptr) == nullptr;
}

int Row::index_of(std::string_view column) const {
  for (int i = 0, n = result_->columns(); i < n; ++i)
    if (result_->column_name(i) == column) return i;
  throw std::runtime_error("no column \"" + std::string(column) + "\" in the result");
}

namespace {

template <class T>
constexpr const char* type_name() {
  if constexpr (std::is_same_v<T, bool>)
    return "bool";
  else if constexpr (std::is_same_v<T, int32_t>)
    return "int32";
  else if constexpr (std::is_same_v<T, int64_t>)
    return "int64";
  else if constexpr (std::is_same_v<T, double>)
    return "double";
  else if constexpr (std::is_same_v<T, std::string>)
    return "string";
  else if constexpr (std::is_same_v<T, Bytes>)
    return "Bytes";
  else if constexpr (std::is_same_v<T, Uuid>)
    return "Uuid";
  else if constexpr (std::is_same_v<T, Timestamp>)
    return "Timestamp";
  else if constexpr (std::is_same_v<T, Json>)
    return "Json";
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
    return "vector<int64>";
  else if constexpr (std::is_same_v<T, std::vector<std::string>>)
    return "vector<string>";
  else
    return "vector<Uuid>";
}

template <class E>
std::vector<E> convert_array(std::string_view text, E (*element)(std::string_view)) {
  std::vector<E> out;
  for (auto& item : pg::parse_array(text)) {
    if (!item) throw std::invalid_argument("array contains NULL");
    out.push_back(element(*item));
  }
  return out;
}

std::string copy_text(std::string_view text) {
  return std::string(text);
}

template <class T>
T convert(std::string_view text) {
  if constexpr (std::is_same_v<T, bool>)
    return pg::parse_bool(text);
  else if constexpr (std::is_same_v<T, int32_t>)
    return pg::parse_int32(text);
  else if constexpr (std::is_same_v<T, int64_t>)
    return pg::parse_int64(text);
  else if constexpr (std::is_same_v<T, double>)
    return pg::parse_double(text);
  else if constexpr (std::is_same_v<T, std::string>)
    return std::string(text);
  else if constexpr (std::is_same_v<T, Bytes>)
    return Bytes{pg::parse_bytea(text)};
  else if constexpr (std::is_same_v<T, Uuid>)
    return pg::parse_uuid(text);
  else if constexpr (std::is_same_v<T, Timestamp>)
    return pg::parse_timestamp(text);
  else if constexpr (std::is_same_v<T, Json>)
    return Json{std::string(text)};
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
    return convert_array<int64_t>(text, &pg::parse_int64);
  else if constexpr (std::is_same_v<T, std::vector<std::string>>)
    return convert_array<std::string>(text, &copy_text);
  else
    return convert_array<Uuid>(text, &pg::parse_uuid);
}

// The field's text, or nullopt for NULL; errors name the column.
template <class T>
std::optional<T> read(const Result& result, int row, int column) {
  int length = 0;
  const char* text = result.raw(row, column, &length);
  if (!text) return std::nullopt;
  try {
    return convert<T>(std::string_view(text, static_cast<size_t>(length)));
  } catch (const std::exception& e) {
    throw std::runtime_error("column \"" + result.column_name(column) + "\": cannot read as " + type_name<T>() + ": " +
                             e.what());
  }
}

template <class T>
T read_required(const Result& result, int row, int column) {
  auto value = read<T>(result, row, column);
  if (!value)
    throw std::runtime_error("column \"" + result.column_name(column) + "\" is NULL; read it as std::optional<" +
                             type_name<T>() + ">");
  return std::move(*value);
}

}  // namespace

#define HUNTAZE_DB_ROW_GET(T)                                     \
  template <>                                                     \
  T Row::get<T>(int column) const {                               \
    return read_required<T>(*result_, row_, column);              \
  }                                                               \
  template <>                                                     \
  std::optional<T> Row::get<std::optional<T>>(int column) const { \
    return read<T>(*result_, row_, column);                       \
  }

HUNTAZE_DB_ROW_GET(bool)
HUNTAZE_DB_ROW_GET(int32_t)
HUNTAZE_DB_ROW_GET(int64_t)
HUNTAZE_DB_ROW_GET(double)
HUNTAZE_DB_ROW_GET(std::string)
HUNTAZE_DB_ROW_GET(Bytes)
HUNTAZE_DB_ROW_GET(Uuid)
HUNTAZE_DB_ROW_GET(Timestamp)
HUNTAZE_DB_ROW_GET(Json)

#undef HUNTAZE_DB_ROW_GET

// Arrays have no optional form in result.hpp.
template <>
std::vector<int64_t> Row::get<std::vector<int64_t>>(int column) const {
  return read_required<std::vector<int64_t>>(*result_, row_, column);
}
template <>
std::vector<std::string> Row::get<std::vector<std::string>>(int column) const {
  return read_required<std::vector<std::string>>(*result_, row_, column);
}
template <>
std::vector<Uuid> Row::get<std::vector<Uuid>>(int column) const {
  return read_required<std::vector<Uuid>>(*result_, row_, column);
}

}  // namespace huntaze::db
