// The `cron:` configuration section.
#include <catch2/catch.hpp>

#include "huntaze/core/config.hpp"
#include "huntaze/cron/cron.hpp"
#include "support/config_parse.hpp"

using namespace huntaze;
using Catch::Matchers::Contains;

namespace {

cron::CronConfig parse(const std::string& yaml) {
  return test::parse_section(yaml, "cron", cron::parse_cron_config);
}

std::string error_of(const std::string& yaml) {
  return test::config_error([&] { parse(yaml); });
}

}  // namespace

TEST_CASE("cron config: defaults and overrides", "[cron]") {
  auto defaults = parse("");
  CHECK(defaults.enabled);
  CHECK(defaults.schedules.empty());

  auto c = parse(
      "cron:\n"
      "  enabled: false\n"
      "  schedules:\n"
      "    digest_daily:\n"
      "      spec: '0 7 * * *'\n"
      "      timezone: Europe/Paris\n"
      "    cleanup:\n"
      "      enabled: false\n");
  CHECK_FALSE(c.enabled);
  REQUIRE(c.schedules.size() == 2);
  const auto& digest = c.schedules.at("digest_daily");
  CHECK(digest.spec == std::optional<std::string>("0 7 * * *"));
  CHECK(digest.timezone == std::optional<std::string>("Europe/Paris"));
  CHECK(digest.enabled);
  const auto& cleanup = c.schedules.at("cleanup");
  CHECK_FALSE(cleanup.spec);
  CHECK_FALSE(cleanup.timezone);
  CHECK_FALSE(cleanup.enabled);
}

TEST_CASE("cron config: schedule names may contain dots", "[cron]") {
  auto c = parse(
      "cron:\n"
      "  schedules:\n"
      "    offers.activate:\n"
      "      spec: '@daily'\n"
      "      enabled: false\n");
  REQUIRE(c.schedules.count("offers.activate") == 1);
  CHECK(c.schedules.at("offers.activate").spec == std::optional<std::string>("@daily"));
  CHECK_FALSE(c.schedules.at("offers.activate").enabled);
  CHECK_THAT(error_of("cron:\n  schedules:\n    offers.activate:\n      spec: '0 0 30 2 *'\n"),
             Contains("cron.schedules.offers.activate.spec: spec never fires"));
}

TEST_CASE("cron config: bad overrides are start-up errors at their line", "[cron]") {
  CHECK_THROWS_AS(parse("cron:\n  schedules:\n    x:\n      spec: '61 * * * *'\n"), config::ConfigError);
  CHECK(error_of("cron:\n  schedules:\n    x:\n      spec: '61 * * * *'\n") ==
        "test.yaml:4:13: cron.schedules.x.spec: minute: 61 is out of range 0-59");
  CHECK_THAT(error_of("cron:\n  schedules:\n    x:\n      timezone: Mars/Base\n"),
             Contains("cron.schedules.x.timezone: unknown time zone \"Mars/Base\""));
  CHECK_THAT(error_of("cron:\n  schedules:\n    x:\n      spek: '* * * * *'\n"),
             Contains("cron.schedules.x: an override must set at least one of spec, timezone, enabled"));
  CHECK_THAT(error_of("cron:\n  schedules:\n    x:\n      enabled: true\n      spek: '* * * * *'\n"),
             Contains("cron.schedules.x.spek: unknown key"));
  CHECK_THAT(error_of("cron:\n  schedules:\n    Bad Name:\n      enabled: false\n"), Contains("not a schedule name"));
}
