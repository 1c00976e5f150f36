// media.rendition (queue media_low): a smaller H.264/AAC copy of a ready
// video for playback (make_rendition: upright, 720p by default, near
// media.rendition.target, +faststart), stored as rendition.mp4 beside the
// original. Enqueued with the media.ready transaction when renditions are on
// and the original is larger than the target.
//
// A rendition no smaller than the original is thrown away (the original
// plays as well). A file the encoder refuses (MediaFailure) ends the job
// without a rendition; a storage or disk failure fails the attempt.
//
// Thread-safety: run() may be called from many jobs at once.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "huntaze/core/compute.hpp"
#include "huntaze/jobs/job_context.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "media/assets.hpp"
#include "media/media_config.hpp"

namespace huntaze::media {

class RenditionJob {
 public:
  RenditionJob(Assets& assets, storage::BlobStore& store, Compute& compute, const MediaConfig& config);

  boost::asio::awaitable<void> run(jobs::JobContext& job);

 private:
  Assets& assets_;
  storage::BlobStore& store_;
  Compute& compute_;
  const MediaConfig& config_;
};

}  // namespace huntaze::media
