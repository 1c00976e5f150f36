// The media.process job: from a stored original to a ready asset.
//
//   claim (uploaded -> processing)
//   -> local copy of the original (S3: a temporary download)
//   -> on the compute pool: probe + policy, keyframe grid and poster
//      (decoders in parallel), audio for the transcript
//   -> grid and poster stored
//   -> transcript (`transcribe` task) when the audio is long enough
//   -> analysis (`vision` task: grid + transcript + metadata), validated
//   -> ready + media.ready event, in one transaction
//
// A file FFmpeg will not or cannot read fails the asset at once with the
// MediaFailure's code (media.failed event); it is never retried. Storage
// and database errors fail the attempt (retried with backoff); on the last
// attempt the asset is marked failed with processing_error. A model that is
// unavailable or rate-limited is retried too while attempts remain; after
// that, or for a refusal or an answer that fails validation, the asset is
// ready without an analysis and analysis_error says why.
//
// Thread-safety: run() may be called from many jobs at once.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "huntaze/ai_router/router.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/jobs/job_context.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "media/assets.hpp"
#include "media/media_config.hpp"

namespace huntaze::media {

class Processor {
 public:
  Processor(Assets& assets, storage::BlobStore& store, Compute& compute, ai_router::AiRouter& router,
            const MediaConfig& config);

  boost::asio::awaitable<void> run(jobs::JobContext& job);

 private:
  Assets& assets_;
  storage::BlobStore& store_;
  Compute& compute_;
  ai_router::AiRouter& router_;
  const MediaConfig& config_;
};

// Where an asset's blobs live: ws/<workspace>/<asset>/<name>.
std::string asset_key(Uuid workspace, Uuid asset, std::string_view name);

}  // namespace huntaze::media
