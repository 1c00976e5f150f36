#include "content/content_module.hpp"

#include "content/idempotency.hpp"
#include "content/ingest_store.hpp"
#include "content/ingestion.hpp"
#include "content/message_partitions.hpp"
#include "content/routes.hpp"
#include "content/billing.hpp"
#include "content/offers.hpp"
#include "content/workspace_plans.hpp"
#include "huntaze/core/time_format.hpp"
#include "content/posts.hpp"
#include "content/suggestions.hpp"
#include "huntaze/jobs/batched_delete.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::content {

namespace asio = boost::asio;

ContentModule::ContentModule(ContentDeps deps, ContentConfig config) : deps_(deps), config_(std::move(config)) {
  partitions_ = std::make_unique<MessagePartitions>(deps_.db);
  store_ = std::make_unique<IngestStore>(deps_.db, *partitions_, deps_.clock);
  ingestion_ = std::make_unique<Ingestion>(*store_, deps_.compute, deps_.clock, deps_.metrics, config_);
  idempotency_ = std::make_unique<IdempotencyKeys>(deps_.db, deps_.compute, deps_.clock, config_.idempotency_ttl);
  offers_ = std::make_unique<Offers>(deps_.db, deps_.queue, deps_.clock);
  posts_ = std::make_unique<Posts>(deps_.db, deps_.queue, deps_.clock);
  billing_ = std::make_unique<Billing>(deps_.db, deps_.clock, deps_.plans, deps_.media_usage, config_.billing);
  suggestions_ = std::make_unique<Suggestions>(deps_.db, deps_.router, deps_.templates, deps_.clock, deps_.metrics,
                                               config_.suggestions);
}

ContentModule::~ContentModule() = default;

void ContentModule::register_routes(http::Router& router) {
  // The routes keep a pointer to these, owned here: the module outlives the server.
  route_deps_ = std::make_unique<RouteDeps>(
      RouteDeps{deps_.db, deps_.compute, deps_.clock, deps_.guard, *ingestion_, *idempotency_, *partitions_, *suggestions_, *offers_, *posts_, *billing_, deps_.router, config_});
  register_ingest_routes(router, *route_deps_);
  register_fan_routes(router, *route_deps_);
  register_persona_routes(router, *route_deps_);
  register_suggestion_routes(router, *route_deps_);
  register_offer_routes(router, *route_deps_);
  register_post_routes(router, *route_deps_);
  register_billing_routes(router, *route_deps_);
}

void ContentModule::register_schedules(cron::Cron& cron) {
  struct Entry {
    const char* kind;
    const char* spec;
  };
  // Sweeps behind the jobs each offer and post enqueues for its own times;
  // billing an hour into the month, once usage rows held back by a database
  // outage (ai.usage.max_pending) have had time to land.
  constexpr Entry kSchedules[] = {
      {kOffersActivateKind, "@hourly"}, {kOffersExpireKind, "@daily"},   {kPostsDueKind, "*/5 * * * *"},
      {kBillingMonthlyKind, "0 1 1 * *"}, {kPartitionsKind, "47 3 * * *"}, {kArchiveKind, "57 3 * * *"},
      {kPruneKind, "13 * * * *"},
  };
  for (const auto& e : kSchedules) cron.add(cron::Schedule{.name = e.kind, .spec = e.spec, .timezone = "UTC", .kind = e.kind});
  if (config_.suggestions.prepare)
    cron.add(cron::Schedule{.name = kPrepareKind, .spec = "*/5 * * * *", .timezone = "UTC", .kind = kPrepareKind});
}

void ContentModule::register_jobs(jobs::JobRegistry& registry) {
  const jobs::KindOptions maintenance{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 5}};
  registry.add(
      kPartitionsKind,
      [this](jobs::JobContext&) -> asio::awaitable<void> {
        const std::optional<SysTime> no_archive;
        co_await partitions_->maintain(deps_.clock.now(), config_.messages.months_ahead, no_archive);
      },
      maintenance);
  registry.add(
      kArchiveKind,
      [this](jobs::JobContext& job) -> asio::awaitable<void> {
        co_await archive_messages(deps_.db, *partitions_, deps_.clock.now(), config_.messages, &job);
      },
      maintenance);
  // The offer and post moves: with an id in the payload the job enqueued for
  // that offer's or post's time, without one the cron sweep.
  auto id_of = [](jobs::JobContext& job) -> std::optional<Uuid> {
    const auto* o = job.payload().if_object();
    const auto* v = o ? o->if_contains(job.kind() == kPostsDueKind ? "post_id" : "offer_id") : nullptr;
    if (!v) return std::nullopt;
    auto id = v->is_string() ? Uuid::parse(v->get_string()) : std::nullopt;
    if (!id) throw jobs::DiscardJob(job.kind() + ": malformed id in the payload");
    return id;
  };
  // The time the job was made for (absent in jobs enqueued before it was recorded).
  auto time_of = [](jobs::JobContext& job) -> std::optional<SysTime> {
    const auto* o = job.payload().if_object();
    const auto* v = o ? o->if_contains("at") : nullptr;
    if (!v || !v->is_int64()) return std::nullopt;
    return SysTime(std::chrono::microseconds(v->get_int64()));
  };
  registry.add(
      kOffersActivateKind,
      [this, id_of, time_of](jobs::JobContext& job) -> asio::awaitable<void> {
        const std::optional<Uuid> id = id_of(job);
        const std::optional<SysTime> at = time_of(job);
        co_await offers_->activate(id, deps_.clock.now(), at);
      },
      maintenance);
  registry.add(
      kOffersExpireKind,
      [this, id_of, time_of](jobs::JobContext& job) -> asio::awaitable<void> {
        const std::optional<Uuid> id = id_of(job);
        const std::optional<SysTime> at = time_of(job);
        co_await offers_->expire(id, deps_.clock.now(), at);
      },
      maintenance);
  registry.add(
      kPostsDueKind,
      [this, id_of, time_of](jobs::JobContext& job) -> asio::awaitable<void> {
        const std::optional<Uuid> id = id_of(job);
        const std::optional<SysTime> at = time_of(job);
        co_await posts_->due(id, deps_.clock.now(), at);
      },
      maintenance);
  // The month before the tick (cron adds "tick"), or {"month": "YYYY-MM"} for a re-run.
  registry.add(
      kBillingMonthlyKind,
      [this](jobs::JobContext& job) -> asio::awaitable<void> {
        const auto* payload = job.payload().if_object();
        std::optional<std::chrono::year_month> month;
        if (const auto* m = payload ? payload->if_contains("month") : nullptr; m && m->is_string()) {
          const auto t = parse_iso8601(std::string(m->get_string()) + "-01T00:00:00Z");
          if (!t) throw jobs::DiscardJob("billing.monthly: month must be YYYY-MM");
          month = utc_month(*t);
        } else {
          const auto* tick = payload ? payload->if_contains("tick") : nullptr;
          const auto at = tick && tick->is_string() ? parse_iso8601(tick->get_string()) : std::nullopt;
          month = utc_month(at.value_or(deps_.clock.now())) - std::chrono::months(1);
        }
        co_await billing_->invoice_month(*month, &job);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 10}});
  registry.add(
      kPrepareKind,
      [this](jobs::JobContext& job) -> asio::awaitable<void> {
        co_await suggestions_->prepare(deps_.clock.now(), &job);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 3}});
  registry.add(
      kPruneKind,
      [this](jobs::JobContext& job) -> asio::awaitable<void> {
        co_await idempotency_->prune(&job);
        co_await suggestions_->prune(deps_.clock.now(), &job);
        // Stripe retries a delivery for three days: a month of event ids is plenty.
        db::Params before{db::Timestamp(deps_.clock.now() - std::chrono::days(30))};
        co_await jobs::delete_in_batches(deps_.db,
                                         "DELETE FROM content.stripe_events WHERE id IN (SELECT id FROM "
                                         "content.stripe_events WHERE received_at < $1 LIMIT $2)",
                                         std::move(before), 1000, &job);
      },
      maintenance);
}

}  // namespace huntaze::content
