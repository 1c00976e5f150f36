#include "content/posts.hpp"

#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/timed_moves.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* kColumns =
    "id, platform, caption, media, status, scheduled_at, due_at, published_at, platform_post_id, created_at, "
    "updated_at";

json::object post_json(const db::Row& r) {
  return json::object{{"id", r.get<Uuid>(0).str()},
                      {"platform", r.get<std::string>(1)},
                      {"caption", r.get<std::string>(2)},
                      {"media", strings_json(r.get<std::vector<std::string>>(3))},
                      {"status", r.get<std::string>(4)},
                      {"scheduled_at", time_or_null(r.get<std::optional<db::Timestamp>>(5))},
                      {"due_at", time_or_null(r.get<std::optional<db::Timestamp>>(6))},
                      {"published_at", time_or_null(r.get<std::optional<db::Timestamp>>(7))},
                      {"platform_post_id", text_or_null(r.get<std::optional<std::string>>(8))},
                      {"created_at", format_iso8601(r.get<db::Timestamp>(9))},
                      {"updated_at", format_iso8601(r.get<db::Timestamp>(10))}};
}

}  // namespace

Posts::Posts(db::Database& db, jobs::JobQueue& queue, const Clock& clock) : db_(db), queue_(queue), clock_(clock) {}

asio::awaitable<void> Posts::schedule_due(db::Executor& tx, Uuid id, SysTime at) {
  jobs::NewJob job{.kind = kPostsDueKind,
                   .payload = json::serialize(json::object{{"post_id", id.str()}, {"at", at.time_since_epoch().count()}}),
                   .run_at = at,
                   .unique_key = "post:" + id.str() + ":due:" + std::to_string(at.time_since_epoch().count())};
  co_await queue_.enqueue(tx, std::move(job));
}

asio::awaitable<json::object> Posts::create(Uuid workspace, Uuid user, const PostFields& f) {
  const std::string status = f.status.value_or(f.scheduled_at ? "scheduled" : "draft");
  if (status == "scheduled" && !f.scheduled_at)
    throw ApiError::bad_request("a scheduled post needs scheduled_at", {{"scheduled_at", "is required"}});
  const Uuid id = Uuid::v7();
  std::optional<Uuid> by;
  if (!user.is_nil()) by = user;
  std::optional<db::Timestamp> when;
  if (f.scheduled_at) when = db::Timestamp(*f.scheduled_at);
  const db::Timestamp at(clock_.now());
  const std::vector<std::string> media = f.media.value_or(std::vector<std::string>{});
  const std::string caption = f.caption.value_or("");
  std::optional<json::object> made;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto rows = co_await tx.query(
        std::string("INSERT INTO content.posts (id, creator_id, platform, caption, media, status, scheduled_at, "
                    "created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING ") +
            kColumns,
        id, workspace, *f.platform, caption, media, status, when, by, at);
    made = post_json(rows.front());
    if (status == "scheduled") co_await schedule_due(tx, id, *f.scheduled_at);
  });
  co_return std::move(*made);
}

asio::awaitable<json::object> Posts::update(Uuid workspace, Uuid id, const PostFields& f) {
  std::optional<json::object> changed;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto rows = co_await tx.query(
        "SELECT status, scheduled_at FROM content.posts WHERE id = $1 AND creator_id = $2 FOR UPDATE", id, workspace);
    if (rows.empty()) throw ApiError::not_found("post not found");
    const std::string old_status = rows.front().get<std::string>(0);
    if (old_status == "published" || old_status == "canceled")
      throw ApiError::conflict("the post is " + old_status + "; it can no longer change");
    const auto old_time = rows.front().get<std::optional<db::Timestamp>>(1);
    const std::string status = f.status.value_or(old_status);
    const std::optional<SysTime> time = f.scheduled_at ? f.scheduled_at : old_time;
    if (status == "scheduled" && !time)
      throw ApiError::bad_request("a scheduled post needs scheduled_at", {{"scheduled_at", "is required"}});
    // A new time (or scheduling again) is a new due event.
    const bool reschedule = status == "scheduled" && (old_status != "scheduled" || time != old_time);
    std::optional<db::Timestamp> when;
    if (time) when = db::Timestamp(*time);
    const db::Timestamp at(clock_.now());
    auto updated = co_await tx.query(
        std::string("UPDATE content.posts SET platform = coalesce($3, platform), caption = coalesce($4, caption), "
                    "media = coalesce($5, media), status = $6, scheduled_at = $7, "
                    "due_at = CASE WHEN $8 THEN NULL ELSE due_at END, updated_at = $9 "
                    "WHERE id = $1 AND creator_id = $2 RETURNING ") +
            kColumns,
        id, workspace, f.platform, f.caption, f.media, status, when, reschedule, at);
    changed = post_json(updated.front());
    if (reschedule) co_await schedule_due(tx, id, *time);
  });
  co_return std::move(*changed);
}

asio::awaitable<json::object> Posts::cancel(Uuid workspace, Uuid id) {
  const db::Timestamp at(clock_.now());
  auto rows = co_await db_.query(
      std::string("UPDATE content.posts SET status = 'canceled', updated_at = $3 "
                  "WHERE id = $1 AND creator_id = $2 AND status IN ('draft', 'scheduled') RETURNING ") +
          kColumns,
      id, workspace, at);
  if (!rows.empty()) co_return post_json(rows.front());
  if (co_await get(workspace, id)) throw ApiError::conflict("the post was already published or canceled");
  throw ApiError::not_found("post not found");
}

asio::awaitable<json::object> Posts::mark_published(Uuid workspace, Uuid id, std::optional<std::string> platform_post_id,
                                                    std::optional<SysTime> published_at) {
  const db::Timestamp at(published_at.value_or(clock_.now())), now(clock_.now());
  // Reporting the same publication twice is harmless: the first report stands.
  auto rows = co_await db_.query(
      std::string("UPDATE content.posts SET status = 'published', published_at = coalesce(published_at, $3), "
                  "platform_post_id = coalesce(platform_post_id, $4), updated_at = $5 "
                  "WHERE id = $1 AND creator_id = $2 AND status IN ('scheduled', 'published', 'draft') RETURNING ") +
          kColumns,
      id, workspace, at, platform_post_id, now);
  if (!rows.empty()) co_return post_json(rows.front());
  if (co_await get(workspace, id)) throw ApiError::conflict("the post was canceled");
  throw ApiError::not_found("post not found");
}

asio::awaitable<std::optional<json::object>> Posts::get(Uuid workspace, Uuid id) {
  auto rows = co_await db_.query(
      std::string("SELECT ") + kColumns + " FROM content.posts WHERE id = $1 AND creator_id = $2", id, workspace);
  if (rows.empty()) co_return std::nullopt;
  co_return post_json(rows.front());
}

asio::awaitable<json::object> Posts::list(Uuid workspace, std::optional<std::string> status,
                                          std::optional<SysTime> from, std::optional<SysTime> to, int limit,
                                          const std::optional<json::array>& cursor) {
  const char* key = "coalesce(scheduled_at, created_at)";
  std::string sql = std::string("SELECT ") + kColumns + " FROM content.posts WHERE creator_id = $1";
  db::Params params{workspace, static_cast<int64_t>(limit + 1)};
  auto next = [&params] { return "$" + std::to_string(params.size() + 1); };
  if (status) {
    sql += " AND status = " + next();
    params.emplace_back(*status);
  }
  if (from) {
    sql += std::string(" AND ") + key + " >= " + next();
    params.emplace_back(db::Timestamp(*from));
  }
  if (to) {
    sql += std::string(" AND ") + key + " < " + next();
    params.emplace_back(db::Timestamp(*to));
  }
  if (cursor) {
    const std::string a = next();
    params.emplace_back(db::Timestamp(cursor_time((*cursor)[0])));
    sql += std::string(" AND (") + key + ", id) < (" + a + ", " + next() + ")";
    params.emplace_back(cursor_uuid((*cursor)[1]));
  }
  sql += std::string(" ORDER BY ") + key + " DESC, id DESC LIMIT $2";
  auto rows = co_await db_.query(sql, std::move(params));
  auto key_of = [](const json::object& last) {
    const auto& when = last.at("scheduled_at").is_null() ? last.at("created_at") : last.at("scheduled_at");
    return json::array{cursor_value(when), last.at("id")};
  };
  co_return page_json(rows, limit, post_json, key_of);
}

namespace {

// RETURNING creator_id first, then the post's columns.
constexpr const char* kDueOne =
    "UPDATE content.posts SET due_at = $1 WHERE id = $2 AND status = 'scheduled' AND due_at IS NULL "
    "AND scheduled_at <= $1 RETURNING creator_id, id, platform, caption, media, scheduled_at";
constexpr const char* kDueSweep =
    "UPDATE content.posts SET due_at = $1 WHERE id IN (SELECT id FROM content.posts WHERE status = 'scheduled' "
    "AND due_at IS NULL AND scheduled_at <= $1 ORDER BY scheduled_at LIMIT $2) AND status = 'scheduled' "
    "AND due_at IS NULL AND scheduled_at <= $1 RETURNING creator_id, id, platform, caption, media, scheduled_at";

jobs::Event due_event(const db::Row& r) {
  const std::string ws = r.get<Uuid>(0).str();
  json::object data{{"post_id", r.get<Uuid>(1).str()},
                    {"workspace_id", ws},
                    {"platform", r.get<std::string>(2)},
                    {"caption", r.get<std::string>(3)},
                    {"media", strings_json(r.get<std::vector<std::string>>(4))},
                    {"scheduled_at", format_iso8601(r.get<db::Timestamp>(5))}};
  return jobs::Event{.topic = "content",
                     .type = "post.due",
                     .data = json::serialize(data),
                     .attributes = {{"creator_id", ws}, {"platform", r.get<std::string>(2)}}};
}

const TimedMove kDue{kDueOne, kDueSweep,
                     "SELECT scheduled_at FROM content.posts WHERE id = $1 AND status = 'scheduled' AND due_at IS NULL",
                     due_event};

}  // namespace

asio::awaitable<int> Posts::due(std::optional<Uuid> id, SysTime now, std::optional<SysTime> scheduled_for) {
  return run_move(db_, queue_, kDue, id, now, scheduled_for);
}

asio::awaitable<json::array> Posts::recent_performance(Uuid workspace, SysTime now, int days) {
  const db::Timestamp since(now - std::chrono::days(days));
  // What followed each post within 48 hours: the fans who wrote, and the money.
  auto rows = co_await db_.query(
      "SELECT p.id, p.caption, p.published_at, "
      "  (SELECT count(*) FROM content.messages m WHERE m.creator_id = p.creator_id AND m.incoming "
      "     AND m.sent_at >= p.published_at AND m.sent_at < p.published_at + interval '48 hours'), "
      "  (SELECT coalesce(sum(CASE WHEN t.kind = 'refund' THEN -t.amount_cents ELSE t.amount_cents END), 0) "
      "     FROM content.transactions t WHERE t.creator_id = p.creator_id "
      "     AND t.occurred_at >= p.published_at AND t.occurred_at < p.published_at + interval '48 hours') "
      "FROM content.posts p WHERE p.creator_id = $1 AND p.status = 'published' AND p.published_at >= $2 "
      "ORDER BY p.published_at DESC LIMIT 20",
      workspace, since);
  json::array out;
  for (const auto& r : rows)
    out.push_back(json::object{{"post_id", r.get<Uuid>(0).str()},
                               {"caption", r.get<std::string>(1)},
                               {"published_at", format_iso8601(r.get<db::Timestamp>(2))},
                               {"messages_48h", r.get<int64_t>(3)},
                               {"revenue_cents_48h", r.get<int64_t>(4)}});
  co_return out;
}

}  // namespace huntaze::content
