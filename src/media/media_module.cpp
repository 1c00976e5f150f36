#include "media/media_module.hpp"

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/jobs/job.hpp"
#include "media/assets.hpp"
#include "media/lifecycle.hpp"
#include "media/processing.hpp"
#include "media/rendition_job.hpp"
#include "media/routes.hpp"
#include "storage/local_blob_store.hpp"
#include "storage/s3_blob_store.hpp"

namespace huntaze::media {

namespace asio = boost::asio;

namespace {

Secret link_key_or_random(const Secret& configured) {
  if (!configured.empty()) return configured;
  log::warn(
      "media.link_key is not set: download links are signed with a random key and stop working at restart "
      "and on other instances");
  return Secret(to_hex(crypto::random_bytes(32)));
}

}  // namespace

struct MediaModule::Routes {
  RouteDeps deps;
};

MediaModule::MediaModule(MediaDeps deps, MediaConfig config) : deps_(deps), config_(std::move(config)) {
  if (config_.storage.backend == "s3") {
    store_ = std::make_unique<storage::S3BlobStore>(config_.storage.s3, deps_.http, deps_.compute);
  } else {
    auto local = std::make_unique<storage::LocalBlobStore>(config_.storage.local_root, deps_.compute,
                                                           link_key_or_random(config_.link_key), config_.link_base);
    local_ = local.get();
    store_ = std::move(local);
  }
  std::error_code ec;
  std::filesystem::create_directories(config_.storage.spool_dir, ec);
  if (ec)
    throw storage::StorageError("cannot create media.storage.spool_dir " + config_.storage.spool_dir.string() + ": " +
                                ec.message());
  assets_ = std::make_unique<Assets>(deps_.db, deps_.queue, deps_.clock);
  processor_ = std::make_unique<Processor>(*assets_, *store_, deps_.compute, deps_.router, config_);
  rendition_ = std::make_unique<RenditionJob>(*assets_, *store_, deps_.compute, config_);
  lifecycle_ = std::make_unique<Lifecycle>(deps_.db, *store_, deps_.compute, deps_.clock, config_);
  routes_ = std::make_unique<Routes>(
      Routes{RouteDeps{*assets_, *store_, deps_.compute, deps_.clock, deps_.guard, deps_.plans, config_}});
}

MediaModule::~MediaModule() = default;

void MediaModule::register_routes(http::Router& router) {
  register_media_routes(router, routes_->deps);
  if (local_) register_file_route(router, *local_, deps_.compute, deps_.clock);
}

void MediaModule::register_jobs(jobs::JobRegistry& registry) {
  // A video's CPU stages take about a second; the model calls dominate.
  // Five attempts with backoff ride out a provider's short outage.
  jobs::RetryPolicy policy;
  policy.max_attempts = 5;
  policy.backoff_base = std::chrono::seconds(10);
  policy.backoff_max = std::chrono::minutes(10);
  policy.timeout = std::chrono::minutes(10);
  registry.add(
      kProcessKind, [this](jobs::JobContext& job) { return processor_->run(job); },
      jobs::KindOptions{.queue = "media", .policy = policy});
  // An encode takes about half the video's length per core: one attempt
  // may take long, and a failure is rarely worth many more.
  jobs::RetryPolicy encode;
  encode.max_attempts = 3;
  encode.backoff_base = std::chrono::minutes(1);
  encode.timeout = config_.rendition.deadline + std::chrono::minutes(5);
  registry.add(
      kRenditionKind, [this](jobs::JobContext& job) { return rendition_->run(job); },
      jobs::KindOptions{.queue = "media_low", .policy = encode});
  registry.add(kLifecycleKind,
               [this](jobs::JobContext& job) -> asio::awaitable<void> { co_await lifecycle_->run(&job); });
}

void MediaModule::register_schedules(cron::Cron& cron) {
  cron.add(cron::Schedule{.name = kLifecycleKind, .spec = "23 * * * *", .timezone = "UTC", .kind = kLifecycleKind});
}

asio::awaitable<content::MediaUsage> MediaModule::usage(Uuid workspace, SysTime from, SysTime to) {
  co_return co_await assets_->usage(workspace, from, to);
}

}  // namespace huntaze::media
