// The PostgreSQL text conversions and parameter encoding, without a server.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "db/pg_params.hpp"
#include "db/pg_text.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/db/migrations.hpp"

using namespace huntaze;
using namespace huntaze::db;
using namespace std::chrono;

namespace {

Timestamp at(int y, unsigned m, unsigned d, hours h = 0h, minutes min = 0min, seconds s = 0s, microseconds us = 0us) {
  return Timestamp(sys_days(year(y) / month(m) / day(d))) + h + min + s + us;
}

}  // namespace

TEST_CASE("db: timestamps format as ISO 8601 UTC with microseconds", "[db]") {
  CHECK(pg::format_timestamp(Timestamp{}) == "1970-01-01T00:00:00.000000Z");
  CHECK(pg::format_timestamp(at(2024, 2, 29, 23h, 59min, 59s, 123456us)) == "2024-02-29T23:59:59.123456Z");
  CHECK(pg::format_timestamp(Timestamp{-1us}) == "1969-12-31T23:59:59.999999Z");
  CHECK(pg::format_timestamp(at(-43, 3, 15, 12h)) == "0044-03-15T12:00:00.000000Z BC");
  CHECK(pg::format_timestamp(at(0, 12, 31)) == "0001-12-31T00:00:00.000000Z BC");
  CHECK(pg::format_timestamp(Timestamp::max()) == "infinity");
  CHECK(pg::format_timestamp(Timestamp::min()) == "-infinity");
}

TEST_CASE("db: timestamps parse in PostgreSQL's ISO output and common variants", "[db]") {
  CHECK(pg::parse_timestamp("2024-02-29 23:59:59.123456+00") == at(2024, 2, 29, 23h, 59min, 59s, 123456us));
  CHECK(pg::parse_timestamp("2024-02-29 23:59:59+00") == at(2024, 2, 29, 23h, 59min, 59s));
  CHECK(pg::parse_timestamp("2024-02-29 23:59:59.5+00") == at(2024, 2, 29, 23h, 59min, 59s, 500000us));
  CHECK(pg::parse_timestamp("2024-06-01 12:00:00+05:30") == at(2024, 6, 1, 6h, 30min));
  CHECK(pg::parse_timestamp("2024-06-01 12:00:00-02") == at(2024, 6, 1, 14h));
  CHECK(pg::parse_timestamp("2024-06-01T12:00:00Z") == at(2024, 6, 1, 12h));
  CHECK(pg::parse_timestamp("2024-06-01 12:00:00") == at(2024, 6, 1, 12h));
  CHECK(pg::parse_timestamp("2024-06-01") == at(2024, 6, 1));
  CHECK(pg::parse_timestamp("0044-03-15 12:00:00+00 BC") == at(-43, 3, 15, 12h));
  CHECK(pg::parse_timestamp("12345-01-01 00:00:00+00") == at(12345, 1, 1));
  CHECK(pg::parse_timestamp("infinity") == Timestamp::max());
  CHECK(pg::parse_timestamp("-infinity") == Timestamp::min());
  for (const char* bad : {"", "2024", "2024-13-01", "2023-02-29", "2024-01-01 25:00:00", "2024-01-01 10:00",
                          "2024-01-01 10:00:00.", "2024-01-01 10:00:00+", "2024-01-01 10:00:00 junk", "now"})
    CHECK_THROWS_AS(pg::parse_timestamp(bad), std::invalid_argument);
  // Formatting and parsing agree across the range.
  for (auto t : {Timestamp{}, at(1, 1, 1), at(-4712, 1, 1), at(9999, 12, 31, 23h, 59min, 59s, 999999us),
                 at(1600, 2, 29, 1h, 2min, 3s, 4us), Timestamp{microseconds{-86'400'000'000LL * 365 * 3000 - 17}}})
    CHECK(pg::parse_timestamp(pg::format_timestamp(t)) == t);
}

TEST_CASE("db: array literals quote every text element and parse PostgreSQL's quoting", "[db]") {
  CHECK(pg::format_array(std::vector<int64_t>{}) == "{}");
  CHECK(pg::format_array(std::vector<int64_t>{1, -2, std::numeric_limits<int64_t>::min()}) ==
        "{1,-2,-9223372036854775808}");
  CHECK(pg::format_array(std::vector<std::string>{"a", "b,c", "d\"e", "f\\g", "NULL", ""}) ==
        R"({"a","b,c","d\"e","f\\g","NULL",""})");
  CHECK_THROWS_AS(pg::format_array(std::vector<std::string>{std::string("a\0b", 3)}), std::invalid_argument);

  using Elements = std::vector<std::optional<std::string>>;
  CHECK(pg::parse_array("{}") == Elements{});
  CHECK(pg::parse_array("{1,2,3}") == Elements{"1", "2", "3"});
  CHECK(pg::parse_array(R"({a,"b,c","d\"e","f\\g",NULL,"NULL",null,""})") ==
        Elements{"a", "b,c", "d\"e", "f\\g", std::nullopt, "NULL", std::nullopt, ""});
  CHECK(pg::parse_array("{ spaced , x }") == Elements{"spaced", "x"});
  CHECK(pg::parse_array(R"({" keep "})") == Elements{" keep "});
  CHECK(pg::parse_array(R"({a\,b})") == Elements{"a,b"});
  CHECK(pg::parse_array("[0:1]={7,8}") == Elements{"7", "8"});
  for (const char* bad : {"", "1,2", "{1,2", "{1,,2}", "{\"open}", "{1}x", "{{1,2},{3,4}}", "{a\"b}"})
    CHECK_THROWS_AS(pg::parse_array(bad), std::invalid_argument);
}

TEST_CASE("db: scalars parse strictly", "[db]") {
  CHECK(pg::parse_bool("t"));
  CHECK_FALSE(pg::parse_bool("f"));
  CHECK_THROWS_AS(pg::parse_bool("yes"), std::invalid_argument);
  CHECK(pg::parse_int32("-2147483648") == std::numeric_limits<int32_t>::min());
  CHECK_THROWS_AS(pg::parse_int32("2147483648"), std::invalid_argument);
  CHECK_THROWS_AS(pg::parse_int64("12a"), std::invalid_argument);
  CHECK_THROWS_AS(pg::parse_int64(""), std::invalid_argument);
  CHECK(pg::parse_double("0.1") == 0.1);
  CHECK(pg::parse_double("-Infinity") == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(pg::parse_double("NaN")));
  CHECK(pg::parse_double(pg::format_double(1.0 / 3.0)) == 1.0 / 3.0);
  CHECK(pg::format_double(std::numeric_limits<double>::infinity()) == "Infinity");
  CHECK(pg::format_double(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(pg::parse_bytea("\\x00ff41") == std::string("\0\xff"
                                                    "A",
                                                    3));
  CHECK(pg::parse_bytea("\\x") == "");
  CHECK(pg::parse_bytea("a\\\\b\\000") == std::string("a\\b\0", 4));  // escape format
  CHECK_THROWS_AS(pg::parse_bytea("\\x0"), std::invalid_argument);
  CHECK_THROWS_AS(pg::parse_bytea("\\xzz"), std::invalid_argument);
  CHECK_THROWS_AS(pg::parse_uuid("not-a-uuid"), std::invalid_argument);
}

TEST_CASE("db: parameters encode with explicit type OIDs, bytes in binary", "[db]") {
  const Uuid id = Uuid::v7();
  Params params = {nullptr,
                   true,
                   int32_t{7},
                   int64_t{-8},
                   2.5,
                   std::string("text"),
                   Bytes{std::string("\0x", 2)},
                   id,
                   Timestamp{},
                   Json{"{}"},
                   std::vector<int64_t>{1},
                   std::vector<std::string>{"a b"},
                   std::vector<Uuid>{id}};
  pg::EncodedParams e(params);
  REQUIRE(e.count() == 13);
  CHECK(e.types == std::vector<unsigned int>{0, 16, 23, 20, 701, 25, 17, 2950, 1184, 3802, 1016, 1009, 2951});
  CHECK(e.values[0] == nullptr);
  CHECK(std::string(e.values[1]) == "t");
  CHECK(std::string(e.values[2]) == "7");
  CHECK(std::string(e.values[3]) == "-8");
  CHECK(std::string(e.values[4]) == "2.5");
  CHECK(std::string(e.values[5]) == "text");
  CHECK(e.formats[6] == 1);
  CHECK(e.lengths[6] == 2);
  CHECK(std::string(e.values[6], 2) == std::string("\0x", 2));
  CHECK(std::string(e.values[7]) == id.str());
  CHECK(std::string(e.values[8]) == "1970-01-01T00:00:00.000000Z");
  CHECK(std::string(e.values[10]) == "{1}");
  CHECK(std::string(e.values[11]) == R"({"a b"})");
  CHECK(std::string(e.values[12]) == "{" + id.str() + "}");
  for (size_t i = 0; i < 13; ++i)
    if (i != 6) CHECK(e.formats[i] == 0);

  Params with_nul = {std::string("a\0b", 3)};
  try {
    pg::EncodedParams bad(with_nul);
    FAIL("expected DbError");
  } catch (const DbError& err) {
    CHECK(err.sqlstate() == "22021");
    CHECK_THAT(err.what(), Catch::Contains("$1"));
  }
  Params optional = {std::optional<int64_t>{}, std::optional<std::string>{"x"}};
  pg::EncodedParams o(optional);
  CHECK(o.values[0] == nullptr);
  CHECK(o.types[1] == 25);
}

TEST_CASE("db: migrations load from NNNN_*.sql files in version order", "[db]") {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("huntaze-migrations-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& sql) { std::ofstream(dir / name) << sql; };
  write("0010_later.sql", "SELECT 10;");
  write("0002_early.sql", "SELECT 2;");
  write("notes.txt", "ignored");
  auto loaded = load_migrations(dir.string());
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[0].version == 2);
  CHECK(loaded[0].name == "0002_early.sql");
  CHECK(loaded[0].sql == "SELECT 2;");
  CHECK(loaded[1].version == 10);

  write("0002_duplicate.sql", "SELECT 2;");
  CHECK_THROWS_WITH(load_migrations(dir.string()), Catch::Contains("0002"));
  fs::remove(dir / "0002_duplicate.sql");
  write("3_short.sql", "SELECT 3;");
  CHECK_THROWS_WITH(load_migrations(dir.string()), Catch::Contains("3_short.sql"));
  fs::remove(dir / "3_short.sql");
  write("0004.sql", "SELECT 4;");
  CHECK_THROWS_AS(load_migrations(dir.string()), MigrationError);
  fs::remove_all(dir);
  CHECK_THROWS_AS(load_migrations(dir.string()), MigrationError);
}

TEST_CASE("db: the embedded migrations are sorted and well named", "[db]") {
  const auto& all = embedded_migrations();
  REQUIRE_FALSE(all.empty());
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].version > 0);
    CHECK(all[i].name.ends_with(".sql"));
    CHECK_FALSE(all[i].sql.empty());
    if (i > 0) CHECK(all[i - 1].version < all[i].version);
  }
}
