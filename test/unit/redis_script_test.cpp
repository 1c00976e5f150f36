#include <catch2/catch.hpp>

#include "huntaze/redis/redis.hpp"

using huntaze::redis::Script;

TEST_CASE("redis: a script is named by the lower-case hex SHA-1 of its source", "[redis]") {
  REQUIRE(Script("return 1").sha1() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  REQUIRE(Script("").sha1() == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  REQUIRE(Script("return 1").source() == "return 1");
}
