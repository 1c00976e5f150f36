#include "media/rendition_job.hpp"

#include <filesystem>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"
#include "huntaze/core/log.hpp"
#include "media/media_failure.hpp"
#include "media/processing.hpp"
#include "media/rendition.hpp"

namespace huntaze::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;

RenditionJob::RenditionJob(Assets& assets, storage::BlobStore& store, Compute& compute, const MediaConfig& config)
    : assets_(assets), store_(store), compute_(compute), config_(config) {}

asio::awaitable<void> RenditionJob::run(jobs::JobContext& job) {
  const Uuid id = asset_id_of(job);
  auto source = co_await assets_.rendition_source(id);
  if (!source) co_return;  // deleted, reprocessing, or its original is gone
  const Uuid ws = source->workspace;
  const std::string original_key = source->original_key;
  const uint64_t original_size = source->size_bytes;

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
  // The original's temporary download (S3) goes on the pool: disk work.
  auto discard = [&] { copy = storage::LocalCopy(); };
  co_await compute_.run(discard);
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
  const bool kept = co_await assets_.set_rendition(id, key, made->bytes);
  if (!kept) co_await store_.remove(key);  // the asset was deleted meanwhile
}

}  // namespace huntaze::media
