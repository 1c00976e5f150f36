// The content module: fans, conversations, subscriptions and transactions
// ingested from the platforms, the creator's persona and saved replies,
// built from its dependencies and the `content:` section.
//
// Thread-safety: construct and register during start-up; afterwards every
// member is safe from any coroutine.
#pragma once

#include <memory>

#include "content/content_config.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/ai_router/template_source.hpp"
#include "huntaze/auth/access.hpp"
#include "huntaze/content/plans.hpp"
#include "huntaze/cron/cron.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/router.hpp"
#include "huntaze/jobs/job_queue.hpp"
#include "huntaze/jobs/registry.hpp"

namespace huntaze::content {

class WorkspacePlans;

struct ContentDeps {
  db::Database& db;
  Compute& compute;
  const Clock& clock;
  metrics::Registry& metrics;
  auth::Guard& guard;
  jobs::JobQueue& queue;
  ai_router::AiRouter& router;
  ai_router::TemplateSource* templates;  // the saved replies the router's templates provider reads, or null
  WorkspacePlans& plans;                 // also the router's budget source (built before the router)
  MediaUsageSource* media_usage;         // what media stored and processed, for invoices; null until media exists
};

// Job kinds; the module registers and schedules them (register_schedules).
inline constexpr const char* kPartitionsKind = "content.partitions";  // next months of content.messages
inline constexpr const char* kArchiveKind = "content.archive";        // old months to content_archive
inline constexpr const char* kPruneKind = "content.prune";            // expired Idempotency-Keys, old suggestions and Stripe event ids
inline constexpr const char* kPrepareKind = "suggestions.prepare";    // suggestions ahead of the chatter

class MessagePartitions;
class IngestStore;
class Ingestion;
class IdempotencyKeys;
class Suggestions;
class Offers;
class Billing;
class Posts;
struct RouteDeps;

class ContentModule {
 public:
  ContentModule(ContentDeps deps, ContentConfig config);
  ~ContentModule();

  void register_routes(http::Router& router);
  void register_jobs(jobs::JobRegistry& registry);
  // Every content schedule: the offer and post sweeps, billing.monthly,
  // the partition, archive and prune jobs, and suggestions.prepare every 5
  // minutes when content.suggestions.prepare is on.
  void register_schedules(cron::Cron& cron);


 private:
  ContentDeps deps_;
  ContentConfig config_;
  std::unique_ptr<MessagePartitions> partitions_;
  std::unique_ptr<IngestStore> store_;
  std::unique_ptr<Ingestion> ingestion_;
  std::unique_ptr<IdempotencyKeys> idempotency_;
  std::unique_ptr<Suggestions> suggestions_;
  std::unique_ptr<Offers> offers_;
  std::unique_ptr<Posts> posts_;
  std::unique_ptr<Billing> billing_;
  std::unique_ptr<RouteDeps> route_deps_;
};

}  // namespace huntaze::content
