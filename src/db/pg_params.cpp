#include "pg_params.hpp"

#include <limits>
#include <stdexcept>

#include "huntaze/db/database.hpp"
#include "pg_text.hpp"

namespace huntaze::db::pg {

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

void require_no_nul(const std::string& text, size_t index) {
  // libpq takes the length of a text parameter from strlen(), so an embedded
  // NUL would silently truncate the value.
  if (text.find('\0') != std::string::npos)
    throw DbError("parameter $" + std::to_string(index + 1) + " contains a NUL byte (use Bytes for binary data)",
                  "22021");
}

}  // namespace

EncodedParams::EncodedParams(const Params& params) {
  const size_t n = params.size();
  types.resize(n);
  values.resize(n);
  lengths.assign(n, 0);
  formats.assign(n, 0);
  // Reserved up front: values[] holds pointers into these strings.
  converted_.reserve(n);

  for (size_t i = 0; i < n; ++i) {
    auto text = [&](unsigned int type, std::string s) {
      types[i] = type;
      converted_.push_back(std::move(s));
      values[i] = converted_.back().c_str();
    };
    auto borrowed = [&](unsigned int type, const std::string& s) {
      require_no_nul(s, i);
      types[i] = type;
      values[i] = s.c_str();
    };
    std::visit(Overloaded{
                   [&](std::monostate) {
                     types[i] = oid::null;
                     values[i] = nullptr;
                   },
                   [&](bool v) { text(oid::boolean, v ? "t" : "f"); },
                   [&](int32_t v) { text(oid::int4, std::to_string(v)); },
                   [&](int64_t v) { text(oid::int8, std::to_string(v)); },
                   [&](double v) { text(oid::float8, format_double(v)); },
                   [&](const std::string& v) { borrowed(oid::text, v); },
                   [&](const Bytes& v) {
                     if (v.data.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
                       throw DbError("parameter $" + std::to_string(i + 1) + " is too large", "54000");
                     types[i] = oid::bytea;
                     values[i] = v.data.data();
                     lengths[i] = static_cast<int>(v.data.size());
                     formats[i] = 1;
                   },
                   [&](const Uuid& v) { text(oid::uuid, v.str()); },
                   [&](const Timestamp& v) { text(oid::timestamptz, format_timestamp(v)); },
                   [&](const Json& v) { borrowed(oid::jsonb, v.text); },
                   [&](const std::vector<int64_t>& v) { text(oid::int8_array, format_array(v)); },
                   [&](const std::vector<std::string>& v) {
                     try {
                       text(oid::text_array, format_array(v));
                     } catch (const std::invalid_argument& e) {
                       throw DbError("parameter $" + std::to_string(i + 1) + ": " + e.what(), "22021");
                     }
                   },
                   [&](const std::vector<Uuid>& v) { text(oid::uuid_array, format_array(v)); },
               },
               params[i].value());
  }
}

}  // namespace huntaze::db::pg
