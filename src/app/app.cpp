#include "app/app.hpp"

#include <boost/asio.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <iostream>
#include <thread>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "ai_router/api_routes.hpp"
#include "ai_router/budget_events.hpp"
#include "ai_router/budgets.hpp"
#include "ai_router/make_router.hpp"
#include "ai_router/response_cache.hpp"
#include "ai_router/usage_log.hpp"
#include "ai_router/usage_partitions.hpp"
#include "app/ops_routes.hpp"
#include "auth/auth_module.hpp"
#include "content/content_module.hpp"
#include "content/saved_reply_templates.hpp"
#include "content/workspace_plans.hpp"
#include "media/media_module.hpp"
#include "app/product_schedules.hpp"
#include "app/process_metrics.hpp"
#include "db/pg_pool.hpp"
#include "http/curl_client.hpp"
#include "http/server.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/cron/cron.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/db/migrations.hpp"
#include "huntaze/http/middleware.hpp"
#include "cron/admin_routes.hpp"
#include "jobs/admin_routes.hpp"
#include "jobs/maintenance.hpp"
#include "jobs/pg_job_queue.hpp"
#include "jobs/worker.hpp"
#include "huntaze/mail/jobs.hpp"
#include "mail/smtp_mailer.hpp"
#include "redis/redis_client.hpp"

#ifndef HUNTAZE_VERSION
#define HUNTAZE_VERSION "dev"
#endif

namespace huntaze::app {

namespace asio = boost::asio;

namespace {

int resolve_threads(int configured) {
  if (configured > 0) return configured;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int>(n);
}

asio::awaitable<int> apply_migrations(db::Database& database) {
  db::Migrator migrator(database, db::embedded_migrations());
  co_return co_await migrator.apply();
}

}  // namespace

struct App::Impl {
  explicit Impl(AppConfig cfg)
      : config(std::move(cfg)),
        io_threads(resolve_threads(config.server.io_threads)),
        ioc(io_threads),
        work(asio::make_work_guard(ioc)),
        compute(resolve_threads(config.compute.threads)),
        signals(ioc),
        reload_signals(ioc) {}

  AppConfig config;
  int io_threads;
  metrics::Registry metrics;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  Compute compute;
  std::shared_ptr<db::Database> database;
  std::shared_ptr<redis::Redis> redis;
  SystemClock clock;
  jobs::JobRegistry job_registry;
  std::unique_ptr<jobs::JobQueue> job_queue;
  std::unique_ptr<jobs::Worker> worker;
  std::unique_ptr<cron::Cron> cron;
  std::unique_ptr<http::HttpClient> http_client;
  std::unique_ptr<ai_router::ResponseCache> ai_cache;
  std::unique_ptr<ai_router::UsageLog> ai_usage;
  std::unique_ptr<ai_router::Budgets> ai_budgets;
  std::unique_ptr<ai_router::BudgetAlertPublisher> budget_alerts;
  std::unique_ptr<ai_router::Router> ai_router;
  std::unique_ptr<mail::Mailer> mailer;
  std::unique_ptr<auth::AuthModule> auth;
  std::unique_ptr<content::ContentModule> content;
  std::unique_ptr<media::MediaModule> media;  // built before content: it reports media usage for invoices
  std::unique_ptr<content::SavedReplyTemplates> saved_replies;
  std::unique_ptr<content::WorkspacePlans> plans;  // billing's plans: the router's per-workspace budgets

  http::Router router;
  std::unique_ptr<http::Server> server;
  http::Router admin_router;
  std::unique_ptr<http::Server> admin_server;

  asio::signal_set signals;
  asio::signal_set reload_signals;  // SIGHUP: re-read the ai section
  std::vector<std::thread> threads;
  std::atomic<bool> stop_requested{false};
  std::atomic<int> exit_code{0};

  // The public listener also limits requests per client address; the admin
  // listener is for operators on a private network.
  http::Handler pipeline_for(const http::Router& r, bool access_log, bool public_listener) {
    std::vector<http::Middleware> chain{http::request_id(), http::observe(metrics, {.access_log = access_log}),
                                        http::security_headers(), http::cors(config.server.cors), http::errors()};
    // /healthz (no I/O) stays out of it: a liveness probe must not wait on
    // Redis, and the limit would cost it a round trip per probe.
    if (public_listener) chain.push_back(auth->ip_limit({"/healthz"}));
    return http::build_pipeline(std::move(chain), r);
  }

  // Accounts, then the operator and AI APIs behind the guard: the job and
  // cron admin routes for platform admins, the AI API for chatters and up
  // (its workspace is the caller's).
  void register_public_routes() {
    auth->register_routes(router);
    content->register_routes(router);
    media->register_routes(router);
    auth::Guard& guard = auth->guard();
    if (config.jobs.admin_api) {
      router.set_wrapper([&guard](http::Handler h) {
        return auth::guarded(guard, auth::Requirement{.workspace = false, .scope = auth::scope_admin,
                                                      .platform_admin = true},
                             std::move(h));
      });
      jobs::register_jobs_admin_routes(router, {*database, clock, config.jobs.errors_kept});
      cron::register_cron_admin_routes(router, *cron);
    }
    if (config.ai.http_api) {
      router.set_wrapper([&guard](http::Handler h) {
        return auth::guarded(guard, auth::Requirement{.role = auth::Role::chatter, .scope = auth::scope_read},
                             std::move(h));
      });
      ai_router::register_ai_routes(router, {*ai_router, *database, clock});
    }
    router.set_wrapper({});
  }

  asio::awaitable<void> startup() {
    if (config.database.migrate_on_start) {
      int applied = co_await apply_migrations(*database);
      log::info("migrations applied", {{"count", applied}});
    }
    if (ai_usage) co_await ai_usage->start();
    if (worker) co_await worker->start();
    if (config.cron.enabled) asio::co_spawn(ioc, cron->run(), asio::detached);
  }

  // Job kinds and schedules of every module, then the operator's per-kind
  // retry policies from the configuration.
  void build_jobs() {
    jobs::register_maintenance_jobs(job_registry, *database, clock, config.jobs);
    ai_router::register_usage_jobs(job_registry, *database, clock, config.ai.usage);
    ai_router::register_budget_jobs(job_registry, *ai_budgets);
    mailer = mail::make_smtp_mailer(ioc.get_executor(), config.mail, metrics);
    mail::register_mail_jobs(job_registry, *mailer);
    job_queue = jobs::make_pg_job_queue(job_registry, clock, metrics);
    auth = std::make_unique<auth::AuthModule>(
        auth::AuthDeps{*database, *redis, compute, *job_queue, clock, metrics, *http_client}, config.auth);
    auth->register_jobs(job_registry);  // before the worker and cron take the registry's kinds
    media = std::make_unique<media::MediaModule>(
        media::MediaDeps{*database, compute, clock, metrics, auth->guard(), *job_queue, *ai_router, *plans,
                         *http_client},
        config.media);
    media->register_jobs(job_registry);
    content = std::make_unique<content::ContentModule>(
        content::ContentDeps{*database, compute, clock, metrics, auth->guard(), *job_queue, *ai_router,
                             saved_replies.get(), *plans, media.get()},
        config.content);
    content->register_jobs(job_registry);
    budget_alerts = std::make_unique<ai_router::BudgetAlertPublisher>(ioc.get_executor(), *database, *job_queue);
    ai_budgets->on_alert(budget_alerts->callback());
    cron = std::make_unique<cron::Cron>(*database, *job_queue, clock, config.cron);
    register_product_schedules(*cron, job_registry);
    content->register_schedules(*cron);
    media->register_schedules(*cron);
    cron->check_overrides();
    for (const auto& [kind, override_policy] : config.jobs.kinds) {
      const auto* spec = job_registry.find(kind);
      if (!spec) throw config::ConfigError("jobs.kinds." + kind + ": no such job kind");
      job_registry.set_policy(kind, override_policy.apply(spec->policy));
    }
    if (config.jobs.workers)
      worker = std::make_unique<jobs::Worker>(ioc.get_executor(), *database, job_registry, clock, metrics,
                                              config.jobs);
  }

  // The outbound client and the model router with its cache and usage log.
  void build_ai() {
    http_client = http::make_curl_client(ioc.get_executor(), config.http_client, metrics);
    // Whether the cache is used is the router's ai.cache.enabled (it follows
    // SIGHUP); the lock TTL is the cache's own and needs a restart.
    ai_router::CacheConfig cache_config;
    cache_config.lock_ttl = config.ai.router.cache_lock_ttl;
    ai_cache = std::make_unique<ai_router::ResponseCache>(*redis, metrics, cache_config);
    ai_usage = std::make_unique<ai_router::UsageLog>(ioc.get_executor(), *database, clock, metrics, config.ai.usage);
    ai_budgets = std::make_unique<ai_router::Budgets>(*redis, *database, clock, metrics, config.ai.budgets);
    plans = std::make_unique<content::WorkspacePlans>(*database, clock, config.content.billing);
    ai_budgets->set_budget_source(plans.get());
    // The offline fallback answers from the workspace's own saved replies.
    saved_replies = std::make_unique<content::SavedReplyTemplates>(*database);
    ai_router::RouterDeps deps{*http_client,         clock,           metrics, ai_cache.get(), ai_usage.get(),
                               saved_replies.get(), ai_budgets.get()};
    ai_router = ai_router::make_router(deps, config.ai.catalog, config.ai.router);
  }

  // SIGHUP re-reads the configuration file and swaps the router's part of
  // the ai section (deployments, routes, prices, keys, retries, deadline,
  // breaker, cache on/off and TTLs, limits); a file that does not parse
  // changes nothing. Budgets, the usage log, http_api and the cache lock
  // TTL take effect at the next start (a warning says so). The file is read
  // and parsed on the compute pool, not on an I/O thread.
  void wait_for_reload() {
    reload_signals.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      // No new wait once shutdown began: it would keep the I/O threads running.
      asio::co_spawn(ioc, reload_ai(), [this](std::exception_ptr) {
        if (!stop_requested.load()) wait_for_reload();
      });
    });
  }

  asio::awaitable<void> reload_ai() {
    if (config.source.empty()) co_return;
    std::string error;
    try {
      AppConfig fresh = co_await compute.run([this] { return load_config_file(config.source); });
      std::string restart_only;
      auto note = [&](bool changed, const char* key) {
        if (changed) restart_only += (restart_only.empty() ? "" : ", ") + std::string(key);
      };
      note(!(fresh.ai.budgets == config.ai.budgets), "ai.budgets");
      note(!(fresh.ai.usage == config.ai.usage), "ai.usage");
      note(fresh.ai.http_api != config.ai.http_api, "ai.http_api");
      note(fresh.ai.router.cache_lock_ttl != config.ai.router.cache_lock_ttl, "ai.cache.lock_ttl");
      ai_router->reload(std::move(fresh.ai.catalog), std::move(fresh.ai.router));
      log::info("ai configuration reloaded", {{"file", config.source}});
      if (!restart_only.empty())
        log::warn("ai configuration: these changes take effect at the next start", {{"keys", restart_only}});
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) log::error("ai configuration reload failed; keeping the current one", {{"error", error}});
  }

  asio::awaitable<void> shutdown() {
    log::info("shutting down", {{"grace_ms", static_cast<int64_t>(config.server.shutdown_grace.count())}});
    signals.cancel();
    reload_signals.cancel();
    if (admin_server) co_await admin_server->shutdown(std::chrono::milliseconds(0));
    if (cron) cron->stop();
    // Requests and jobs share the grace period.
    using namespace asio::experimental::awaitable_operators;
    if (server && worker)
      co_await (server->shutdown(config.server.shutdown_grace) && worker->stop(config.server.shutdown_grace));
    else if (server)
      co_await server->shutdown(config.server.shutdown_grace);
    else if (worker)
      co_await worker->stop(config.server.shutdown_grace);
    if (budget_alerts) co_await budget_alerts->drain();
    if (ai_usage) co_await ai_usage->stop();  // the last usage rows, before the pool closes
    if (database) database->close();
    if (redis) redis->close();
    // The I/O threads return once the closes have unwound and nothing is
    // left to run; wait() stops the context if a straggler holds it.
    work.reset();
  }

  // Counts I/O threads still inside run(), so wait() can tell when the
  // context drained by itself.
  std::mutex run_mutex;
  std::condition_variable run_cv;
  int running = 0;
  std::chrono::steady_clock::time_point stop_requested_at{};

  void run_io() {
    ioc.run();
    std::lock_guard lock(run_mutex);
    --running;
    run_cv.notify_all();
  }
};

App::App(AppConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}

App::~App() {
  if (!impl_->threads.empty()) {
    request_stop();
    wait();
  }
}

void App::start() {
  auto& m = *impl_;
  log::init(m.config.log);
  register_process_metrics(m.metrics, HUNTAZE_VERSION);
  m.database = db::make_pg_pool(m.ioc.get_executor(), m.config.database, m.metrics);
  m.redis = redis::make_redis_client(m.ioc.get_executor(), m.config.redis, m.metrics);
  m.build_ai();
  m.build_jobs();

  m.running = m.io_threads;
  for (int i = 0; i < m.io_threads; ++i) m.threads.emplace_back([&m] { m.run_io(); });

  auto started = asio::co_spawn(m.ioc, m.startup(), asio::use_future);
  started.get();  // rethrows a failed migration

  OpsDependencies ops{*m.database, *m.redis, m.metrics, m.config.metrics.readiness_timeout, m.config.metrics.enabled};
  const bool separate_admin = !m.config.metrics.listen.empty();
  if (separate_admin) {
    register_ops_routes(m.admin_router, ops);
    if (m.config.jobs.admin_api) {
      jobs::register_jobs_admin_routes(m.admin_router, {*m.database, m.clock, m.config.jobs.errors_kept});
      cron::register_cron_admin_routes(m.admin_router, *m.cron);
    }
    if (m.config.ai.http_api) ai_router::register_ai_routes(m.admin_router, {*m.ai_router, *m.database, m.clock});
    auto hp = split_host_port(m.config.metrics.listen);
    http::ServerConfig admin_cfg = m.config.server;
    admin_cfg.host = hp->first;
    admin_cfg.port = hp->second;
    admin_cfg.max_connections = 64;
    m.admin_server = std::make_unique<http::Server>(m.ioc, admin_cfg, m.admin_router,
                                                    m.pipeline_for(m.admin_router, false, false), m.metrics);
    m.admin_server->start();
  } else {
    register_ops_routes(m.router, ops);
  }
  m.register_public_routes();
  m.server = std::make_unique<http::Server>(m.ioc, m.config.server, m.router,
                                            m.pipeline_for(m.router, m.config.server.access_log, true), m.metrics);
  m.server->start();
  log::info("serving", {{"host", m.config.server.host},
                        {"port", static_cast<int>(m.server->port())},
                        {"io_threads", m.io_threads},
                        {"compute_threads", m.compute.threads()},
                        {"version", HUNTAZE_VERSION}});
}

unsigned short App::port() const {
  return impl_->server ? impl_->server->port() : 0;
}
unsigned short App::admin_port() const {
  return impl_->admin_server ? impl_->admin_server->port() : 0;
}

void App::request_stop() {
  auto& m = *impl_;
  if (m.stop_requested.exchange(true)) return;
  {
    std::lock_guard lock(m.run_mutex);
    m.stop_requested_at = std::chrono::steady_clock::now();
    m.run_cv.notify_all();
  }
  asio::co_spawn(m.ioc, m.shutdown(), [&m](std::exception_ptr e) {
    if (e) {
      m.exit_code = 1;
      m.ioc.stop();
    }
  });
}

int App::wait() {
  auto& m = *impl_;
  {
    // Background work ends on close(); a loop that does not must not hold
    // the process past the grace period plus a margin.
    std::unique_lock lock(m.run_mutex);
    const auto margin = m.config.server.shutdown_grace + std::chrono::seconds(5);
    while (m.running > 0) {
      if (m.stop_requested_at != std::chrono::steady_clock::time_point{} &&
          std::chrono::steady_clock::now() > m.stop_requested_at + margin) {
        log::error("shutdown did not drain; stopping the I/O threads", {{"running", m.running}});
        m.ioc.stop();
        break;
      }
      m.run_cv.wait_for(lock, std::chrono::milliseconds(100));
    }
  }
  for (auto& t : m.threads)
    if (t.joinable()) t.join();
  m.threads.clear();
  m.compute.stop();
  log::info("stopped", {{"exit_code", m.exit_code.load()}});
  return m.exit_code.load();
}

int App::serve() {
  auto& m = *impl_;
  m.signals.add(SIGINT);
  m.signals.add(SIGTERM);
  m.signals.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("signal received", {{"signal", signal}});
    request_stop();
  });
  m.reload_signals.add(SIGHUP);
  m.wait_for_reload();
  try {
    start();
  } catch (const std::exception& e) {
    log::error("start-up failed", {{"error", e.what()}});
    m.exit_code = 1;
    request_stop();
    wait();
    return 1;
  }
  return wait();
}

int run_migrate(const AppConfig& config, bool status_only) {
  log::init(config.log);
  metrics::Registry registry;
  asio::io_context ioc;
  auto database = db::make_pg_pool(ioc.get_executor(), config.database, registry);
  int code = 0;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        db::Migrator migrator(*database, db::embedded_migrations());
        if (status_only) {
          auto rows = co_await migrator.status();
          int pending = 0;
          for (const auto& s : rows) {
            std::cout << (s.applied ? (s.checksum_matches ? "applied " : "CHANGED ") : "pending ") << s.name << '\n';
            if (!s.applied) ++pending;
            if (!s.checksum_matches) code = 1;
          }
          std::cout << rows.size() << " migrations, " << pending << " pending\n";
        } else {
          int applied = co_await migrator.apply();
          std::cout << "applied " << applied << " migration(s)\n";
        }
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::cerr << "huntaze migrate: " << ex.what() << '\n';
          }
          code = 1;
        }
        database->close();
      });
  ioc.run();
  return code;
}

}  // namespace huntaze::app
