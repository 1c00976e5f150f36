// The content tests' fixture: the whole App (auth_fixture.hpp) with the
// signed-webhook key set, plus helpers for ingestion batches.
#pragma once

#include <set>

#include "auth_fixture.hpp"
#include "huntaze/ai_router/catalog.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::test::contentt {

using namespace huntaze::test::autht;

inline constexpr const char* kWebhookKey = "test-webhook-key-0123456789-abcdefghijklmnop";

// RFC 3339 for `minutes` before now, whole seconds: message times relative to now.
inline std::string minutes_ago(int minutes) {
  const auto t = std::chrono::floor<std::chrono::seconds>(SystemClock().now()) - std::chrono::minutes(minutes);
  return format_iso8601(t);
}

class ContentApp : public AuthApp {
 public:
  explicit ContentApp(const std::function<void(app::AppConfig&)>& adjust = {})
      : AuthApp([&](app::AppConfig& c) {
          c.content.ingest.webhook_key = Secret(kWebhookKey);
          // A fresh install: no model keys, the writing task answered offline.
          ai_router::Deployment templates;
          templates.name = templates.alias = templates.model = "templates";
          templates.provider = ai_router::Provider::templates;
          templates.auth = ai_router::Auth::none;
          c.ai.catalog.deployments = {templates};
          c.ai.catalog.routes = {{"generate", {"templates"}}, {"creative", {"templates"}}};
          if (adjust) adjust(c);
        }) {}

  // POST /api/v1/ingest/<kind> with {"platform": platform, "items": items}.
  Reply ingest(const std::string& token, const std::string& kind, const json::array& items,
               const std::string& headers = "", const std::string& platform = "onlyfans") {
    json::object body{{"platform", platform}, {"items", items}};
    return as(token, "POST", "/api/v1/ingest/" + kind, json::serialize(body), headers);
  }

  static json::object message(const std::string& id, const std::string& fan, const std::string& sent_at,
                              const std::string& body = "hi", const std::string& direction = "in") {
    return json::object{{"platform_message_id", id},
                        {"platform_fan_id", fan},
                        {"direction", direction},
                        {"body", body},
                        {"sent_at", sent_at}};
  }

  // The status of each item of an ingestion answer, in order.
  static std::vector<std::string> statuses(const Reply& r) {
    std::vector<std::string> out;
    for (const auto& item : r.body.at("items").as_array()) out.emplace_back(item.at("status").as_string());
    return out;
  }
  static int64_t count(const Reply& r, const char* what) { return r.body.at(what).to_number<int64_t>(); }
};

}  // namespace huntaze::test::contentt
