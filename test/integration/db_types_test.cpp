// Every Param type and every get<T> against a real PostgreSQL: what goes in
// comes back out unchanged, and PostgreSQL sees the value we meant.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "db_fixture.hpp"

using namespace huntaze;
using namespace std::chrono;
using test::dbt::DbFixture;

namespace {

db::Timestamp at(int y, unsigned m, unsigned d, hours h = 0h, minutes min = 0min, seconds s = 0s,
                 microseconds us = 0us) {
  return db::Timestamp(sys_days(year(y) / month(m) / day(d))) + h + min + s + us;
}

}  // namespace

TEST_CASE("db: each parameter type binds as its PostgreSQL type and reads back unchanged", "[db]") {
  DbFixture f;
  const Uuid id = Uuid::v7();
  const auto ts = at(2024, 2, 29, 23h, 59min, 59s, 123456us);
  const db::Json json{R"({"a": [1, 2, {"b": "c\"d"}], "e": null})"};
  const std::string text = "héllo \"wörld\" \\ it's\n";

  auto res = f.query(
      "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
      "pg_typeof($1)::text, pg_typeof($2)::text, pg_typeof($3)::text, pg_typeof($4)::text, pg_typeof($5)::text, "
      "pg_typeof($6)::text, pg_typeof($7)::text, pg_typeof($8)::text, pg_typeof($9)::text, pg_typeof($10)::text, "
      "pg_typeof($11)::text, pg_typeof($12)::text",
      {true, std::numeric_limits<int32_t>::min(), std::numeric_limits<int64_t>::max(), 0.1, text,
       db::Bytes{std::string("a\0b", 3)}, id, ts, json, std::vector<int64_t>{1, -2, 3},
       std::vector<std::string>{"x", "y"}, std::vector<Uuid>{id, id}});
  REQUIRE(res.size() == 1);
  const auto row = res.front();
  CHECK(row.get<bool>(0) == true);
  CHECK(row.get<int32_t>(1) == std::numeric_limits<int32_t>::min());
  CHECK(row.get<int64_t>(2) == std::numeric_limits<int64_t>::max());
  CHECK(row.get<double>(3) == 0.1);
  CHECK(row.get<std::string>(4) == text);
  CHECK(row.get<db::Bytes>(5) == db::Bytes{std::string("a\0b", 3)});
  CHECK(row.get<Uuid>(6) == id);
  CHECK(row.get<db::Timestamp>(7) == ts);
  CHECK(row.get<db::Json>(8) == json);  // already in jsonb's canonical spelling
  CHECK(row.get<std::vector<int64_t>>(9) == std::vector<int64_t>{1, -2, 3});
  CHECK(row.get<std::vector<std::string>>(10) == std::vector<std::string>{"x", "y"});
  CHECK(row.get<std::vector<Uuid>>(11) == std::vector<Uuid>{id, id});
  const std::vector<std::string> types = {"boolean", "integer",  "bigint", "double precision",
                                          "text",    "bytea",    "uuid",   "timestamp with time zone",
                                          "jsonb",   "bigint[]", "text[]", "uuid[]"};
  for (int i = 0; i < 12; ++i) CHECK(row.get<std::string>(12 + i) == types[static_cast<size_t>(i)]);
}

TEST_CASE("db: a table of every column type round-trips values and NULLs", "[db]") {
  DbFixture f;
  f.block(f.db->execute_script(
      "CREATE TABLE everything (k int PRIMARY KEY, b bool, i int4, l int8, d float8, s text, by bytea, u uuid, "
      "ts timestamptz, j jsonb, la int8[], sa text[], ua uuid[])"));
  const Uuid id = Uuid::v7();
  const auto ts = at(1969, 12, 31, 23h, 59min, 59s, 999999us);
  auto inserted =
      f.query("INSERT INTO everything VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
              {false, int32_t{42}, int64_t{-7}, -1.5e300, std::string("text"), db::Bytes{std::string("\0\xff", 2)}, id,
               ts, db::Json{R"({"k": "v"})"}, std::vector<int64_t>{}, std::vector<std::string>{}, std::vector<Uuid>{}});
  CHECK(inserted.affected() == 1);
  f.query("INSERT INTO everything VALUES (2, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
          {nullptr, std::nullopt, std::optional<int64_t>{}, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
           nullptr, nullptr, nullptr});

  auto res = f.query("SELECT * FROM everything ORDER BY k");
  REQUIRE(res.size() == 2);
  const auto full = res[0];
  CHECK(full.get<bool>("b") == false);
  CHECK(full.get<int32_t>("i") == 42);
  CHECK(full.get<int64_t>("l") == -7);
  CHECK(full.get<double>("d") == -1.5e300);
  CHECK(full.get<std::string>("s") == "text");
  CHECK(full.get<db::Bytes>("by").data == std::string("\0\xff", 2));
  CHECK(full.get<Uuid>("u") == id);
  CHECK(full.get<db::Timestamp>("ts") == ts);
  CHECK(full.get<db::Json>("j").text == R"({"k": "v"})");
  CHECK(full.get<std::vector<int64_t>>("la").empty());
  CHECK(full.get<std::vector<std::string>>("sa").empty());
  CHECK(full.get<std::vector<Uuid>>("ua").empty());
  CHECK(full.get<std::optional<int32_t>>("i") == 42);
  CHECK(full.get<std::optional<Uuid>>("u") == id);

  const auto empty = res[1];
  for (int c = 1; c < res.columns(); ++c) CHECK(empty.is_null(c));
  CHECK(empty.get<std::optional<bool>>("b") == std::nullopt);
  CHECK(empty.get<std::optional<int32_t>>("i") == std::nullopt);
  CHECK(empty.get<std::optional<int64_t>>("l") == std::nullopt);
  CHECK(empty.get<std::optional<double>>("d") == std::nullopt);
  CHECK(empty.get<std::optional<std::string>>("s") == std::nullopt);
  CHECK(empty.get<std::optional<db::Bytes>>("by") == std::nullopt);
  CHECK(empty.get<std::optional<Uuid>>("u") == std::nullopt);
  CHECK(empty.get<std::optional<db::Timestamp>>("ts") == std::nullopt);
  CHECK(empty.get<std::optional<db::Json>>("j") == std::nullopt);
  CHECK_THROWS_WITH(empty.get<int64_t>("l"), Catch::Contains("\"l\"") && Catch::Contains("NULL"));
  CHECK_THROWS_WITH(empty.get<std::vector<std::string>>("sa"), Catch::Contains("\"sa\""));
}

TEST_CASE("db: text arrays keep quotes, commas, backslashes, braces and the word NULL", "[db]") {
  DbFixture f;
  const std::vector<std::string> tricky = {"plain", "with,comma", "with \"quotes\"", "back\\slash", "{braces}",  "NULL",
                                           "",      "  spaced  ", "ünïcødé ✓",       "new\nline",   "trailing\\"};
  const auto res = f.query("SELECT $1::text[], array_length($1, 1), $1[6] IS NULL, $1[6], $1[4]", {tricky});
  const auto row = res.front();
  CHECK(row.get<std::vector<std::string>>(0) == tricky);
  CHECK(row.get<int32_t>(1) == static_cast<int32_t>(tricky.size()));
  CHECK(row.get<bool>(2) == false);  // the string "NULL", not a NULL element
  CHECK(row.get<std::string>(3) == "NULL");
  CHECK(row.get<std::string>(4) == "back\\slash");

  // Arrays PostgreSQL builds itself, in its own quoting.
  const auto built_res = f.query(
      "SELECT ARRAY[' lead', 'a\"b', 'c\\d', 'x,y', '', 'null']::text[], "
      "'[0:2]={5,6,7}'::int8[], '{}'::uuid[], ARRAY['a', NULL]::text[], ARRAY[1, NULL]::int8[]");
  const auto built = built_res.front();
  CHECK(built.get<std::vector<std::string>>(0) == std::vector<std::string>{" lead", "a\"b", "c\\d", "x,y", "", "null"});
  CHECK(built.get<std::vector<int64_t>>(1) == std::vector<int64_t>{5, 6, 7});
  CHECK(built.get<std::vector<Uuid>>(2).empty());
  CHECK_THROWS_WITH(built.get<std::vector<std::string>>(3), Catch::Contains("NULL"));
  CHECK_THROWS_WITH(built.get<std::vector<int64_t>>(4), Catch::Contains("NULL"));

  const std::vector<Uuid> ids = {Uuid::v7(), Uuid::v7(), Uuid::v7()};
  CHECK(f.query("SELECT $1", {ids}).front().get<std::vector<Uuid>>(0) == ids);
  const std::vector<int64_t> numbers = {std::numeric_limits<int64_t>::min(), 0, std::numeric_limits<int64_t>::max()};
  CHECK(f.query("SELECT $1", {numbers}).front().get<std::vector<int64_t>>(0) == numbers);
}

TEST_CASE("db: bytea carries every byte value, zeros included", "[db]") {
  DbFixture f;
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  all += std::string("\0\0x\0", 4);
  const auto res =
      f.query("SELECT $1, length($1), substring($1 from 1 for 1) = '\\x00'::bytea, $2", {db::Bytes{all}, db::Bytes{}});
  const auto row = res.front();
  CHECK(row.get<db::Bytes>(0).data == all);
  CHECK(row.get<int32_t>(1) == static_cast<int32_t>(all.size()));
  CHECK(row.get<bool>(2));
  CHECK(row.get<db::Bytes>(3).data.empty());

  const std::string big(1 << 20, '\0');  // a megabyte of zeros: several socket writes
  CHECK(f.query("SELECT $1", {db::Bytes{big}}).front().get<db::Bytes>(0).data == big);
}

TEST_CASE("db: timestamps keep their microseconds across eras", "[db]") {
  DbFixture f;
  const std::vector<db::Timestamp> values = {
      db::Timestamp{},  // the Unix epoch
      db::Timestamp{1us},
      db::Timestamp{-1us},
      at(2024, 2, 29, 23h, 59min, 59s, 999999us),
      at(1900, 1, 1, 0h, 0min, 0s, 1us),
      at(1, 1, 1),
      at(-43, 3, 15, 12h),  // 44 BC
      at(9999, 12, 31, 23h, 59min, 59s, 999999us),
      db::Timestamp::max(),  // 'infinity'
      db::Timestamp::min(),  // '-infinity'
  };
  for (const auto& t : values) {
    const auto res = f.query("SELECT $1, $1::text", {t});
    const auto row = res.front();
    INFO(row.get<std::string>(1));
    CHECK(row.get<db::Timestamp>(0) == t);
  }
  // PostgreSQL reads them as the instants we meant.
  const auto res = f.query(
      "SELECT $1 = '2024-02-29 23:59:59.999999+00'::timestamptz, $2::text, $3::text, "
      "'2024-06-01 12:00:00'::timestamp, '2024-06-01'::date, "
      "'2024-06-01 12:00:00.5+05:30'::timestamptz",
      {values[3], values[6], values[8]});
  const auto row = res.front();
  CHECK(row.get<bool>(0));
  CHECK(row.get<std::string>(1) == "0044-03-15 12:00:00+00 BC");
  CHECK(row.get<std::string>(2) == "infinity");
  CHECK(row.get<db::Timestamp>(3) == at(2024, 6, 1, 12h));
  CHECK(row.get<db::Timestamp>(4) == at(2024, 6, 1));
  CHECK(row.get<db::Timestamp>(5) == at(2024, 6, 1, 6h, 30min, 0s, 500000us));
}

TEST_CASE("db: doubles, integers and JSON keep their exact values", "[db]") {
  DbFixture f;
  const double inf = std::numeric_limits<double>::infinity();
  const auto res =
      f.query("SELECT $1, $2, $3, $4, $5, $6::text, $7, $8 = '{\"b\": [true, null]}'::jsonb",
              {inf, -inf, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::denorm_min(),
               1.0 / 3.0, -0.0, std::numeric_limits<int32_t>::max(), db::Json{R"({"b":[true,null]})"}});
  const auto row = res.front();
  CHECK(row.get<double>(0) == inf);
  CHECK(row.get<double>(1) == -inf);
  CHECK(std::isnan(row.get<double>(2)));
  CHECK(row.get<double>(3) == std::numeric_limits<double>::denorm_min());
  CHECK(row.get<double>(4) == 1.0 / 3.0);
  CHECK(row.get<std::string>(5) == "-0");
  CHECK(row.get<int32_t>(6) == std::numeric_limits<int32_t>::max());
  CHECK(row.get<bool>(7));
  // numeric reads as double; int4 reads as int64.
  const auto more_res = f.query("SELECT 12.5::numeric, 7::int4, 3000000000::int8, 'abc'::text AS word");
  const auto more = more_res.front();
  CHECK(more.get<double>(0) == 12.5);
  CHECK(more.get<int64_t>(1) == 7);
  CHECK_THROWS_WITH(more.get<int32_t>(2), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(more.get<int64_t>("word"), Catch::Contains("\"word\""));
  CHECK_THROWS(more.get<int64_t>("missing"));
  CHECK_THROWS(more.get<int64_t>(9));
}

TEST_CASE("db: text with a NUL byte is refused before it is sent", "[db]") {
  DbFixture f;
  try {
    f.query("SELECT $1", {std::string("a\0b", 3)});
    FAIL("expected DbError");
  } catch (const db::DbError& e) {
    CHECK(e.sqlstate() == "22021");
  }
  // The connection is still fine.
  CHECK(f.query("SELECT 1").front().get<int32_t>(0) == 1);
}

TEST_CASE("db: affected() counts the rows a statement touched", "[db]") {
  DbFixture f;
  f.block(f.db->execute_script("CREATE TABLE counted (n int); CREATE INDEX ON counted (n);"));
  CHECK(f.query("INSERT INTO counted SELECT generate_series(1, $1)", {int32_t{5}}).affected() == 5);
  CHECK(f.query("UPDATE counted SET n = n + 1 WHERE n > $1", {int32_t{2}}).affected() == 3);
  CHECK(f.query("DELETE FROM counted WHERE n = $1", {int32_t{100}}).affected() == 0);
  auto rows = f.query("SELECT n FROM counted ORDER BY n");
  CHECK(rows.size() == 5);
  std::vector<int32_t> seen;
  for (const auto& row : rows) seen.push_back(row.get<int32_t>("n"));
  CHECK(seen == std::vector<int32_t>{1, 2, 4, 5, 6});
  // The same SQL with different parameter types gets its own prepared statement.
  CHECK(f.query("SELECT $1", {int32_t{1}}).front().get<std::string>(0) == "1");
  CHECK(f.query("SELECT $1", {std::string("one")}).front().get<std::string>(0) == "one");
}
