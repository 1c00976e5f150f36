// Pure pieces of the model router: circuit breaker, Retry-After, reasoning split.
#include <catch2/catch.hpp>

#include "ai_router/circuit_breaker.hpp"
#include "ai_router/reasoning.hpp"
#include "ai_router/retry_after.hpp"

using namespace huntaze;
using namespace huntaze::ai_router;
using namespace std::chrono_literals;
using T = CircuitBreaker::Clock::time_point;

namespace {
// A fixed origin that is not the clock's epoch.
const T t0 = T{} + 1000h;
}  // namespace

TEST_CASE("breaker trips after consecutive failures, cools down, and closes on a good probe", "[ai][breaker]") {
  CircuitBreaker b({.consecutive_failures = 3, .min_calls = 1000, .cooldown = 30s, .half_open_probes = 1});
  for (int i = 0; i < 2; ++i) {
    REQUIRE(b.allow(t0));
    b.on_failure(t0);
  }
  REQUIRE(b.allow(t0));
  b.on_success(t0);  // a success resets the run
  for (int i = 0; i < 3; ++i) {
    REQUIRE(b.allow(t0));
    b.on_failure(t0);
  }
  CHECK(b.state(t0) == BreakerState::open);
  CHECK_FALSE(b.allow(t0 + 29s));
  CHECK(b.state(t0 + 30s) == BreakerState::half_open);
  CHECK(b.allow(t0 + 30s));        // the probe
  CHECK_FALSE(b.allow(t0 + 30s));  // only one at a time
  b.on_success(t0 + 31s);
  CHECK(b.state(t0 + 31s) == BreakerState::closed);
  CHECK(b.allow(t0 + 31s));
}

TEST_CASE("breaker: a failed probe opens it for another full cool-down, an abandoned one frees the slot",
          "[ai][breaker]") {
  CircuitBreaker b({.consecutive_failures = 1, .cooldown = 10s});
  REQUIRE(b.allow(t0));
  b.on_failure(t0);
  REQUIRE(b.allow(t0 + 10s));
  b.on_abandoned();  // cancelled: says nothing about health
  REQUIRE(b.allow(t0 + 10s));
  b.on_failure(t0 + 11s);
  CHECK(b.state(t0 + 20s) == BreakerState::open);
  CHECK_FALSE(b.allow(t0 + 20s));
  CHECK(b.allow(t0 + 21s));
}

TEST_CASE("breaker trips on the failure ratio over the window, and old calls age out", "[ai][breaker]") {
  CircuitBreaker b({.consecutive_failures = 100, .failure_ratio = 0.5, .min_calls = 10, .window = 60s});
  // 10 calls, alternating: 5 failures never in a row of 100, ratio reaches 0.5 on the tenth call.
  for (int i = 0; i < 9; ++i) {
    REQUIRE(b.allow(t0));
    if (i % 2 == 0)
      b.on_failure(t0);
    else
      b.on_success(t0);
  }
  CHECK(b.state(t0) == BreakerState::closed);  // 9 calls: below min_calls
  REQUIRE(b.allow(t0));
  b.on_failure(t0);  // the tenth call fails: 6 of 10
  CHECK(b.state(t0) == BreakerState::open);

  CircuitBreaker aged({.consecutive_failures = 100, .failure_ratio = 0.5, .min_calls = 10, .window = 60s});
  for (int i = 0; i < 9; ++i) {
    aged.allow(t0);
    aged.on_failure(t0);
  }
  // Two minutes later those nine failures are outside the window.
  aged.allow(t0 + 120s);
  aged.on_failure(t0 + 120s);
  CHECK(aged.state(t0 + 120s) == BreakerState::closed);
}

TEST_CASE("Retry-After: milliseconds header, delay-seconds and all three HTTP-date formats", "[ai][retry]") {
  const SysTime now = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 30s;
  CHECK(parse_retry_after("1500", "", now) == 1500ms);
  CHECK(parse_retry_after("20.2", "5", now) == 21ms);  // ms header wins, rounded up
  CHECK(parse_retry_after("junk", "5", now) == 5000ms);
  CHECK(parse_retry_after("", " 7 ", now) == 7000ms);
  CHECK(parse_retry_after("", "Sun, 06 Nov 1994 08:49:37 GMT", now) == 7000ms);
  CHECK(parse_retry_after("", "Sunday, 06-Nov-94 08:49:37 GMT", now) == 7000ms);
  CHECK(parse_retry_after("", "Sun Nov  6 08:49:37 1994", now) == 7000ms);
  CHECK(parse_retry_after("", "Sun, 06 Nov 1994 08:00:00 GMT", now) == 0ms);  // in the past
  CHECK_FALSE(parse_retry_after("", "", now));
  CHECK_FALSE(parse_retry_after("", "-5", now));
  CHECK_FALSE(parse_retry_after("", "soon", now));
  CHECK_FALSE(parse_retry_after("-3", "", now));
  CHECK_FALSE(parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"));
  CHECK_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  // Far-off waits are clamped to a day, so that adding them to a time point cannot overflow.
  CHECK(parse_retry_after("", "Fri, 31 Dec 9999 23:59:59 GMT", now) == std::chrono::milliseconds(std::chrono::hours(24)));
  CHECK(parse_retry_after("", "999999999", now) == std::chrono::milliseconds(std::chrono::hours(24)));
  CHECK(parse_retry_after("99999999999", "", now) == std::chrono::milliseconds(std::chrono::hours(24)));
}

TEST_CASE("reasoning: <think> is split from the answer, in one piece or cut anywhere", "[ai][reasoning]") {
  const std::string text = "\n<think>The fan asked about prices.\nOffer the bundle.</think>\n\nHi! The bundle is $20.";
  auto whole = split_reasoning(text);
  CHECK(whole.reasoning == "The fan asked about prices.\nOffer the bundle.");
  CHECK(whole.content == "Hi! The bundle is $20.");

  // Every way of cutting the stream in two gives the same result.
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    ThinkSplitter s;
    Split a = s.feed(std::string_view(text).substr(0, cut));
    Split b = s.feed(std::string_view(text).substr(cut));
    Split c = s.finish();
    INFO("cut at " << cut);
    CHECK(a.reasoning + b.reasoning + c.reasoning == whole.reasoning);
    CHECK(a.content + b.content + c.content == whole.content);
  }
  // One byte at a time.
  ThinkSplitter bytes;
  Split acc;
  for (char ch : text) {
    Split part = bytes.feed(std::string_view(&ch, 1));
    acc.reasoning += part.reasoning;
    acc.content += part.content;
  }
  CHECK(acc.reasoning == whole.reasoning);
  CHECK(acc.content == whole.content);

  CHECK(split_reasoning("Plain answer, no tags.").content == "Plain answer, no tags.");
  CHECK(split_reasoning("Answer mentioning <think> later").content == "Answer mentioning <think> later");
  auto cut_off = split_reasoning("<think>still thinking when the tokens ran out");
  CHECK(cut_off.reasoning == "still thinking when the tokens ran out");
  CHECK(cut_off.content.empty());
  CHECK(split_reasoning("<thi").content == "<thi");  // a stream that ends early is content
}
