#include "media/assets.hpp"

#include <boost/json.hpp>

#include "huntaze/core/error.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::media {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* kColumns =
    "id, workspace_id, status, original_name, container, content_type, size_bytes, sha256, original_key, grid_key, "
    "poster_key, rendition_key, stored_bytes, probe::text, transcript, analysis::text, analysis_error, failure_code, "
    "failure_reason, attempts, created_at, updated_at, processed_at";

AssetRow read_row(const db::Row& r) {
  AssetRow a;
  a.id = r.get<Uuid>(0);
  a.workspace = r.get<Uuid>(1);
  a.status = r.get<std::string>(2);
  a.original_name = r.get<std::string>(3);
  a.container = r.get<std::optional<std::string>>(4);
  a.content_type = r.get<std::optional<std::string>>(5);
  a.size_bytes = r.get<int64_t>(6);
  if (auto h = r.get<std::optional<db::Bytes>>(7)) a.sha256 = h->data;
  a.original_key = r.get<std::optional<std::string>>(8);
  a.grid_key = r.get<std::optional<std::string>>(9);
  a.poster_key = r.get<std::optional<std::string>>(10);
  a.rendition_key = r.get<std::optional<std::string>>(11);
  a.stored_bytes = r.get<int64_t>(12);
  a.probe_json = r.get<std::optional<std::string>>(13);
  a.transcript = r.get<std::optional<std::string>>(14);
  a.analysis_json = r.get<std::optional<std::string>>(15);
  a.analysis_error = r.get<std::optional<std::string>>(16);
  a.failure_code = r.get<std::optional<std::string>>(17);
  a.failure_reason = r.get<std::optional<std::string>>(18);
  a.attempts = r.get<int32_t>(19);
  a.created_at = r.get<db::Timestamp>(20);
  a.updated_at = r.get<db::Timestamp>(21);
  if (auto t = r.get<std::optional<db::Timestamp>>(22)) a.processed_at = *t;
  return a;
}

// What a workspace stores: the quota's and the invoice's figure.
constexpr const char* kWorkspaceBytes =
    "SELECT coalesce(sum(stored_bytes), 0)::bigint FROM media.assets WHERE workspace_id = $1";

std::string select_sql(const std::string& where) {
  return std::string("SELECT ") + kColumns + " FROM media.assets " + where;
}

jobs::NewJob process_job(Uuid id, int attempt_round) {
  // One live job per asset and round: a reprocess request while a job is
  // still queued does not queue a second one.
  return jobs::NewJob{.kind = kProcessKind,
                      .payload = asset_payload(id),
                      .unique_key = "media:" + id.str() + ":" + std::to_string(attempt_round)};
}

jobs::Event asset_event(const char* type, Uuid workspace, std::string data) {
  return jobs::Event{
      .topic = "media", .type = type, .data = std::move(data), .attributes = {{"creator_id", workspace.str()}}};
}

}  // namespace

std::string asset_payload(Uuid id) {
  return json::serialize(json::object{{"asset_id", id.str()}});
}

Uuid asset_id_of(const jobs::JobContext& job) {
  if (const auto* o = job.payload().if_object())
    if (const auto* v = o->if_contains("asset_id"); v && v->is_string())
      if (auto id = Uuid::parse(v->get_string())) return *id;
  throw jobs::DiscardJob(job.kind() + ": no asset_id in the payload");
}

ApiError storage_quota_exceeded(uint64_t quota, uint64_t used, uint64_t size) {
  return ApiError(402, "storage_quota_exceeded",
                  "the workspace's plan includes " + std::to_string(quota) + " bytes of storage; " +
                      std::to_string(used) + " are used and the file has " + std::to_string(size));
}

Assets::Assets(db::Database& db, jobs::JobQueue& queue, const Clock& clock) : db_(db), queue_(queue), clock_(clock) {}

asio::awaitable<std::optional<AssetRow>> Assets::find_by_hash(Uuid workspace, const std::string& sha256) {
  // Braced temporaries stay out of co_await expressions (GCC 12, see
  // docs/architecture.md "Coroutine conventions").
  const db::Bytes hash{sha256};
  auto rows = co_await db_.query(select_sql("WHERE workspace_id = $1 AND sha256 = $2"), workspace, hash);
  if (rows.empty()) co_return std::nullopt;
  co_return read_row(rows.front());
}

asio::awaitable<uint64_t> Assets::stored_bytes(Uuid workspace) {
  auto rows = co_await db_.query(kWorkspaceBytes, workspace);
  co_return static_cast<uint64_t>(rows.front().get<int64_t>(0));
}

asio::awaitable<Assets::Admission> Assets::admit(const StoredUpload& u, uint64_t quota_bytes) {
  const db::Timestamp at(clock_.now());
  const db::Bytes hash{u.sha256};
  Admission out;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    // Uploads of one workspace admit one at a time, so two that each fit
    // alone cannot both pass the quota check together.
    co_await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('media.quota:' || $1::text, 0))", u.workspace);
    auto used_rows = co_await tx.query(kWorkspaceBytes, u.workspace);
    const auto used = static_cast<uint64_t>(used_rows.front().get<int64_t>(0));
    if (used + u.size > quota_bytes) throw storage_quota_exceeded(quota_bytes, used, u.size);
    const int64_t size = static_cast<int64_t>(u.size);
    auto rows = co_await tx.query(
        std::string("INSERT INTO media.assets (id, workspace_id, status, original_name, container, content_type, "
                    "size_bytes, sha256, original_key, uploaded_by, created_at, updated_at) "
                    "VALUES ($1, $2, 'uploaded', $3, $4, $5, $6, $7, $8, $9, $10, $10) "
                    "ON CONFLICT (workspace_id, sha256) DO NOTHING RETURNING ") +
            kColumns,
        u.id, u.workspace, u.original_name, u.container, u.content_type, size, hash, u.original_key, u.uploaded_by, at);
    if (rows.empty()) {
      auto existing = co_await tx.query(select_sql("WHERE workspace_id = $1 AND sha256 = $2"), u.workspace, hash);
      if (!existing.empty()) out.duplicate = read_row(existing.front());
      co_return;
    }
    out.created = read_row(rows.front());
    auto job = process_job(u.id, 0);
    co_await queue_.enqueue(tx, std::move(job));
  });
  co_return out;
}

asio::awaitable<std::optional<AssetRow>> Assets::get(Uuid workspace, Uuid id) {
  auto rows = co_await db_.query(select_sql("WHERE id = $1 AND workspace_id = $2"), id, workspace);
  if (rows.empty()) co_return std::nullopt;
  co_return read_row(rows.front());
}

asio::awaitable<std::vector<AssetRow>> Assets::list(Uuid workspace, const ListFilter& f) {
  std::optional<db::Timestamp> after_time;
  std::optional<Uuid> after_id;
  if (f.after) {
    after_time = db::Timestamp(f.after->first);
    after_id = f.after->second;
  }
  const int64_t limit = f.limit + 1;
  auto rows = co_await db_.query(select_sql("WHERE workspace_id = $1 AND ($2::text IS NULL OR status = $2) "
                                            "AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4)) "
                                            "ORDER BY created_at DESC, id DESC LIMIT $5"),
                                 workspace, f.status, after_time, after_id, limit);
  std::vector<AssetRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(read_row(r));
  co_return out;
}

asio::awaitable<AssetRow> Assets::reprocess(Uuid workspace, Uuid id) {
  const db::Timestamp at(clock_.now());
  std::optional<AssetRow> row;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto current = co_await tx.query(
        "SELECT status, original_key IS NOT NULL, attempts FROM media.assets WHERE id = $1 AND workspace_id = $2 "
        "FOR UPDATE",
        id, workspace);
    if (current.empty()) throw ApiError::not_found("media not found");
    const std::string status = current.front().get<std::string>(0);
    if (status == "awaiting_upload") throw ApiError::conflict("the upload has not been completed");
    if (status == "uploaded" || status == "processing")
      throw ApiError::conflict("the media is already being processed");
    if (!current.front().get<bool>(1))
      throw ApiError::conflict("the original was deleted after processing; upload it again to reprocess");
    auto rows = co_await tx.query(
        std::string("UPDATE media.assets SET status = 'uploaded', failure_code = NULL, failure_reason = NULL, "
                    "updated_at = $3 WHERE id = $1 AND workspace_id = $2 RETURNING ") +
            kColumns,
        id, workspace, at);
    row = read_row(rows.front());
    auto job = process_job(id, row->attempts);
    co_await queue_.enqueue(tx, std::move(job));
  });
  co_return std::move(*row);
}

asio::awaitable<std::optional<std::vector<std::string>>> Assets::remove(Uuid workspace, Uuid id) {
  auto rows = co_await db_.query(
      "DELETE FROM media.assets WHERE id = $1 AND workspace_id = $2 "
      "RETURNING original_key, grid_key, poster_key, rendition_key",
      id, workspace);
  if (rows.empty()) co_return std::nullopt;
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i)
    if (auto k = rows.front().get<std::optional<std::string>>(i)) keys.push_back(*k);
  co_return keys;
}

asio::awaitable<std::optional<Assets::Claim>> Assets::claim(Uuid id) {
  const db::Timestamp at(clock_.now());
  auto rows = co_await db_.query(
      "UPDATE media.assets SET status = 'processing', attempts = attempts + 1, updated_at = $2 "
      "WHERE id = $1 AND status IN ('uploaded', 'processing') "
      "RETURNING workspace_id, original_key, original_name, attempts, size_bytes",
      id, at);
  if (rows.empty()) co_return std::nullopt;
  const auto& r = rows.front();
  co_return Claim{r.get<Uuid>(0), r.get<std::optional<std::string>>(1), r.get<std::string>(2), r.get<int32_t>(3),
                  static_cast<uint64_t>(r.get<int64_t>(4))};
}

asio::awaitable<Assets::Finish> Assets::finish_ready(Uuid id, const Outcome& o) {
  const db::Timestamp at(clock_.now());
  Finish result = Finish::done;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    std::optional<db::Json> analysis;
    if (o.analysis_json) analysis = db::Json{*o.analysis_json};
    const db::Json probe{o.probe_json};
    auto rows = co_await tx.query(
        "UPDATE media.assets SET status = 'ready', grid_key = $2, poster_key = $3, "
        "derived_bytes = $4, "
        "probe = $5, transcript = $6, analysis = $7, analysis_error = $8, failure_code = NULL, "
        "failure_reason = NULL, processed_at = $9, updated_at = $9 "
        "WHERE id = $1 AND status = 'processing' RETURNING workspace_id",
        id, o.grid_key, o.poster_key, o.derived_bytes, probe, o.transcript, analysis, o.analysis_error, at);
    if (rows.empty()) {
      auto still = co_await tx.query("SELECT 1 FROM media.assets WHERE id = $1", id);
      result = still.empty() ? Finish::deleted : Finish::stale;
      co_return;
    }
    auto event = asset_event("media.ready", rows.front().get<Uuid>(0), o.event_data);
    co_await queue_.publish(tx, std::move(event));
    if (o.rendition) {
      jobs::NewJob job{
          .kind = kRenditionKind, .payload = asset_payload(id), .unique_key = "media.rendition:" + id.str()};
      co_await queue_.enqueue(tx, std::move(job));
    }
  });
  co_return result;
}

asio::awaitable<bool> Assets::finish_failed(Uuid id, const std::string& code, const std::string& reason) {
  const db::Timestamp at(clock_.now());
  bool done = false;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto rows = co_await tx.query(
        "UPDATE media.assets SET status = 'failed', failure_code = $2, failure_reason = $3, updated_at = $4 "
        "WHERE id = $1 AND status = 'processing' RETURNING workspace_id",
        id, code, reason, at);
    if (rows.empty()) co_return;
    done = true;
    const Uuid ws = rows.front().get<Uuid>(0);
    json::object data{{"id", id.str()}, {"workspace_id", ws.str()}, {"code", code}, {"reason", reason}};
    auto event = asset_event("media.failed", ws, json::serialize(data));
    co_await queue_.publish(tx, std::move(event));
  });
  co_return done;
}

asio::awaitable<std::optional<Assets::RenditionSource>> Assets::rendition_source(Uuid id) {
  auto rows = co_await db_.query(
      "SELECT workspace_id, original_key, size_bytes FROM media.assets "
      "WHERE id = $1 AND status = 'ready' AND original_key IS NOT NULL",
      id);
  if (rows.empty()) co_return std::nullopt;
  const auto& r = rows.front();
  co_return RenditionSource{r.get<Uuid>(0), r.get<std::string>(1), static_cast<uint64_t>(r.get<int64_t>(2))};
}

asio::awaitable<bool> Assets::set_rendition(Uuid id, const std::string& key, uint64_t bytes) {
  // Whatever the asset's status now: a rendition of its original stays
  // right through a reprocess, which reads the same original.
  const db::Timestamp at(clock_.now());
  const auto size = static_cast<int64_t>(bytes);
  auto rows = co_await db_.query(
      "UPDATE media.assets SET rendition_key = $2, rendition_bytes = $3, updated_at = $4 WHERE id = $1 RETURNING id",
      id, key, size, at);
  co_return !rows.empty();
}

asio::awaitable<content::MediaUsage> Assets::usage(Uuid workspace, SysTime from, SysTime to) {
  const db::Timestamp start(from), end(to);
  auto rows = co_await db_.query(
      "SELECT coalesce(sum(stored_bytes), 0)::bigint, "
      "count(*) FILTER (WHERE processed_at >= $2 AND processed_at < $3) FROM media.assets WHERE workspace_id = $1",
      workspace, start, end);
  co_return content::MediaUsage{static_cast<uint64_t>(rows.front().get<int64_t>(0)), rows.front().get<int64_t>(1)};
}

asio::awaitable<bool> Assets::delete_originals(Uuid workspace) {
  auto rows = co_await db_.query("SELECT delete_originals FROM media.settings WHERE workspace_id = $1", workspace);
  co_return !rows.empty() && rows.front().get<bool>(0);
}

asio::awaitable<void> Assets::set_delete_originals(Uuid workspace, bool value) {
  const db::Timestamp at(clock_.now());
  co_await db_.query(
      "INSERT INTO media.settings (workspace_id, delete_originals, updated_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (workspace_id) DO UPDATE SET delete_originals = $2, updated_at = $3",
      workspace, value, at);
}

}  // namespace huntaze::media
