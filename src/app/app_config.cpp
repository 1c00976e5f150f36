#include "app/app_config.hpp"

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
  if (c.jobs.admin_api && c.metrics.listen.empty())
    root.section("jobs").fail("admin_api", "needs the admin listener (metrics.listen): the admin API has no other protection yet");

  doc.finish();
  c.effective = doc.effective();
  return c;
}

AppConfig load_config_file(const std::string& path) {
  auto doc = config::Document::load_file(path);
  return load_config(doc);
}

}  // namespace huntaze::app
