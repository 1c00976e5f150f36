// The `cron:` config section. Overrides are validated here (spec, time zone)
// so that a typo is a start-up error pointing at its line; whether the names
// match registered schedules can only be known once the modules registered
// them (see Cron::tick()/run()).
#include <stdexcept>

#include "cron/cron_expr.hpp"
#include "cron/schedule_name.hpp"
#include "huntaze/cron/cron.hpp"

namespace huntaze::cron {

CronConfig parse_cron_config(config::Node node) {
  CronConfig c;
  c.enabled = node.get_bool("enabled", c.enabled);
  auto schedules = node.section("schedules");
  for (const auto& name : schedules.keys()) {
    if (!valid_schedule_name(name))
      schedules.fail(name, "not a schedule name (" + std::string(kScheduleNameRule) + ")");
    auto s = schedules.section(name);
    if (!s.has("spec") && !s.has("timezone") && !s.has("enabled"))
      s.fail("", "an override must set at least one of spec, timezone, enabled");
    ScheduleOverride o;
    if (s.has("spec")) {
      o.spec = s.get_string("spec", "");
      try {
        (void)CronExpr::parse(*o.spec);
      } catch (const std::invalid_argument& e) {
        s.fail("spec", e.what());
      }
    }
    if (s.has("timezone")) {
      o.timezone = s.get_string("timezone", "UTC");
      try {
        (void)find_zone(*o.timezone);
      } catch (const std::invalid_argument& e) {
        s.fail("timezone", e.what());
      }
    }
    o.enabled = s.get_bool("enabled", o.enabled);
    s.finish();
    c.schedules[name] = std::move(o);
  }
  return c;
}

}  // namespace huntaze::cron
