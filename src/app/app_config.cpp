#include "app/app_config.hpp"

#include <cmath>

namespace huntaze::app {

std::optional<std::pair<std::string, int>> split_host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
    if (port > 65535) return std::nullopt;
  }
  return std::make_pair(host, port);
}

AiConfig parse_ai_config(config::Node ai) {
  using namespace std::chrono_literals;
  AiConfig c;
  c.catalog = ai_router::parse_catalog(ai);
  c.router = ai_router::parse_router_config(ai);
  c.http_api = ai.get_bool("http_api", c.http_api);
  auto usage = ai.section("usage");
  c.usage.batch = static_cast<int>(usage.get_int("batch", c.usage.batch, 1, 10'000));
  c.usage.flush_every = usage.get_duration("flush_every", c.usage.flush_every, 10ms, std::chrono::milliseconds(60'000));
  c.usage.max_pending = usage.get_int("max_pending", static_cast<int64_t>(c.usage.max_pending), 100, 10'000'000);
  c.usage.retention = std::chrono::duration_cast<std::chrono::hours>(usage.get_duration(
      "retention", c.usage.retention, std::chrono::hours(24 * 31), std::chrono::hours(24 * 3650)));
  c.usage.sample_rate = usage.get_double("sample_rate", c.usage.sample_rate, 0, 1);
  c.usage.sample_retention = std::chrono::duration_cast<std::chrono::hours>(usage.get_duration(
      "sample_retention", c.usage.sample_retention, std::chrono::hours(1), std::chrono::hours(24 * 90)));
  usage.finish();
  auto budgets = ai.section("budgets");
  auto usd = [&](const char* key) {
    return static_cast<int64_t>(std::llround(budgets.get_double(key, 0, 0, 10'000'000) * 1e6));
  };
  c.budgets.workspace_monthly_micros = usd("workspace_monthly_usd");
  c.budgets.platform_monthly_micros = usd("platform_monthly_usd");
  c.budgets.workspace_rpm = static_cast<int>(budgets.get_int("workspace_rpm", c.budgets.workspace_rpm, 0, 1'000'000));
  c.budgets.workspace_tpm =
      static_cast<int>(budgets.get_int("workspace_tpm", c.budgets.workspace_tpm, 0, 1'000'000'000));
  c.budgets.downgrade = budgets.get_bool("downgrade", c.budgets.downgrade);
  budgets.finish();
  return c;
}

AppConfig load_config(config::Document& doc) {
  using namespace std::chrono_literals;
  auto root = doc.root();
  AppConfig c;
  c.server = http::parse_server_config(root.section("server"));
  c.database = db::parse_database_config(root.section("database"));
  c.redis = redis::parse_redis_config(root.section("redis"));
  c.log = log::parse_log_config(root.section("log"));

  auto metrics = root.section("metrics");
  c.metrics.enabled = metrics.get_bool("enabled", c.metrics.enabled);
  c.metrics.listen = metrics.get_string("listen", c.metrics.listen);
  if (!c.metrics.listen.empty() && !split_host_port(c.metrics.listen))
    metrics.fail("listen", "expected host:port, got '" + c.metrics.listen + "'");
  c.metrics.readiness_timeout =
      metrics.get_duration("readiness_timeout", c.metrics.readiness_timeout, 10ms, std::chrono::milliseconds(60'000));

  auto compute = root.section("compute");
  c.compute.threads = static_cast<int>(compute.get_int("threads", c.compute.threads, 0, 256));

  c.jobs = jobs::parse_jobs_config(root.section("jobs"));
  c.cron = cron::parse_cron_config(root.section("cron"));
  c.ai = parse_ai_config(root.section("ai"));
  c.http_client = http::parse_http_client_config(root.section("http_client"));
  c.auth = auth::parse_auth_config(root.section("auth"));
  c.mail = mail::parse_mail_config(root.section("mail"));
  c.content = content::parse_content_config(root.section("content"));
  c.media = media::parse_media_config(root.section("media"));

  doc.finish();
  c.effective = doc.effective();
  return c;
}

AppConfig load_config_file(const std::string& path) {
  auto doc = config::Document::load_file(path);
  AppConfig c = load_config(doc);
  c.source = path;
  return c;
}

}  // namespace huntaze::app
