#include "media/rendition_job.hpp"

#include <filesystem>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/jobs/job.hpp"
#include "media/media_failure.hpp"
#include "media/processing.hpp"
#include "media/rendition.hpp"

namespace huntaze::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;

RenditionJob::RenditionJob(db::Database& db, storage::BlobStore& store, Compute& compute, const Clock& clock,
                           const MediaConfig& config)
    : db_(db), store_(store), compute_(compute), clock_(clock), config_(config) {}

asio::awaitable<void> RenditionJob::run(jobs::JobContext& job) {
  std::optional<Uuid> parsed;
  if (const auto* o = job.payload().if_object())
    if (const auto* v = o->if_contains("asset_id"); v && v->is_string()) parsed = Uuid::parse(v->get_string());
  if (!parsed) throw jobs::DiscardJob("media.rendition: no asset_id in the payload");
  const Uuid id = *parsed;

  auto rows = co_await db_.query(
      "SELECT workspace_id, original_key, size_bytes FROM media.assets "
      "WHERE id = $1 AND status = 'ready' AND original_key IS NOT NULL",
      id);
  if (rows.empty()) co_return;  // deleted, reprocessing, or its original is gone
  const Uuid ws = rows.front().get<Uuid>(0);
  const std::string original_key = rows.front().get<std::string>(1);
  const auto original_size = static_cast<uint64_t>(rows.front().get<int64_t>(2));

  storage::LocalCopy copy = co_await store_.local_copy(original_key);
  const fs::path output = config_.storage.spool_dir / ("rendition-" + to_hex(crypto::random_bytes(8)) + ".mp4");
  RenditionOptions options;
  options.target_bytes = config_.rendition.target_bytes;
  options.max_long_side = config_.rendition.max_long_side;
  options.policy = config_.policy;
  options.deadline = std::chrono::steady_clock::now() + config_.rendition.deadline;
  auto encode = [&] { return make_rendition(copy.path(), output, options); };
  std::optional<RenditionResult> made;
  std::string refused;
  try {
    made = co_await compute_.run(encode);
  } catch (const MediaFailure& f) {
    refused = f.code() + ": " + f.what();
  }
  if (!made) {
    log::info("media rendition refused", {{"asset_id", id.str()}, {"reason", refused}});
    co_return;
  }
  // The file is ours until the store takes it.
  storage::LocalCopy spooled(output, true);
  if (made->bytes >= original_size) {
    log::info("media rendition not smaller than the original; dropped", {{"asset_id", id.str()}});
    co_return;
  }
  const std::string key = asset_key(ws, id, "rendition.mp4");
  co_await store_.put_file(key, output, "video/mp4");
  const auto bytes = static_cast<int64_t>(made->bytes);
  const db::Timestamp at(clock_.now());
  auto updated = co_await db_.query(
      "UPDATE media.assets SET rendition_key = $2, stored_bytes = stored_bytes - rendition_bytes + $3, "
      "rendition_bytes = $3, updated_at = $4 WHERE id = $1 AND status = 'ready' RETURNING id",
      id, key, bytes, at);
  if (updated.empty()) co_await store_.remove(key);  // deleted or reprocessing meanwhile
}

}  // namespace huntaze::media
