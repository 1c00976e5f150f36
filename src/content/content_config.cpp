#include "content/content_config.hpp"

namespace huntaze::content {

using namespace std::chrono_literals;

namespace {

std::chrono::seconds seconds(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::seconds>(ms);
}

}  // namespace

const Plan& BillingConfig::plan(const std::string& name) const {
  auto it = plans.find(name);
  return it != plans.end() ? it->second : plans.at(default_plan);
}

BillingConfig parse_billing_config(config::Node node) {
  BillingConfig b;
  auto plans = node.section("plans");
  const auto names = plans.keys();
  if (!names.empty()) b.plans.clear();
  for (const auto& name : names) {
    auto p = plans.section(name);
    Plan plan;
    plan.name = name;
    plan.price_cents = p.get_int("price_cents", 0, 0, 100'000'000);
    plan.ai_included_cents = p.get_int("ai_included_cents", 0, 0, 100'000'000);
    plan.ai_budget_cents = p.get_int("ai_budget_cents", 0, 0, 100'000'000);
    plan.storage_bytes = p.get_size("storage", plan.storage_bytes, 0, 1ull << 50);
    plan.videos_per_month = p.get_int("videos_per_month", plan.videos_per_month, 0, 1'000'000);
    plan.stripe_price = p.get_string("stripe_price", "");
    p.finish();
    b.plans.emplace(name, std::move(plan));
  }
  b.default_plan = node.get_string("default_plan", names.empty() ? b.default_plan : names.front());
  if (!b.plans.contains(b.default_plan)) node.fail("default_plan", "names no plan of content.billing.plans");
  b.ai_markup_percent = static_cast<int>(node.get_int("ai_markup_percent", 0, 0, 1000));
  b.storage_overage_cents_per_gib = node.get_int("storage_overage_cents_per_gib", 0, 0, 100'000);
  b.video_overage_cents = node.get_int("video_overage_cents", 0, 0, 100'000);
  b.currency = node.get_string("currency", b.currency);
  b.stripe_webhook_secret = node.get_secret("stripe_webhook_secret");
  b.stripe_tolerance = seconds(node.get_duration("stripe_tolerance", b.stripe_tolerance, 10s, 1h));
  node.finish();
  return b;
}

ContentConfig parse_content_config(config::Node section) {
  ContentConfig c;
  auto ingest = section.section("ingest");
  c.ingest.max_items = static_cast<int>(ingest.get_int("max_items", c.ingest.max_items, 1, 10'000));
  c.ingest.body_limit = ingest.get_size("body_limit", c.ingest.body_limit, 64 * 1024, 256ull << 20);
  c.ingest.webhook_key = ingest.get_secret("webhook_key");
  if (!c.ingest.webhook_key.empty() && c.ingest.webhook_key.reveal().size() < 32)
    ingest.fail("webhook_key", "must be at least 32 characters (it derives every workspace's webhook secret)");
  c.ingest.webhook_tolerance = seconds(ingest.get_duration("webhook_tolerance", c.ingest.webhook_tolerance, 10s, 1h));
  ingest.finish();

  auto messages = section.section("messages");
  c.messages.archive_after = std::chrono::duration_cast<std::chrono::hours>(
      messages.get_duration("archive_after", c.messages.archive_after, std::chrono::days(62), std::chrono::days(36500)));
  c.messages.months_ahead = static_cast<int>(messages.get_int("months_ahead", c.messages.months_ahead, 1, 24));
  c.messages.max_future = seconds(messages.get_duration("max_future", c.messages.max_future, 0s, std::chrono::days(30)));
  messages.finish();

  auto suggestions = section.section("suggestions");
  auto& sg = c.suggestions;
  sg.task = suggestions.get_enum("task", sg.task, {"generate", "creative"});
  sg.count = static_cast<int>(suggestions.get_int("count", sg.count, 1, 5));
  sg.history = static_cast<int>(suggestions.get_int("history", sg.history, 1, 200));
  sg.max_tokens = static_cast<int>(suggestions.get_int("max_tokens", sg.max_tokens, 16, 4000));
  sg.temperature = suggestions.get_double("temperature", sg.temperature, 0.0, 2.0);
  sg.prepare = suggestions.get_bool("prepare", sg.prepare);
  sg.prepare_window =
      seconds(suggestions.get_duration("prepare_window", sg.prepare_window, 5min, std::chrono::days(7)));
  sg.prepare_batch = static_cast<int>(suggestions.get_int("prepare_batch", sg.prepare_batch, 1, 1000));
  sg.retention = seconds(suggestions.get_duration("retention", sg.retention, std::chrono::days(1), std::chrono::days(400)));
  suggestions.finish();

  c.billing = parse_billing_config(section.section("billing"));

  c.idempotency_ttl = seconds(section.get_duration("idempotency_ttl", c.idempotency_ttl, 1min, std::chrono::days(30)));
  section.finish();
  return c;
}

}  // namespace huntaze::content
