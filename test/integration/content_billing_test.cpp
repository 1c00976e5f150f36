// Billing: monthly invoices once per workspace and month (the job racing
// itself), the Stripe webhook (signature, replay window, duplicate events,
// out-of-order events), plan limits reaching the AI router, and the
// billing API's roles and tenancy.
#include <atomic>

#include "ai_router/usage_partitions.hpp"
#include "content/billing.hpp"
#include "content/signed_payload.hpp"
#include "content_fixture.hpp"
#include "db_fixture.hpp"

using namespace huntaze;
namespace json = boost::json;
using test::dbt::DbFixture;
using std::chrono::year_month;

namespace {

constexpr const char* kStripeSecret = "whsec_test_0123456789abcdef";

content::BillingConfig billing_config() {
  content::BillingConfig c;
  c.plans = {{"starter", content::Plan{.name = "starter", .price_cents = 2900, .ai_included_cents = 500,
                                       .ai_budget_cents = 2000, .storage_bytes = 1ull << 30, .videos_per_month = 10,
                                       .stripe_price = "price_starter"}},
             {"pro", content::Plan{.name = "pro", .price_cents = 9900, .ai_included_cents = 5000,
                                   .stripe_price = "price_pro"}}};
  c.default_plan = "starter";
  c.ai_markup_percent = 20;
  return c;
}

struct BillingDb : DbFixture {
  BillingDb() : plans(*db, clock, config), billing(*db, clock, plans, nullptr, config) {}

  void workspace(const std::string& id, const std::string& created_at) {
    query("INSERT INTO auth.workspaces (id, name, created_at) VALUES ($1::uuid, 'w', $2::timestamptz)",
          test::dbt::params(id, created_at));
  }
  void spend(const std::string& ws, const std::string& at, int64_t micros) {
    query("INSERT INTO ai.usage (at, workspace_id, task, model, input_tokens, output_tokens, cost_micros, latency_us, "
          "ttft_us, cache_hit, attempts, outcome) VALUES ($1::timestamptz, $2::uuid, 'generate', 'm', 1, 1, $3, 1, 1, "
          "false, 1, 'ok')",
          test::dbt::params(at, ws, micros));
  }
  std::string scalar(const std::string& sql) { return test::admin_scalar(url, sql); }

  content::BillingConfig config = billing_config();
  ManualClock clock{*parse_iso8601("2031-03-01T00:05:00Z")};
  content::WorkspacePlans plans;
  content::Billing billing;
};

const char* kA = "0190a000-0000-7000-8000-00000000000a";
const char* kB = "0190a000-0000-7000-8000-00000000000b";
const char* kLate = "0190a000-0000-7000-8000-00000000000c";

}  // namespace

TEST_CASE("billing.monthly invoices each workspace once for the month, however often it runs", "[content][billing]") {
  BillingDb f;
  const year_month feb{std::chrono::year(2031), std::chrono::February};
  std::vector<year_month> months{feb, feb + std::chrono::months(1)};
  f.block(ai_router::ensure_usage_partitions(*f.db, months));
  f.workspace(kA, "2030-12-01T00:00:00Z");
  f.workspace(kB, "2031-02-10T00:00:00Z");
  f.workspace(kLate, "2031-03-01T00:01:00Z");  // created after February: no February invoice
  f.spend(kA, "2031-02-03T10:00:00Z", 4'000'000);
  f.spend(kA, "2031-02-27T10:00:00Z", 3'000'001);  // $7.000001 in all, $5 included
  f.spend(kA, "2031-03-01T00:00:01Z", 9'000'000);  // March: not on February's invoice
  f.spend(kB, "2031-02-15T00:00:00Z", 100);

  // Three runs at once, then one more: one invoice per workspace.
  auto r1 = f.io.spawn(f.billing.invoice_month(feb, nullptr));
  auto r2 = f.io.spawn(f.billing.invoice_month(feb, nullptr));
  auto r3 = f.io.spawn(f.billing.invoice_month(feb, nullptr));
  CHECK(r1.get() + r2.get() + r3.get() == 2);
  CHECK(f.block(f.billing.invoice_month(feb, nullptr)) == 0);
  CHECK(f.scalar("SELECT count(*) FROM content.invoices") == "2");
  CHECK(f.scalar("SELECT count(*) FROM content.invoice_lines") == "8");

  // A: the plan, and AI beyond the included $5: $2.000001 + 20% = $2.4000012, a started cent counts.
  CHECK(f.scalar(std::string("SELECT total_cents FROM content.invoices WHERE creator_id = '") + kA + "'") ==
        std::to_string(2900 + 241));
  CHECK(f.scalar(std::string("SELECT amount_cents FROM content.invoice_lines l JOIN content.invoices i ON i.id = "
                             "l.invoice_id WHERE i.creator_id = '") + kA + "' AND l.code = 'ai_usage'") == "241");
  CHECK(f.scalar(std::string("SELECT total_cents FROM content.invoices WHERE creator_id = '") + kB + "'") == "2900");

  // A canceled workspace gets no invoice for the next month.
  f.query("INSERT INTO content.workspace_plans (creator_id, plan, status, updated_at) VALUES ($1::uuid, 'starter', "
          "'canceled', now())", test::dbt::params(std::string(kB)));
  f.plans.forget(*Uuid::parse(kB));
  const year_month march{std::chrono::year(2031), std::chrono::March};
  CHECK(f.block(f.billing.invoice_month(march, nullptr)) == 2);  // A and the late one
  CHECK(f.scalar(std::string("SELECT count(*) FROM content.invoices WHERE creator_id = '") + kB + "'") == "1");
}

namespace {

// Media's figures for invoices; fails for one workspace while `broken`.
struct FakeMedia final : content::MediaUsageSource {
  boost::asio::awaitable<content::MediaUsage> usage(Uuid workspace, SysTime, SysTime) override {
    if (broken && workspace == *Uuid::parse(kB)) throw std::runtime_error("media figures unavailable");
    co_return content::MediaUsage{.storage_bytes = 3ull << 30, .videos = 12};
  }
  std::atomic<bool> broken{true};
};

}  // namespace

TEST_CASE("one workspace that cannot be invoiced does not hold up the others", "[content][billing]") {
  BillingDb f;
  FakeMedia media;
  content::Billing billing(*f.db, f.clock, f.plans, &media, f.config);
  f.config.storage_overage_cents_per_gib = 100;
  f.config.video_overage_cents = 50;
  const year_month feb{std::chrono::year(2031), std::chrono::February};
  f.workspace(kA, "2030-12-01T00:00:00Z");
  f.workspace(kB, "2030-12-01T00:00:00Z");
  f.workspace(kLate, "2030-12-01T00:00:00Z");
  // B fails: A and the third are invoiced, and the run says it failed.
  CHECK_THROWS(f.block(billing.invoice_month(feb, nullptr)));
  CHECK(f.scalar("SELECT count(*) FROM content.invoices") == "2");
  CHECK(f.scalar(std::string("SELECT count(*) FROM content.invoices WHERE creator_id = '") + kB + "'") == "0");
  // Media's figures are billed: 2 GiB over the starter plan's 1 GiB, 2 videos over its 10.
  CHECK(f.scalar(std::string("SELECT total_cents FROM content.invoices WHERE creator_id = '") + kA + "'") ==
        std::to_string(2900 + 2 * 100 + 2 * 50));
  // The retry makes only the missing invoice.
  media.broken = false;
  CHECK(f.block(billing.invoice_month(feb, nullptr)) == 1);
  CHECK(f.scalar("SELECT count(*) FROM content.invoices") == "3");
}

TEST_CASE("plans set the router's budget: the plan's cap, none for a canceled workspace", "[content][billing]") {
  BillingDb f;
  f.workspace(kA, "2030-12-01T00:00:00Z");
  CHECK(f.block(f.plans.monthly_budget_micros(kA)) == 2000 * 10'000);
  f.query("INSERT INTO content.workspace_plans (creator_id, plan, status, updated_at) VALUES ($1::uuid, 'pro', "
          "'active', now())", test::dbt::params(std::string(kA)));
  CHECK(f.block(f.plans.monthly_budget_micros(kA)) == 2000 * 10'000);  // remembered for a while
  f.plans.forget(*Uuid::parse(kA));
  CHECK_FALSE(f.block(f.plans.monthly_budget_micros(kA)).has_value());  // pro has no cap of its own
  f.query("UPDATE content.workspace_plans SET status = 'canceled'");
  f.clock.advance(std::chrono::minutes(1));
  CHECK(f.block(f.plans.monthly_budget_micros(kA)) == 0);
}

namespace {

std::string stripe_event(const std::string& id, const std::string& type, int64_t created, const std::string& object) {
  return R"({"id":")" + id + R"(","object":"event","type":")" + type + R"(","created":)" + std::to_string(created) +
         R"(,"data":{"object":)" + object + "}}";
}

std::string subscription(const std::string& ws, const std::string& status, const std::string& price) {
  return R"({"id":"sub_1","object":"subscription","customer":"cus_1","status":")" + status +
         R"(","current_period_end":1900000000,"metadata":{"workspace_id":")" + ws +
         R"("},"items":{"object":"list","data":[{"id":"si_1","price":{"id":")" + price + R"("}}]}})";
}

}  // namespace

TEST_CASE("the Stripe webhook: signatures, replays, duplicates and late events", "[content][billing][stripe]") {
  using namespace huntaze::test::contentt;
  ContentApp t([](app::AppConfig& c) {
    c.content.billing = billing_config();
    c.content.billing.stripe_webhook_secret = Secret(kStripeSecret);
  });
  auto u = t.sign_up_and_log_in("creator@example.com");
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  auto deliver = [&](const std::string& body, int64_t signed_at, const std::string& secret = kStripeSecret) {
    return t.call("POST", "/api/v1/billing/stripe/webhook", body,
                  "Stripe-Signature: " + content::sign_payload(secret, signed_at, body) + "\r\n");
  };
  CHECK(t.as(u.access, "GET", "/api/v1/billing").str("plan") == "starter");

  const std::string upgrade = stripe_event("evt_1", "customer.subscription.updated", now - 60,
                                           subscription(u.workspace, "active", "price_pro"));
  Reply ok = deliver(upgrade, now);
  REQUIRE(ok.status == 200);
  CHECK(ok.str("outcome") == "applied");
  Reply summary = t.as(u.access, "GET", "/api/v1/billing");
  CHECK(summary.str("plan") == "pro");
  CHECK(summary.str("status") == "active");

  // Bad signature, a timestamp outside the window, no header: refused, nothing recorded.
  CHECK(deliver(upgrade, now, "whsec_wrong").status == 400);
  CHECK(deliver(upgrade, now - 3600).code() == "invalid_signature");
  CHECK(t.call("POST", "/api/v1/billing/stripe/webhook", upgrade).status == 400);
  // The same event again (Stripe retries): acknowledged, applied once.
  Reply again = deliver(upgrade, now);
  CHECK(again.status == 200);
  CHECK(again.body.at("duplicate").as_bool());
  CHECK(t.scalar("SELECT count(*) FROM content.stripe_events") == "1");

  // A payment failure, then an older subscription event arriving late: the late one changes nothing.
  Reply failed = deliver(stripe_event("evt_2", "invoice.payment_failed", now - 30, R"({"id":"in_1","customer":"cus_1"})"),
                         now);
  CHECK(failed.str("outcome") == "applied");
  CHECK(t.as(u.access, "GET", "/api/v1/billing").str("status") == "past_due");
  Reply late = deliver(stripe_event("evt_0", "customer.subscription.updated", now - 600,
                                    subscription(u.workspace, "active", "price_starter")),
                       now);
  CHECK(late.str("outcome").find("ignored") == 0);
  CHECK(t.as(u.access, "GET", "/api/v1/billing").str("plan") == "pro");
  // Types we do not act on are acknowledged; a body that is no event is refused.
  CHECK(deliver(stripe_event("evt_3", "charge.refunded", now, R"({"id":"ch_1"})"), now).str("outcome").find("ignored") ==
        0);
  CHECK(deliver(R"({"hello":"world"})", now).status == 400);

  // Canceled: the router refuses the workspace's AI calls.
  deliver(stripe_event("evt_4", "customer.subscription.deleted", now, subscription(u.workspace, "canceled", "price_pro")),
          now);
  CHECK(t.as(u.access, "GET", "/api/v1/billing").str("status") == "canceled");
  // A paid invoice afterwards does not bring a canceled subscription back.
  deliver(stripe_event("evt_5", "invoice.paid", now + 1, R"({"id":"in_2","customer":"cus_1"})"), now);
  CHECK(t.as(u.access, "GET", "/api/v1/billing").str("status") == "canceled");
  t.ingest(u.access, "messages", json::array{ContentApp::message("m1", "f1", minutes_ago(1), "hi")});
  const std::string fan = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'f1'");
  Reply refused = t.as(u.access, "POST", "/api/v1/conversations/" + fan + "/suggestions");
  CHECK(refused.status == 402);
  CHECK(refused.code() == "budget_exceeded");
}

TEST_CASE("a workspace whose plan ended gets no AI, not even a downgraded route", "[content][billing]") {
  using namespace huntaze::test::contentt;
  ContentApp t([](app::AppConfig& c) { c.ai.budgets.downgrade = true; });
  auto u = t.sign_up_and_log_in("creator@example.com");
  test::admin_exec(t.url, "INSERT INTO content.workspace_plans (creator_id, plan, status, updated_at) VALUES ('" +
                              u.workspace + "', 'default', 'canceled', now())");
  t.ingest(u.access, "messages", json::array{ContentApp::message("m1", "f1", minutes_ago(1), "hi")});
  const std::string fan = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'f1'");
  Reply refused = t.as(u.access, "POST", "/api/v1/conversations/" + fan + "/suggestions");
  CHECK(refused.status == 402);
  CHECK(refused.code() == "budget_exceeded");
}

TEST_CASE("invoices are the workspace's managers' to read", "[content][billing][roles]") {
  using namespace huntaze::test::contentt;
  ContentApp t;
  auto owner = t.sign_up_and_log_in("owner@example.com");
  auto viewer = t.sign_up_and_log_in("viewer@example.com");
  t.join(owner, viewer, "viewer");
  auto other = t.sign_up_and_log_in("other@example.com");
  const std::string period = "2031-01-01T00:00:00Z";
  const std::string id = "0190a000-0000-7000-8000-0000000000aa";
  test::admin_exec(t.url, "INSERT INTO content.invoices (id, creator_id, period_start, period_end, plan, currency, "
                          "total_cents, status, created_at) VALUES ('" + id + "', '" + owner.workspace + "', '" + period +
                          "', '2031-02-01T00:00:00Z', 'default', 'USD', 2900, 'issued', now());"
                          "INSERT INTO content.invoice_lines VALUES ('" + id + "', 0, 'plan', 'Plan default', 1, 'month', 2900)");
  Reply list = t.as(owner.access, "GET", "/api/v1/billing/invoices");
  REQUIRE(list.status == 200);
  CHECK(list.body.at("items").as_array().size() == 1);
  Reply one = t.as(owner.access, "GET", "/api/v1/billing/invoices/" + id);
  CHECK(one.body.at("lines").at(0).at("amount_cents") == 2900);
  const std::string ws = "X-Huntaze-Workspace: " + owner.workspace + "\r\n";
  CHECK(t.as(viewer.access, "GET", "/api/v1/billing/invoices", "", ws).status == 403);
  CHECK(t.as(viewer.access, "GET", "/api/v1/billing", "", ws).status == 200);
  CHECK(t.as(other.access, "GET", "/api/v1/billing/invoices/" + id).status == 404);
  CHECK(t.as(other.access, "GET", "/api/v1/billing/invoices").body.at("items").as_array().empty());
  CHECK(t.call("POST", "/api/v1/billing/stripe/webhook", "{}", "Stripe-Signature: t=1,v1=00\r\n").code() ==
        "stripe_not_configured");
}
