#include "media/lifecycle.hpp"

#include <filesystem>

#include "huntaze/core/log.hpp"

namespace huntaze::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kBatch = 100;

}  // namespace

Lifecycle::Lifecycle(db::Database& db, storage::BlobStore& store, Compute& compute, const Clock& clock,
                     const MediaConfig& config)
    : db_(db), store_(store), compute_(compute), clock_(clock), config_(config) {}

asio::awaitable<LifecycleReport> Lifecycle::run(jobs::JobContext* job) {
  LifecycleReport report;
  report.spool_files = co_await sweep_spool();
  report.originals = co_await sweep_originals(job);
  if (report.spool_files || report.originals)
    log::info("media lifecycle", {{"spool_files", report.spool_files}, {"originals", report.originals}});
  co_return report;
}

asio::awaitable<int> Lifecycle::sweep_spool() {
  // File times come from the file system's clock, not the injected one.
  const auto cutoff = fs::file_time_type::clock::now() - config_.temp_upload_ttl;
  const fs::path dir = config_.storage.spool_dir;
  auto sweep = [&dir, cutoff] {
    int removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code item;
      if (!it->is_regular_file(item) || it->last_write_time(item) >= cutoff || item) continue;
      if (fs::remove(it->path(), item)) ++removed;
    }
    return removed;
  };
  co_return co_await compute_.run(sweep);
}

asio::awaitable<int> Lifecycle::sweep_originals(jobs::JobContext* job) {
  const db::Timestamp now(clock_.now());
  const db::Timestamp before(clock_.now() - config_.original_grace);
  int total = 0;
  for (;;) {
    auto rows = co_await db_.query(
        "WITH doomed AS ("
        "  SELECT a.id, a.original_key FROM media.assets a "
        "  JOIN media.settings s ON s.workspace_id = a.workspace_id AND s.delete_originals "
        "  WHERE a.status = 'ready' AND a.original_key IS NOT NULL AND a.processed_at < $2 "
        "  ORDER BY a.processed_at LIMIT $3 FOR UPDATE OF a SKIP LOCKED) "
        "UPDATE media.assets a SET original_key = NULL, original_deleted_at = $1, updated_at = $1 "
        "FROM doomed WHERE a.id = doomed.id RETURNING doomed.original_key",
        now, before, kBatch);
    for (const auto& r : rows) {
      const std::string key = r.get<std::string>(0);
      std::string problem;
      try {
        co_await store_.remove(key);
      } catch (const std::exception& e) {
        problem = e.what();
      }
      if (!problem.empty())
        log::warn("media lifecycle: could not delete an original", {{"key", key}, {"error", problem}});
    }
    total += static_cast<int>(rows.size());
    if (static_cast<int64_t>(rows.size()) < kBatch) break;
    if (job) co_await job->heartbeat();
  }
  co_return total;
}

}  // namespace huntaze::media
