// The `content:` section: ingestion limits and the signed-webhook key, the
// messages' partition window and archive age, and how long Idempotency-Key
// answers are kept.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::content {

struct IngestConfig {
  int max_items = 1000;                   // per batch; more is 413
  size_t body_limit = 16u << 20;          // bytes per ingestion request
  // Derives each workspace's webhook secret (see signed_payload.hpp);
  // empty: signed-webhook ingestion is off (503 webhook_not_configured).
  Secret webhook_key;
  std::chrono::seconds webhook_tolerance{std::chrono::minutes(5)};  // replay window of the timestamp
};

struct MessagesConfig {
  // Months older than this are moved out of content.messages into the
  // content_archive schema by content.archive; ingestion refuses messages
  // that old (their month is archived or about to be).
  std::chrono::hours archive_after{std::chrono::days(730)};
  int months_ahead = 2;  // partitions kept ready after the current month
  // How far in the future a message may be dated (clock skew of connectors).
  std::chrono::seconds max_future{std::chrono::days(1)};
};

struct SuggestionsConfig {
  std::string task = "generate";  // the router task that writes replies: generate or creative
  int count = 2;                   // replies per request
  int history = 20;                // latest messages of the conversation in the prompt
  int max_tokens = 400;
  double temperature = 0.7;
  // suggestions.prepare: every 5 minutes, suggestions for conversations
  // whose fan wrote last within `prepare_window`, so they are ready (and
  // cached) when a chatter opens them. Off by default: lazy is cheaper.
  bool prepare = false;
  std::chrono::seconds prepare_window{std::chrono::hours(24)};
  int prepare_batch = 50;  // conversations per run
  // Suggestions and their feedback are kept this long (acceptance stats
  // look back at most 400 days).
  std::chrono::seconds retention{std::chrono::days(90)};
};

// A plan of `content.billing.plans`. Money in cents.
struct Plan {
  std::string name;
  int64_t price_cents = 0;        // per month
  int64_t ai_included_cents = 0;  // AI usage the price covers; beyond it is billed at cost (+ markup)
  int64_t ai_budget_cents = 0;    // the month's AI cap passed to the router; 0: no cap of the plan's own
  uint64_t storage_bytes = 10ull << 30;
  int64_t videos_per_month = 100;
  std::string stripe_price;  // the Stripe price id whose subscription means this plan
};

struct BillingConfig {
  std::map<std::string, Plan> plans{{"default", Plan{.name = "default"}}};  // by name; always holds default_plan
  std::string default_plan = "default";
  int ai_markup_percent = 0;                 // on AI usage beyond what the plan includes
  int64_t storage_overage_cents_per_gib = 0;  // per started GiB beyond the plan, per month
  int64_t video_overage_cents = 0;            // per video beyond the plan
  Secret stripe_webhook_secret;               // whsec_...; empty: the Stripe webhook is off
  std::chrono::seconds stripe_tolerance{std::chrono::minutes(5)};
  std::string currency = "USD";

  const Plan& plan(const std::string& name) const;  // the default plan for unknown names
};

struct ContentConfig {
  IngestConfig ingest;
  MessagesConfig messages;
  SuggestionsConfig suggestions;
  BillingConfig billing;
  std::chrono::seconds idempotency_ttl{std::chrono::hours(24)};
};

ContentConfig parse_content_config(config::Node section);

}  // namespace huntaze::content
