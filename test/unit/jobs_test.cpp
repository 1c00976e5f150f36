// Pure parts of the job queue: backoff, event filters, the registry, config.
#include <catch2/catch.hpp>

#include "huntaze/core/config.hpp"
#include "huntaze/jobs/config.hpp"
#include "huntaze/jobs/registry.hpp"
#include "jobs/backoff.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

jobs::Handler noop() {
  return [](jobs::JobContext&) -> asio::awaitable<void> { co_return; };
}

}  // namespace

TEST_CASE("backoff doubles from the base, stops at the cap, and jitters within bounds", "[jobs]") {
  jobs::RetryPolicy p{.max_attempts = 30, .backoff_base = 1s, .backoff_max = 1h, .jitter = 0.0};
  CHECK(jobs::backoff_delay(p, 1, 0.9) == 1s);
  CHECK(jobs::backoff_delay(p, 2, 0.9) == 2s);
  CHECK(jobs::backoff_delay(p, 5, 0.9) == 16s);
  CHECK(jobs::backoff_delay(p, 13, 0.5) == 1h);   // 4096 s capped at 3600 s
  CHECK(jobs::backoff_delay(p, 500, 0.5) == 1h);  // no overflow far out
  CHECK(jobs::backoff_delay(p, 0, 0.5) == 1s);

  p.jitter = 0.2;
  CHECK(jobs::backoff_delay(p, 3, 0.0) == 3200ms);  // 4 s * 0.8
  CHECK(jobs::backoff_delay(p, 3, 1.0) == 4800ms);  // 4 s * 1.2
  CHECK(jobs::backoff_delay(p, 3, 0.5) == 4s);
}

TEST_CASE("event filters match on type lists, prefixes and attributes", "[jobs][events]") {
  jobs::Event e{.topic = "media", .type = "media.ready", .attributes = {{"creator_id", "7"}, {"kind", "video"}}};
  CHECK(jobs::EventFilter{}.matches(e));
  CHECK(jobs::EventFilter{.types = {"media.failed", "media.ready"}}.matches(e));
  CHECK_FALSE(jobs::EventFilter{.types = {"media.failed"}}.matches(e));
  CHECK(jobs::EventFilter{.types = {"media.*"}}.matches(e));
  CHECK_FALSE(jobs::EventFilter{.types = {"med.*"}}.matches(e));
  CHECK_FALSE(jobs::EventFilter{.types = {"media.ready.*"}}.matches(e));
  CHECK(jobs::EventFilter{.attributes = {{"creator_id", "7"}}}.matches(e));
  CHECK_FALSE(jobs::EventFilter{.attributes = {{"creator_id", "8"}}}.matches(e));
  CHECK_FALSE(jobs::EventFilter{.attributes = {{"plan", "pro"}}}.matches(e));
}

TEST_CASE("the job registry refuses bad names, duplicates and bad policies", "[jobs]") {
  jobs::JobRegistry r;
  r.add("media.process", noop(), {.queue = "media"});
  CHECK_THROWS_AS(r.add("media.process", noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.add("", noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.add("has space", noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.add(std::string(129, 'a'), noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.add("ok.kind", noop(), {.queue = "bad queue"}), std::invalid_argument);
  CHECK_THROWS_AS(r.add("ok.kind", nullptr), std::invalid_argument);
  CHECK_THROWS_AS(r.add("ok.kind", noop(), {.policy = {.max_attempts = 0}}), std::invalid_argument);
  CHECK_THROWS_AS(r.add("ok.kind", noop(), {.policy = {.backoff_base = 10s, .backoff_max = 1s}}),
                  std::invalid_argument);
  r.subscribe({.name = "notify", .topic = "media", .handler = noop()});
  CHECK(r.find("event:notify") != nullptr);
  CHECK(r.find("media.process")->queue == "media");
  CHECK(r.queues() == std::vector<std::string>{"default", "media"});
  CHECK_THROWS_AS(r.set_policy("nope", {}), std::invalid_argument);
  r.set_policy("media.process", {.max_attempts = 3});
  CHECK(r.find("media.process")->policy.max_attempts == 3);
}

TEST_CASE("jobs config: queues merge with the defaults, kinds override policies, rescue outlives beats", "[jobs]") {
  auto parse = [](const std::string& yaml) {
    auto doc = config::Document::load_string(yaml, "test.yaml");
    auto c = jobs::parse_jobs_config(doc.root().section("jobs"));
    doc.finish();
    return c;
  };
  auto c = parse("jobs:\n  queues:\n    media: 4\n    webhooks: 8\n  kinds:\n    media.process:\n"
                 "      max_attempts: 5\n      timeout: 5m\n");
  CHECK(c.concurrency("media") == 4);
  CHECK(c.concurrency("webhooks") == 8);
  CHECK(c.concurrency("ai") == 64);
  CHECK(c.concurrency("unlisted") == 16);
  auto p = c.kinds.at("media.process").apply(jobs::RetryPolicy{});
  CHECK(p.max_attempts == 5);
  CHECK(p.timeout == 5min);
  CHECK(p.backoff_base == 1s);
  CHECK_THROWS_WITH(parse("jobs:\n  heartbeat_interval: 10s\n  rescue_after: 15s\n"),
                    Catch::Contains("rescue_after") && Catch::Contains("twice heartbeat_interval"));
  CHECK_THROWS_WITH(parse("jobs:\n  kinds:\n    x:\n      max_attempt: 5\n"), Catch::Contains("unknown key"));
  CHECK_THROWS_WITH(parse("jobs:\n  queues:\n    media: 0\n"), Catch::Contains("jobs.queues.media"));
}
