#include "auth/rate_limit_config.hpp"

namespace huntaze::auth {

namespace {

void read_rule(config::Node& parent, RateRule& rule) {
  config::Node node = parent.section(rule.name);
  rule.limit = node.get_int("limit", rule.limit, 0, kMaxRateLimit);
  rule.period = node.get_duration("period", rule.period, kMinRatePeriod, kMaxRatePeriod);
  node.finish();
}

}  // namespace

RateLimitConfig parse_rate_limit_config(config::Node section) {
  RateLimitConfig c;
  for (RateRule* rule : {&c.user, &c.ip, &c.login_account, &c.login_ip, &c.signup_ip, &c.reset_account, &c.reset_ip})
    read_rule(section, *rule);
  section.finish();
  return c;
}

}  // namespace huntaze::auth
