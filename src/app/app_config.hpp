// The whole configuration: every area's section, parsed and validated.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "ai_router/budgets.hpp"
#include "ai_router/router_config.hpp"
#include "ai_router/usage_log.hpp"
#include "auth/auth_config.hpp"
#include "content/content_config.hpp"
#include "huntaze/ai_router/catalog.hpp"
#include "huntaze/core/config.hpp"
#include "huntaze/http/client_config.hpp"
#include "huntaze/cron/cron.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/db/config.hpp"
#include "huntaze/http/config.hpp"
#include "huntaze/jobs/config.hpp"
#include "huntaze/mail/config.hpp"
#include "huntaze/redis/config.hpp"
#include "media/media_config.hpp"

namespace huntaze::app {

// `metrics:` — the operations endpoints (/healthz, /readyz, /metrics).
struct MetricsConfig {
  bool enabled = true;
  // Empty: served on the main listener. "host:port": a separate admin listener
  // for /metrics, /healthz and /readyz (keep it off the public network).
  std::string listen;
  std::chrono::milliseconds readiness_timeout{1000};
};

// `compute:` — the thread pool for CPU-bound work.
struct ComputeConfig {
  int threads = 0;  // 0: one per core
};

// `ai:` — the model catalog, routing behaviour and the usage log; the one
// section reloaded on SIGHUP (deployments, routes, prices, keys, retries).
struct AiConfig {
  ai_router::Catalog catalog;
  ai_router::RouterConfig router;
  ai_router::UsageLogConfig usage;
  ai_router::BudgetConfig budgets;
  // The OpenAI-compatible API, usage and models routes; on the admin
  // listener only until accounts protect them.
  bool http_api = false;
};
AiConfig parse_ai_config(config::Node ai);

struct AppConfig {
  http::ServerConfig server;
  db::DatabaseConfig database;
  redis::RedisConfig redis;
  log::LogConfig log;
  MetricsConfig metrics;
  ComputeConfig compute;
  jobs::JobsConfig jobs;
  cron::CronConfig cron;
  AiConfig ai;
  auth::AuthConfig auth;
  content::ContentConfig content;
  media::MediaConfig media;
  mail::MailConfig mail;
  http::HttpClientConfig http_client;  // `http_client:` the outbound client
  std::string source;                  // the file it came from ("" when not from a file)
  // "key.path = value" lines, secrets redacted (check-config prints them).
  std::vector<std::pair<std::string, std::string>> effective;
};

// Parses and validates every section; throws config::ConfigError naming the
// file, line, column and key of the first problem.
AppConfig load_config(config::Document& doc);
AppConfig load_config_file(const std::string& path);

// host:port split for metrics.listen; nullopt when malformed.
std::optional<std::pair<std::string, int>> split_host_port(const std::string& text);

}  // namespace huntaze::app
