// The media module: video uploads into blob storage, their processing into
// a keyframe grid, poster, transcript and vision analysis, and the API over
// them, built from its dependencies and the `media:` section.
//
//   media_routes.cpp  POST /api/v1/media                 upload (streamed to storage; ?name=)
//                     GET /api/v1/media                  list (?status=, keyset pages)
//                     GET|DELETE /api/v1/media/{media_id}
//                     POST /api/v1/media/{media_id}/reprocess
//                     GET|PUT /api/v1/media/settings     delete_originals
//   file_route.cpp    GET /api/v1/files/{key}            signed links to local blobs, with Range
//   processing.cpp    media.process (queue `media`)
//   rendition_job.cpp media.rendition (queue `media_low`, when media.rendition.enabled)
//   lifecycle.cpp     media.lifecycle (hourly): crash leftovers, originals per settings
//
// Roles: viewers read; managers upload, reprocess and delete. API keys need
// `read` to read, `ingest` to upload and `admin` to reprocess or delete.
//
// Also the content module's MediaUsageSource: stored bytes and videos
// processed, for invoices.
//
// Thread-safety: construct and register during start-up; afterwards every
// member is safe from any coroutine.
#pragma once

#include <memory>

#include "huntaze/ai_router/router.hpp"
#include "huntaze/auth/access.hpp"
#include "huntaze/content/plans.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/cron/cron.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/client.hpp"
#include "huntaze/http/router.hpp"
#include "huntaze/jobs/job_queue.hpp"
#include "huntaze/jobs/registry.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "media/media_config.hpp"

namespace huntaze::storage {
class LocalBlobStore;
}

namespace huntaze::media {

struct MediaDeps {
  db::Database& db;
  Compute& compute;
  const Clock& clock;
  metrics::Registry& metrics;
  auth::Guard& guard;
  jobs::JobQueue& queue;
  ai_router::AiRouter& router;
  content::PlanLimitSource& plans;  // storage quota and plan status
  http::HttpClient& http;           // the S3 backend's transport
};

class Assets;
class Processor;
class Lifecycle;
class RenditionJob;

class MediaModule final : public content::MediaUsageSource {
 public:
  // Creates the local storage root and spool directory. Throws
  // storage::StorageError when they cannot be created.
  MediaModule(MediaDeps deps, MediaConfig config);
  ~MediaModule() override;

  void register_routes(http::Router& router);
  void register_jobs(jobs::JobRegistry& registry);
  void register_schedules(cron::Cron& cron);

  boost::asio::awaitable<content::MediaUsage> usage(Uuid workspace, SysTime from, SysTime to) override;

  storage::BlobStore& store() noexcept { return *store_; }

 private:
  MediaDeps deps_;
  MediaConfig config_;
  std::unique_ptr<storage::BlobStore> store_;
  storage::LocalBlobStore* local_ = nullptr;  // store_ when the backend is local
  std::unique_ptr<Assets> assets_;
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<Lifecycle> lifecycle_;
  std::unique_ptr<RenditionJob> rendition_;
  struct Routes;
  std::unique_ptr<Routes> routes_;
};

}  // namespace huntaze::media
