// Migrator against a real database: apply once, refuse edited or unknown
// migrations, stay exactly-once when several instances start together.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "db_fixture.hpp"
#include "huntaze/db/migrations.hpp"

using namespace huntaze;
namespace asio = boost::asio;
using test::dbt::DbFixture;

namespace {

// The test's own migrations, on a database whose schema_migrations (cloned
// from the template) is dropped so the test owns the whole history.
struct MigrationsFixture : DbFixture {
  MigrationsFixture() {
    test::admin_exec(url, "DROP TABLE IF EXISTS public.schema_migrations");
    migrations = {
        {1, "0001_create_a.sql", "CREATE TABLE mig_a (id int PRIMARY KEY);"},
        {2, "0002_create_b.sql",
         "CREATE TABLE mig_b (n int NOT NULL);\n"
         "INSERT INTO mig_b VALUES (1), (2);\n"
         "SELECT pg_sleep(0.05);  -- widen the window for concurrent starts\n"},
        {3, "0003_alter_a.sql", "ALTER TABLE mig_a ADD COLUMN name text;"},
    };
  }
  int apply(std::vector<db::Migration> list) {
    db::Migrator m(*db, std::move(list));
    return block(m.apply());
  }
  int64_t count(const std::string& sql) { return query(sql).front().get<int64_t>(0); }

  std::vector<db::Migration> migrations;
};

}  // namespace

TEST_CASE("db: migrations apply in order, once", "[db]") {
  MigrationsFixture f;
  CHECK(f.apply(f.migrations) == 3);
  CHECK(f.apply(f.migrations) == 0);
  CHECK(f.count("SELECT count(*) FROM public.schema_migrations") == 3);
  CHECK(f.count("SELECT count(*) FROM mig_b") == 2);
  CHECK(f.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'mig_a' AND column_name = "
                "'name'") == 1);
  auto rows = f.query("SELECT version, name, length(checksum) FROM public.schema_migrations ORDER BY version");
  CHECK(rows[0].get<int32_t>(0) == 1);
  CHECK(rows[2].get<std::string>(1) == "0003_alter_a.sql");
  CHECK(rows[0].get<int32_t>(2) == 64);  // SHA-256 in hex

  // A new file later on applies on its own.
  f.migrations.push_back({4, "0004_more.sql", "CREATE TABLE mig_c (x int);"});
  CHECK(f.apply(f.migrations) == 1);
}

TEST_CASE("db: an applied migration that was edited is refused", "[db]") {
  MigrationsFixture f;
  REQUIRE(f.apply(f.migrations) == 3);
  auto edited = f.migrations;
  edited[1].sql += "\nINSERT INTO mig_b VALUES (3);";
  CHECK_THROWS_WITH(f.apply(edited), Catch::Contains("0002_create_b.sql") && Catch::Contains("checksum"));
  CHECK(f.count("SELECT count(*) FROM mig_b") == 2);

  db::Migrator m(*f.db, edited);
  auto status = f.block(m.status());
  REQUIRE(status.size() == 3);
  CHECK(status[0].checksum_matches);
  CHECK_FALSE(status[1].checksum_matches);
  CHECK(status[1].applied);
}

TEST_CASE("db: a database newer than the code is refused", "[db]") {
  MigrationsFixture f;
  REQUIRE(f.apply(f.migrations) == 3);
  auto older = f.migrations;
  older.pop_back();
  CHECK_THROWS_AS(f.apply(older), db::MigrationError);
  CHECK_THROWS_WITH(f.apply(older), Catch::Contains("0003_alter_a.sql"));
}

TEST_CASE("db: a failing migration is rolled back and named", "[db]") {
  MigrationsFixture f;
  auto broken = f.migrations;
  broken[2].sql = "CREATE TABLE half_done (x int);\nALTER TABLE no_such_table ADD COLUMN y int;";
  CHECK_THROWS_WITH(f.apply(broken), Catch::Contains("0003_alter_a.sql") && Catch::Contains("no_such_table"));
  CHECK(f.count("SELECT count(*) FROM public.schema_migrations") == 2);
  CHECK(f.count("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'") == 0);
  // Fixed, it goes through.
  CHECK(f.apply(f.migrations) == 1);
}

TEST_CASE("db: three instances migrating at once apply each migration exactly once", "[db]") {
  MigrationsFixture f;
  // Three pools, as three processes would have.
  std::vector<std::shared_ptr<db::Database>> pools;
  for (int i = 0; i < 3; ++i) pools.push_back(db::make_pg_pool(f.io.executor(), f.config, f.registry));
  auto run = [](std::shared_ptr<db::Database> db, std::vector<db::Migration> list) -> asio::awaitable<int> {
    db::Migrator m(*db, std::move(list));
    co_return co_await m.apply();
  };
  std::vector<std::future<int>> results;
  for (auto& pool : pools) results.push_back(f.io.spawn(run(pool, f.migrations)));
  int total = 0;
  for (auto& r : results) total += r.get();
  CHECK(total == 3);
  CHECK(f.count("SELECT count(*) FROM public.schema_migrations") == 3);
  CHECK(f.count("SELECT count(*) FROM mig_b") == 2);
  for (auto& pool : pools) pool->close();
}

TEST_CASE("db: status() lists applied and pending migrations", "[db]") {
  MigrationsFixture f;
  db::Migrator fresh(*f.db, f.migrations);
  auto before = f.block(fresh.status());  // no schema_migrations table yet
  REQUIRE(before.size() == 3);
  for (const auto& s : before) CHECK_FALSE(s.applied);

  auto first_two = f.migrations;
  first_two.pop_back();
  REQUIRE(f.apply(first_two) == 2);
  auto status = f.block(fresh.status());
  REQUIRE(status.size() == 3);
  CHECK(status[0].version == 1);
  CHECK(status[0].name == "0001_create_a.sql");
  CHECK(status[0].applied);
  CHECK(status[0].applied_at.has_value());
  CHECK(status[0].checksum_matches);
  CHECK(status[1].applied);
  CHECK_FALSE(status[2].applied);
  CHECK_FALSE(status[2].applied_at.has_value());
}

TEST_CASE("db: migrations load from a directory and apply", "[db]") {
  MigrationsFixture f;
  const auto dir = std::filesystem::temp_directory_path() / ("huntaze-mig-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const auto& m : f.migrations) std::ofstream(dir / m.name) << m.sql;
  std::ofstream(dir / "README.md") << "not a migration";
  auto loaded = db::load_migrations(dir.string());
  std::filesystem::remove_all(dir);
  REQUIRE(loaded.size() == 3);
  CHECK(f.apply(loaded) == 3);
  CHECK(f.apply(f.migrations) == 0);  // same checksums as the in-memory copies
}
