// The content module's pure pieces: ingestion item checks, signed payloads,
// field reading.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>

#include "content/api.hpp"
#include "content/billing.hpp"
#include "content/ingest_items.hpp"
#include "content/money.hpp"
#include "content/json_fields.hpp"
#include "content/signed_payload.hpp"
#include "content/suggestion_prompt.hpp"
#include "huntaze/core/time_format.hpp"

using namespace huntaze;
using namespace huntaze::content;
namespace json = boost::json;

namespace {

SysTime at(const char* text) { return *parse_iso8601(text); }

const MessageWindow kWindow{at("2026-01-01T00:00:00Z"), at("2026-12-01T00:00:00Z")};

json::array items(const char* text) { return json::parse(text).as_array(); }

}  // namespace

TEST_CASE("message items are checked field by field and repeats are rejected", "[content][unit]") {
  auto parsed = parse_messages(
      items(R"([
        {"platform_message_id":"m1","platform_fan_id":42,"direction":"out","body":" hi\nthere ","sent_at":"2026-11-21T10:00:00+02:00","ppv_price_cents":500},
        {"platform_message_id":"m 2","platform_fan_id":"f","direction":"in","sent_at":"2026-11-21T10:00:00Z"},
        {"platform_message_id":"m1","platform_fan_id":"f","direction":"in","sent_at":"2026-11-21T10:00:00Z"},
        {"platform_message_id":"m3","platform_fan_id":"f","direction":"in","sent_at":"2025-12-31T23:59:59Z","body":"\u0007"},
        {"platform_message_id":"m4","platform_fan_id":"f","direction":"out","sent_at":"2026-11-21T10:00:00Z","ppv_price_cents":-1}
      ])"),
      kWindow);
  REQUIRE(parsed.items.size() == 1);
  CHECK(parsed.indexes == std::vector<size_t>{0});
  const auto& m = parsed.items[0];
  CHECK(m.platform_fan_id == "42");
  CHECK_FALSE(m.incoming);
  CHECK(m.body == "hi\nthere");
  CHECK(m.sent_at == at("2026-11-21T08:00:00Z"));
  CHECK(m.ppv_price_cents == 500);
  REQUIRE(parsed.rejected.size() == 4);
  CHECK(parsed.rejected[0].problems.at(0).field == "platform_message_id");  // a space
  CHECK(parsed.rejected[1].problems.at(0).message.find("item 0") != std::string::npos);
  std::set<std::string> fields;
  for (const auto& p : parsed.rejected[2].problems) fields.insert(p.field);
  CHECK(fields == std::set<std::string>{"sent_at", "body"});
  CHECK(parsed.rejected[3].problems.at(0).field == "ppv_price_cents");
}

TEST_CASE("fan, subscription and transaction items", "[content][unit]") {
  auto fans = parse_fans(items(R"([{"platform_fan_id":"a","tags":["vip"," vip ","","whale"],"notes":"line1\nline2"},
                                   {"handle":"no id"}])"));
  REQUIRE(fans.items.size() == 1);
  CHECK(*fans.items[0].tags == std::vector<std::string>{"vip", "whale"});
  CHECK_FALSE(fans.items[0].handle.has_value());
  CHECK(fans.rejected.at(0).problems.at(0).field == "platform_fan_id");

  auto subs = parse_subscriptions(items(R"([{"platform_subscription_id":"s","platform_fan_id":"f","price_cents":999,
                                             "status":"paused","started_at":"2026-01-01T00:00:00Z"}])"));
  CHECK(subs.items.empty());
  CHECK(subs.rejected.at(0).problems.at(0).field == "status");

  auto tx = parse_transactions(items(R"([{"platform_transaction_id":"t","platform_fan_id":"f","kind":"tip",
                                           "amount_cents":100,"occurred_at":"2026-01-01T00:00:00Z"},
                                          {"platform_transaction_id":"u","platform_fan_id":"f","kind":"tip",
                                           "amount_cents":100,"currency":"usd","occurred_at":"2026-01-01T00:00:00Z"}])"));
  REQUIRE(tx.items.size() == 1);
  CHECK(tx.items[0].currency == "USD");
  CHECK(tx.rejected.at(0).problems.at(0).field == "currency");
}

TEST_CASE("the ingestion envelope", "[content][unit]") {
  CHECK(read_envelope(json::parse(R"({"platform":"onlyfans","items":[1,2]})"), 2).items->size() == 2);
  auto status_of = [](const char* body, size_t max) {
    try {
      read_envelope(json::parse(body), max);
      return 0;
    } catch (const ApiError& e) {
      return e.status();
    }
  };
  CHECK(status_of(R"({"platform":"onlyfans","items":[1,2,3]})", 2) == 413);
  CHECK(status_of(R"({"platform":"OnlyFans","items":[]})", 2) == 400);
  CHECK(status_of(R"({"platform":"onlyfans"})", 2) == 400);
  CHECK(status_of(R"([1])", 2) == 400);
}

TEST_CASE("signed payloads: Stripe's scheme, with a replay window", "[content][unit]") {
  const std::string secret = "whsec_test";
  const std::string body = R"({"id":"evt_1"})";
  const SysTime now = at("2026-11-21T10:00:00Z");
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::string header = sign_payload(secret, t, body);
  CHECK(header.rfind("t=" + std::to_string(t) + ",v1=", 0) == 0);
  CHECK(verify_payload(header, secret, body, now, std::chrono::minutes(5)) == SignatureCheck::ok);
  CHECK(verify_payload(header, secret, body + " ", now, std::chrono::minutes(5)) == SignatureCheck::mismatch);
  CHECK(verify_payload(header, "other", body, now, std::chrono::minutes(5)) == SignatureCheck::mismatch);
  CHECK(verify_payload(header, secret, body, now + std::chrono::minutes(6), std::chrono::minutes(5)) ==
        SignatureCheck::stale);
  CHECK(verify_payload(header, secret, body, now - std::chrono::minutes(6), std::chrono::minutes(5)) ==
        SignatureCheck::stale);
  // Several v1 entries (a rotation in progress) and unknown schemes.
  const std::string v1 = header.substr(header.find("v1="));
  CHECK(verify_payload("t=" + std::to_string(t) + ",v1=00ff," + v1 + ",v0=abc", secret, body, now,
                       std::chrono::minutes(5)) == SignatureCheck::ok);
  for (const char* bad : {"", "v1=abc", "t=,v1=abc", "t=12x,v1=abc", "t=1"})
    CHECK(verify_payload(bad, secret, body, now, std::chrono::minutes(5)) == SignatureCheck::malformed);
  // The Stripe documentation's own example shape: t first, then v1.
  CHECK(sign_payload("k", 1492774577, "{}").size() == std::string("t=1492774577,v1=").size() + 64);
}

TEST_CASE("webhook secrets are derived per workspace and generation", "[content][unit]") {
  const Secret key("0123456789abcdef0123456789abcdef");
  const Uuid a = *Uuid::parse("0190a000-0000-7000-8000-000000000001");
  const Uuid b = *Uuid::parse("0190a000-0000-7000-8000-000000000002");
  CHECK(webhook_secret(key, a, 1) == webhook_secret(key, a, 1));
  CHECK(webhook_secret(key, a, 1) != webhook_secret(key, a, 2));
  CHECK(webhook_secret(key, a, 1) != webhook_secret(key, b, 1));
  CHECK(webhook_secret(Secret("another key, also 32 characters!"), a, 1) != webhook_secret(key, a, 1));
  CHECK(webhook_secret(key, a, 1).size() == 6 + 43);
}

TEST_CASE("suggestion prompts and answers", "[content][unit]") {
  CHECK(read_category(R"({"category":"complaint"})") == Category::complaint);
  CHECK(read_category(R"({"category":" Custom_Request "})") == Category::custom_request);
  CHECK(read_category("I think this is spam, or maybe small_talk") == Category::spam);
  CHECK(read_category("no idea") == Category::unclassified);

  CHECK(read_suggestions("1. First one\n---\n2) \"Second one\"\n---\nthird", 2) ==
        std::vector<std::string>{"First one", "Second one"});
  CHECK(read_suggestions("only one, no separator\nover two lines", 2) ==
        std::vector<std::string>{"only one, no separator\nover two lines"});
  CHECK(read_suggestions("same\n---\nsame\n---\n\n---\nother", 3) == std::vector<std::string>{"same", "other"});
  CHECK(read_suggestions("", 2).empty());
  // A reply that starts with a time or an amount keeps it; list markers go.
  CHECK(read_suggestions("9:30 works for me\n---\n2.5k of you asked, so here it is\n---\n12) twelfth", 3) ==
        std::vector<std::string>{"9:30 works for me", "2.5k of you asked, so here it is", "twelfth"});
  // Model output is cleaned and bounded before it is stored.
  const std::string nul("bad\0byte", 8);
  CHECK(read_suggestions(nul, 1) == std::vector<std::string>{"bad?byte"});
  CHECK(read_suggestions(std::string(5000, 'x'), 1).at(0).size() == kMaxReplyBytes);

  CHECK(dollars(2500) == "$25.00");
  CHECK(dollars(5) == "$0.05");
  CHECK(dollars(-199) == "-$1.99");

  SuggestionContext ctx;
  ctx.persona.voice = "bubbly";
  ctx.persona.price_list = {{"custom video", 5000}};
  ctx.fan.name = "Sam";
  ctx.fan.lifetime_spend_cents = 12345;
  ctx.offers = {{"Weekend bundle", "bundle", 1999, 0}};
  ctx.history = {{true, "hi"}, {false, "hey you"}, {true, "price for a custom?"}};
  ctx.category = Category::custom_request;
  auto messages = generate_messages(ctx);
  REQUIRE(messages.size() == 4);
  const std::string& system = messages[0].content;
  for (const char* part : {"bubbly", "custom video: $50.00", "Sam", "$123.45", "Weekend bundle", "custom content",
                           "exactly 2"})
    CHECK(system.find(part) != std::string::npos);
  CHECK(messages[2].role == "assistant");
  CHECK(messages[3].role == "user");
  // Deterministic: the same context asks the same question (the cache key).
  CHECK(generate_messages(ctx)[0].content == system);
}

TEST_CASE("invoice lines: the plan, and usage beyond what it includes", "[content][unit]") {
  BillingConfig config;
  config.ai_markup_percent = 10;
  config.storage_overage_cents_per_gib = 25;
  config.video_overage_cents = 50;
  Plan plan{.name = "starter", .price_cents = 2900, .ai_included_cents = 500, .storage_bytes = 1ull << 30,
            .videos_per_month = 10};
  const std::chrono::year_month m{std::chrono::year(2026), std::chrono::October};
  // Within the plan: only its price.
  auto lines = invoice_lines(plan, UsageFigures{.ai_cost_micros = 4'999'999, .media = {1ull << 29, 10}}, config, m);
  REQUIRE(lines.size() == 4);
  int64_t total = 0;
  for (const auto& l : lines) total += l.amount_cents;
  CHECK(total == 2900);
  CHECK(lines[0].description == "Plan starter, 2026-10");
  // Beyond it: AI at cost plus 10% (rounded up to the cent), each started GiB, each video.
  lines = invoice_lines(plan, UsageFigures{.ai_cost_micros = 6'000'000, .media = {(1ull << 30) + 1, 13}}, config, m);
  CHECK(lines[1].amount_cents == 110);  // $1.00 over, +10%
  CHECK(lines[1].quantity == 6'000'000);
  CHECK(lines[2].amount_cents == 25);   // one started GiB over
  CHECK(lines[3].amount_cents == 150);  // three videos over
}

TEST_CASE("cursor times cover the years rows may hold, 0001 to 9999, and nothing PostgreSQL cannot compare", "[content][unit]") {
  // A post dated 1969 must page like any other.
  const SysTime before_1970 = *parse_iso8601("1969-07-20T20:17:00Z");
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(before_1970.time_since_epoch()).count();
  CHECK(cursor_time(json::value(micros)) == before_1970);
  CHECK(cursor_time(json::value(-62'135'596'800'000'000)) == *parse_iso8601("0001-01-01T00:00:00Z"));
  CHECK(cursor_time(json::value(253'402'300'799'999'999)) > *parse_iso8601("9999-12-31T23:59:59Z"));
  CHECK_THROWS_AS(cursor_time(json::value(-62'135'596'800'000'001)), ApiError);
  CHECK_THROWS_AS(cursor_time(json::value(253'402'300'800'000'000)), ApiError);
  CHECK_THROWS_AS(cursor_time(json::value("2026-01-01")), ApiError);
}
