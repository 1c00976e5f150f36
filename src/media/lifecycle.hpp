// media.lifecycle, hourly: deletes what nobody will ask for again.
//
//   - spool files older than media.temp_upload_ttl: uploads a crash cut off
//     (a finished upload leaves the spool within seconds);
//   - originals of ready media, media.original_grace after processing, in
//     workspaces whose settings say delete_originals (GET|PUT
//     /api/v1/media/settings). The grid, poster, transcript and analysis
//     stay; the row's original_key becomes null, and so its bytes stop
//     counting against the plan's storage (stored_bytes is computed).
//
// Rows change first, blobs go after: a blob whose deletion fails is an
// orphan (logged), never a row that points at nothing. Batches of 100
// rows, claimed with SKIP LOCKED, so instances running it at once share
// the work.
//
// Thread-safety: run() may run on several instances at once.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_context.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "media/media_config.hpp"

namespace huntaze::media {

inline constexpr const char* kLifecycleKind = "media.lifecycle";

struct LifecycleReport {
  int spool_files = 0;
  int originals = 0;
};

class Lifecycle {
 public:
  Lifecycle(db::Database& db, storage::BlobStore& store, Compute& compute, const Clock& clock,
            const MediaConfig& config);

  boost::asio::awaitable<LifecycleReport> run(jobs::JobContext* job);

 private:
  boost::asio::awaitable<int> sweep_spool();
  boost::asio::awaitable<int> sweep_originals(jobs::JobContext* job);

  db::Database& db_;
  storage::BlobStore& store_;
  Compute& compute_;
  const Clock& clock_;
  const MediaConfig& config_;
};

}  // namespace huntaze::media
