// media.assets: the rows behind the media API and the processing job. Every
// read and write is scoped to a workspace except the job's, which names the
// asset it was enqueued for.
//
// Thread-safety: safe from any coroutine (state lives in PostgreSQL).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "huntaze/content/plans.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_context.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::media {

inline constexpr const char* kProcessKind = "media.process";
inline constexpr const char* kRenditionKind = "media.rendition";

// The payload of the jobs about one asset ({"asset_id": ...}), and reading
// it back; a payload without a valid id throws jobs::DiscardJob.
std::string asset_payload(Uuid id);
Uuid asset_id_of(const jobs::JobContext& job);

// 402 storage_quota_exceeded: the file does not fit what the plan includes.
ApiError storage_quota_exceeded(uint64_t quota, uint64_t used, uint64_t size);

struct AssetRow {
  Uuid id;
  Uuid workspace;
  std::string status;
  std::string original_name;
  std::optional<std::string> container, content_type;
  int64_t size_bytes = 0;
  std::optional<std::string> sha256;  // raw bytes
  std::optional<std::string> original_key, grid_key, poster_key, rendition_key;
  int64_t stored_bytes = 0;
  std::optional<std::string> probe_json, transcript, analysis_json, analysis_error;
  std::optional<std::string> failure_code, failure_reason;
  int attempts = 0;
  SysTime created_at, updated_at;
  std::optional<SysTime> processed_at;
};

// A new upload, already in storage under `original_key`.
struct StoredUpload {
  Uuid id;
  Uuid workspace;
  std::optional<Uuid> uploaded_by;
  std::string original_name;
  std::string container, content_type;
  uint64_t size = 0;
  std::string sha256;  // raw
  std::string original_key;
};

struct ListFilter {
  std::optional<std::string> status;
  int limit = 50;
  std::optional<std::pair<SysTime, Uuid>> after;  // keyset: created_at, id of the last row served
};

class Assets {
 public:
  Assets(db::Database& db, jobs::JobQueue& queue, const Clock& clock);

  // The workspace's asset with this content, if any.
  boost::asio::awaitable<std::optional<AssetRow>> find_by_hash(Uuid workspace, const std::string& sha256);

  struct Admission {
    std::optional<AssetRow> created;    // inserted, media.process enqueued
    std::optional<AssetRow> duplicate;  // the same content was already there (a racing upload)
  };
  // Inserts the upload (status uploaded) and enqueues its processing in one
  // transaction, after checking under a per-workspace lock that the
  // workspace's stored bytes plus this upload fit `quota_bytes` (402
  // storage_quota_exceeded otherwise).
  boost::asio::awaitable<Admission> admit(const StoredUpload& upload, uint64_t quota_bytes);

  // Bytes the workspace stores now (originals, grids, posters, renditions).
  boost::asio::awaitable<uint64_t> stored_bytes(Uuid workspace);

  boost::asio::awaitable<std::optional<AssetRow>> get(Uuid workspace, Uuid id);
  // Up to filter.limit + 1 rows, newest first.
  boost::asio::awaitable<std::vector<AssetRow>> list(Uuid workspace, const ListFilter& filter);

  // Back to `uploaded` with a new media.process job; 409 while it is being
  // processed or when its original is gone. Returns the updated row.
  boost::asio::awaitable<AssetRow> reprocess(Uuid workspace, Uuid id);
  // Deletes the row; returns the blob keys it held (the caller removes them).
  boost::asio::awaitable<std::optional<std::vector<std::string>>> remove(Uuid workspace, Uuid id);

  // For the processing job.
  struct Claim {
    Uuid workspace;
    std::optional<std::string> original_key;
    std::string original_name;
    int attempts = 0;
    uint64_t size_bytes = 0;
  };
  // Marks the asset processing (from uploaded, or processing left by a
  // crashed attempt); nullopt when it is gone or already finished.
  boost::asio::awaitable<std::optional<Claim>> claim(Uuid id);

  struct Outcome {
    std::string grid_key, poster_key;
    int64_t derived_bytes = 0;  // grid + poster
    std::string probe_json;
    std::optional<std::string> transcript;
    std::optional<std::string> analysis_json;
    std::optional<std::string> analysis_error;
    std::string event_data;  // the media.ready event's JSON
    bool rendition = false;  // enqueue media.rendition with it
  };
  enum class Finish {
    done,     // the asset moved, and its event is published
    stale,    // it is no longer processing (another attempt finished it)
    deleted,  // the row is gone: what this run stored is nobody's
  };
  // processing -> ready, with the media.ready event (and media.rendition
  // when asked) in the same transaction.
  boost::asio::awaitable<Finish> finish_ready(Uuid id, const Outcome& outcome);
  // processing -> failed, with the media.failed event.
  boost::asio::awaitable<bool> finish_failed(Uuid id, const std::string& code, const std::string& reason);

  // For media.rendition: a ready asset whose original still exists.
  struct RenditionSource {
    Uuid workspace;
    std::string original_key;
    uint64_t size_bytes = 0;
  };
  boost::asio::awaitable<std::optional<RenditionSource>> rendition_source(Uuid id);
  // Records the stored rendition; false when the asset is gone.
  boost::asio::awaitable<bool> set_rendition(Uuid id, const std::string& key, uint64_t bytes);

  // What the workspace stores now and how many videos became ready in
  // [from, to): its invoice's media lines.
  boost::asio::awaitable<content::MediaUsage> usage(Uuid workspace, SysTime from, SysTime to);

  // media.settings: whether originals are deleted after processing.
  boost::asio::awaitable<bool> delete_originals(Uuid workspace);
  boost::asio::awaitable<void> set_delete_originals(Uuid workspace, bool value);

 private:
  db::Database& db_;
  jobs::JobQueue& queue_;
  const Clock& clock_;
};

}  // namespace huntaze::media
