// The `media:` section: upload limits, where blobs are stored, signed
// links, and what processing makes (grid, transcript, analysis).
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"
#include "media/keyframe_grid.hpp"
#include "media/media_policy.hpp"
#include "storage/s3_config.hpp"

namespace huntaze::media {

struct StorageSettings {
  std::string backend = "local";  // local | s3
  // Local backend: blobs live under this directory (created at start).
  std::filesystem::path local_root = "data/media";
  // Uploads are written here while they arrive, then moved (local, same
  // file system) or uploaded (S3). "" = <local_root>/.spool.
  std::filesystem::path spool_dir;
  // The s3 backend (validated when chosen). Its downloads for processing go
  // to spool_dir.
  storage::S3Config s3;
};

struct TranscriptSettings {
  bool enabled = true;
  double min_audio_seconds = 3;  // shorter audio is not worth a model call
  double max_seconds = 600;      // audio beyond this is cut before transcribing
};

struct RenditionSettings {
  bool enabled = false;               // media.rendition after processing, on the low-priority queue media_low
  uint64_t target_bytes = 20u << 20;  // originals no larger than this get none
  int max_long_side = 1280;           // 720p
  std::chrono::milliseconds deadline{std::chrono::minutes(10)};
};

struct MediaConfig {
  uint64_t max_upload = 2ull << 30;  // one file; larger -> 413
  StorageSettings storage;
  // Signs download links the binary serves (local backend). Empty: a random
  // key per process (links then die with it and work on one instance only).
  Secret link_key;
  std::chrono::seconds link_ttl{std::chrono::hours(1)};
  // What download links start with: the origin browsers reach this server
  // at (e.g. https://api.example.com); "" = a path-only link.
  std::string link_base;
  MediaPolicy policy;
  GridOptions grid;
  std::chrono::milliseconds processing_deadline{std::chrono::minutes(2)};  // the CPU stages of one video
  TranscriptSettings transcript;
  bool analysis = true;  // grid + transcript + metadata to the `vision` task
  RenditionSettings rendition;
  // media.lifecycle (hourly): spool files older than this are leftovers of
  // a crash mid-upload and are deleted...
  std::chrono::seconds temp_upload_ttl{std::chrono::days(7)};
  // ...and in workspaces whose settings say delete_originals, originals
  // are deleted this long after processing (grid, poster, analysis stay).
  std::chrono::seconds original_grace{std::chrono::hours(1)};
};

// Throws config::ConfigError naming the key.
MediaConfig parse_media_config(config::Node section);

}  // namespace huntaze::media
