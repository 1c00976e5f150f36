#include "media/media_config.hpp"

namespace huntaze::media {

using namespace std::chrono_literals;

// Durations of whole seconds.
constexpr auto seconds = [](std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::seconds>(ms);
};

MediaConfig parse_media_config(config::Node section) {
  MediaConfig c;
  c.max_upload = section.get_size("max_upload", c.max_upload, 1u << 20, 64ull << 30);

  auto storage = section.section("storage");
  c.storage.backend = storage.get_enum("backend", c.storage.backend, {"local", "s3"});
  c.storage.local_root = storage.get_string("local_root", c.storage.local_root.string());
  if (c.storage.local_root.empty()) storage.fail("local_root", "must name a directory");
  c.storage.spool_dir = storage.get_string("spool_dir", "");
  if (c.storage.spool_dir.empty()) c.storage.spool_dir = c.storage.local_root / ".spool";
  auto s3 = storage.section("s3");
  auto& b = c.storage.s3;
  b.endpoint = s3.get_string("endpoint", "");
  b.public_endpoint = s3.get_string("public_endpoint", "");
  b.region = s3.get_string("region", b.region);
  b.bucket = s3.get_string("bucket", "");
  b.access_key = s3.get_string("access_key", "");
  b.secret_key = s3.get_secret("secret_key");
  b.path_style = s3.get_bool("path_style", b.path_style);
  b.part_size = s3.get_size("part_size", b.part_size, storage::kS3MinPartSize, storage::kS3MaxPartSize);
  b.multipart_threshold =
      s3.get_size("multipart_threshold", b.multipart_threshold, storage::kS3MinPartSize, storage::kS3MaxPartSize);
  b.timeout = s3.get_duration("timeout", b.timeout, 1s, 1h);
  b.temp_dir = c.storage.spool_dir.string();
  if (c.storage.backend == "s3") {
    try {
      storage::validate(b);
    } catch (const std::invalid_argument& e) {
      s3.fail("endpoint", e.what());
    }
  }
  s3.finish();
  storage.finish();

  c.link_key = section.get_secret("link_key");
  if (!c.link_key.empty() && c.link_key.reveal().size() < 32)
    section.fail("link_key", "must be at least 32 characters");
  c.link_base = section.get_string("link_base", "");
  c.link_ttl = seconds(section.get_duration("link_ttl", c.link_ttl, 1min, std::chrono::days(7)));

  auto policy = section.section("policy");
  c.policy.max_duration_seconds =
      policy.get_double("max_duration_seconds", c.policy.max_duration_seconds, 1, 24 * 3600.0);
  c.policy.max_long_side = static_cast<int>(policy.get_int("max_long_side", c.policy.max_long_side, 64, 16384));
  c.policy.max_short_side = static_cast<int>(policy.get_int("max_short_side", c.policy.max_short_side, 64, 16384));
  c.policy.max_streams = static_cast<int>(policy.get_int("max_streams", c.policy.max_streams, 1, 64));
  policy.finish();

  auto grid = section.section("grid");
  c.grid.frames = static_cast<int>(grid.get_int("frames", c.grid.frames, 1, 64));
  c.grid.max_width = static_cast<int>(grid.get_int("max_width", c.grid.max_width, 160, 4096));
  c.grid.max_height = static_cast<int>(grid.get_int("max_height", c.grid.max_height, 90, 4096));
  c.grid.poster_max_side = static_cast<int>(grid.get_int("poster_max_side", c.grid.poster_max_side, 64, 4096));
  c.grid.workers = static_cast<int>(grid.get_int("workers", 0, 0, 64));  // 0: compute.threads
  grid.finish();
  c.processing_deadline = section.get_duration("processing_deadline", c.processing_deadline, 1s, 30min);

  auto transcript = section.section("transcript");
  c.transcript.enabled = transcript.get_bool("enabled", c.transcript.enabled);
  c.transcript.min_audio_seconds = transcript.get_double("min_audio_seconds", c.transcript.min_audio_seconds, 0, 3600);
  c.transcript.max_seconds = transcript.get_double("max_seconds", c.transcript.max_seconds, 1, 3 * 3600.0);
  transcript.finish();
  c.analysis = section.get_bool("analysis", c.analysis);

  auto rendition = section.section("rendition");
  c.rendition.enabled = rendition.get_bool("enabled", c.rendition.enabled);
  c.rendition.target_bytes = rendition.get_size("target", c.rendition.target_bytes, 1u << 20, 4ull << 30);
  c.rendition.max_long_side =
      static_cast<int>(rendition.get_int("max_long_side", c.rendition.max_long_side, 240, 3840));
  c.rendition.deadline = rendition.get_duration("deadline", c.rendition.deadline, 10s, 2h);
  rendition.finish();
  c.temp_upload_ttl = seconds(section.get_duration("temp_upload_ttl", c.temp_upload_ttl, 1h, std::chrono::days(90)));
  c.original_grace = seconds(section.get_duration("original_grace", c.original_grace, 0s, std::chrono::days(90)));
  section.finish();
  return c;
}

}  // namespace huntaze::media
