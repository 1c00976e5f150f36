// The `content:` section: ingestion limits and the signed-webhook key, the
// messages' partition window and archive age, and how long Idempotency-Key
// answers are kept.
#pragma once

#include <chrono>
#include <cstddef>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::content {

struct IngestConfig {
  int max_items = 1000;                   // per batch; more is 413
  size_t body_limit = 16u << 20;          // bytes per ingestion request
  // Derives each workspace's webhook secret (see webhook_signature.hpp);
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

struct ContentConfig {
  IngestConfig ingest;
  MessagesConfig messages;
  std::chrono::seconds idempotency_ttl{std::chrono::hours(24)};
};

ContentConfig parse_content_config(config::Node section);

}  // namespace huntaze::content
