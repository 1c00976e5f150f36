#include <catch2/catch.hpp>

#include "support/harness.hpp"

using namespace huntaze;

TEST_CASE("each test gets a fresh database cloned from the migrated template", "[harness]") {
  auto a = test::fresh_database_url();
  auto b = test::fresh_database_url();
  REQUIRE(a != b);
  test::admin_exec(a, "CREATE TABLE only_in_a (x int)");
  REQUIRE_THROWS(test::admin_exec(b, "SELECT * FROM only_in_a"));
}
