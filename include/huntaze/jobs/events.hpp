// Event topics: the in-process replacement for Service Bus topics and
// subscriptions.
//
//   // at start-up (register_jobs):
//   registry.subscribe({.name = "notify.media_ready", .topic = "media",
//                       .filter = {.types = {"media.ready"}},
//                       .handler = [&](jobs::JobContext& job) -> asio::awaitable<void> { ... }});
//   // in a request, inside the transaction that made the change:
//   co_await queue.publish(tx, {.topic = "media", .type = "media.ready", .data = R"({"id":"..."})",
//                               .attributes = {{"creator_id", id}}});
//
// publish() writes one job per matching subscription in the caller's
// transaction, so the event exists exactly when the change does. Each
// subscription's jobs have their own queue, retry policy and dead letters
// (discarded jobs of kind "event:<subscription name>").
// Thread-safety: value types.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "huntaze/jobs/job.hpp"

namespace huntaze::jobs {

struct Event {
  std::string topic;
  std::string type;
  std::string data = "{}";  // a JSON object
  // Small routing facts that filters can test (creator_id, platform, ...).
  std::map<std::string, std::string> attributes;
};

// Matches when the type is listed (or the list is empty; "media.*" matches
// every type starting with "media.") and every listed attribute is present
// with exactly that value.
struct EventFilter {
  std::vector<std::string> types;
  std::map<std::string, std::string> attributes;

  bool matches(const Event& event) const;
};

}  // namespace huntaze::jobs
