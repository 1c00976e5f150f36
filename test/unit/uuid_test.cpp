#include <catch2/catch.hpp>

#include "huntaze/core/uuid.hpp"

using huntaze::Uuid;

TEST_CASE("UUIDv7 has version 7, the RFC variant and sorts by creation time", "[uuid]") {
  auto a = Uuid::v7();
  REQUIRE((a.bytes[6] >> 4) == 7);
  REQUIRE((a.bytes[8] >> 6) == 2);
  std::vector<Uuid> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(Uuid::v7());
  // The 48-bit millisecond prefix never decreases.
  for (size_t i = 1; i < ids.size(); ++i)
    REQUIRE(std::vector<uint8_t>(ids[i - 1].bytes.begin(), ids[i - 1].bytes.begin() + 6) <=
            std::vector<uint8_t>(ids[i].bytes.begin(), ids[i].bytes.begin() + 6));
}

TEST_CASE("UUID text round-trips and rejects malformed input", "[uuid]") {
  auto a = Uuid::v7();
  auto parsed = Uuid::parse(a.str());
  REQUIRE(parsed);
  REQUIRE(*parsed == a);
  REQUIRE(Uuid::parse("0190C4E2-7A1B-7C3D-8E4F-0123456789AB"));
  REQUIRE_FALSE(Uuid::parse(""));
  REQUIRE_FALSE(Uuid::parse("0190c4e2-7a1b-7c3d-8e4f-0123456789a"));
  REQUIRE_FALSE(Uuid::parse("0190c4e2x7a1b-7c3d-8e4f-0123456789ab"));
  REQUIRE_FALSE(Uuid::parse("0190c4e2-7a1b-7c3d-8e4f-0123456789ag"));
}
