#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/ingest_items.hpp"
#include "content/json_fields.hpp"
#include "content/routes.hpp"
#include "huntaze/core/strings.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;
constexpr size_t kSmallBody = 64 * 1024;
constexpr size_t kMaxSearch = 100;

constexpr const char* kFanColumns =
    "id, platform, platform_fan_id, handle, display_name, tier, lifetime_spend_cents, tags, notes, "
    "last_message_at, last_incoming_at, created_at, updated_at";

json::object fan_json(const db::Row& r) {
  return json::object{{"id", r.get<Uuid>(0).str()},
                      {"platform", r.get<std::string>(1)},
                      {"platform_fan_id", r.get<std::string>(2)},
                      {"handle", text_or_null(r.get<std::optional<std::string>>(3))},
                      {"display_name", text_or_null(r.get<std::optional<std::string>>(4))},
                      {"tier", text_or_null(r.get<std::optional<std::string>>(5))},
                      {"lifetime_spend_cents", r.get<int64_t>(6)},
                      {"tags", strings_json(r.get<std::vector<std::string>>(7))},
                      {"notes", text_or_null(r.get<std::optional<std::string>>(8))},
                      {"last_message_at", time_or_null(r.get<std::optional<db::Timestamp>>(9))},
                      {"last_incoming_at", time_or_null(r.get<std::optional<db::Timestamp>>(10))},
                      {"created_at", format_iso8601(r.get<db::Timestamp>(11))},
                      {"updated_at", format_iso8601(r.get<db::Timestamp>(12))}};
}

constexpr const char* kMessageColumns = "id, incoming, body, sent_at, platform_message_id, ppv_price_cents, sent_by";

json::object message_json(const db::Row& r, int first) {
  const auto ppv = r.get<std::optional<int32_t>>(first + 5);
  const auto by = r.get<std::optional<Uuid>>(first + 6);
  return json::object{{"id", r.get<Uuid>(first).str()},
                      {"direction", r.get<bool>(first + 1) ? "in" : "out"},
                      {"body", r.get<std::string>(first + 2)},
                      {"sent_at", format_iso8601(r.get<db::Timestamp>(first + 3))},
                      {"platform_message_id", text_or_null(r.get<std::optional<std::string>>(first + 4))},
                      {"ppv_price_cents", ppv ? json::value(*ppv) : json::value(nullptr)},
                      {"sent_by", by ? json::value(by->str()) : json::value(nullptr)}};
}

// GET /api/v1/fans: sorted by last message (default) or by spend, newest
// or biggest first, with an optional prefix search on handle and name. The
// SQL is assembled from fixed fragments so that each combination gets its
// own plan (an "$n IS NULL OR ..." filter would defeat the keyset index).
// The search is a range on lower(handle) / lower(display_name) with the
// pattern operators (~>=~, ~<~) of their text_pattern_ops indexes (unlike
// LIKE on a bound parameter, a range stays an index condition in a generic
// plan, and needs no escaping). The matches are gathered first through
// those two indexes (a MATERIALIZED set) and only they are sorted: left to
// itself the planner walks the sort index and filters every fan of the
// workspace, which for a rare prefix means all of them.
Pass list_fans(const RouteDeps& d, const http::Request& req, const auth::Access& who) {
  const int limit = page_limit(req);
  const std::string sort = word_query(req, "sort", {"last_message", "spend"}).value_or("last_message");
  std::optional<std::string> prefix;
  if (auto q = req.query_param("q"); q && !q->empty()) {
    if (q->size() > kMaxSearch) throw ApiError::bad_request("q is at most 100 bytes", {{"q", "too long"}});
    if (!is_clean_utf8(*q)) throw ApiError::bad_request("q must be UTF-8 text", {{"q", "invalid"}});
    prefix = std::move(*q);
  }
  const bool by_spend = sort == "spend";
  const char* key = by_spend ? "lifetime_spend_cents" : "coalesce(last_message_at, '-infinity'::timestamptz)";
  auto cursor = page_cursor(req, 2);

  std::string sql = std::string("SELECT ") + kFanColumns + " FROM content.fans WHERE creator_id = $1";
  db::Params params{who.workspace_id, static_cast<int64_t>(limit + 1)};
  if (prefix) {
    sql = std::string(
              "WITH hits AS MATERIALIZED ("
              " SELECT id FROM content.fans WHERE creator_id = $1"
              "   AND lower(handle) ~>=~ lower($3) AND lower(handle) ~<~ (lower($3) || chr(1114111))"
              " UNION"
              " SELECT id FROM content.fans WHERE creator_id = $1"
              "   AND lower(display_name) ~>=~ lower($3) AND lower(display_name) ~<~ (lower($3) || chr(1114111))) "
              "SELECT ") +
          kFanColumns + " FROM content.fans WHERE creator_id = $1 AND id IN (SELECT id FROM hits)";
    params.emplace_back(*prefix);
  }
  if (cursor) {
    const std::string a = "$" + std::to_string(params.size() + 1), b = "$" + std::to_string(params.size() + 2);
    if (by_spend) {
      sql += std::string(" AND (") + key + ", id) < (" + a + "::bigint, " + b + "::uuid)";
      params.emplace_back(cursor_int((*cursor)[0]));
    } else {
      sql += std::string(" AND (") + key + ", id) < (coalesce(" + a + "::timestamptz, '-infinity'), " + b + "::uuid)";
      if ((*cursor)[0].is_null())
        params.emplace_back(nullptr);
      else
        params.emplace_back(db::Timestamp(cursor_time((*cursor)[0])));
    }
    params.emplace_back(cursor_uuid((*cursor)[1]));
  }
  sql += std::string(" ORDER BY ") + key + " DESC, id DESC LIMIT $2";
  auto rows = co_await d.db.query(sql, std::move(params));
  auto key_of = [by_spend](const json::object& last) {
    // The cursor is the sort key of the last fan served.
    json::value sort_key = by_spend                          ? last.at("lifetime_spend_cents")
                           : last.at("last_message_at").is_null() ? json::value(nullptr)
                                                                  : json::value(cursor_value(last.at("last_message_at")));
    return json::array{sort_key, last.at("id")};
  };
  co_return json_response(200, page_json(rows, limit, fan_json, key_of));
}

// GET /api/v1/conversations/{fan_id}/messages: newest first. One query
// answers both "is this fan ours" (no row: 404) and the page (a NULL
// message: the conversation is empty).
Pass timeline(const RouteDeps& d, const http::Request& req, const auth::Access& who) {
  const Uuid fan = path_uuid(req, "fan_id", "conversation");
  const int limit = page_limit(req);
  auto cursor = page_cursor(req, 2);
  std::string sql = std::string("SELECT f.id, m.* FROM content.fans f LEFT JOIN LATERAL (SELECT ") +
                    kMessageColumns + " FROM content.messages m WHERE m.fan_id = f.id";
  db::Params params{fan, who.workspace_id, static_cast<int64_t>(limit + 1)};
  if (cursor) {
    sql += " AND (m.sent_at, m.id) < ($4, $5)";
    params.emplace_back(db::Timestamp(cursor_time((*cursor)[0])));
    params.emplace_back(cursor_uuid((*cursor)[1]));
  }
  sql += " ORDER BY m.sent_at DESC, m.id DESC LIMIT $3) m ON true WHERE f.id = $1 AND f.creator_id = $2";
  auto rows = co_await d.db.query(sql, std::move(params));
  if (rows.empty()) throw ApiError::not_found("conversation not found");
  // A fan without messages: one row whose message columns are NULL.
  const bool empty = rows.front().is_null(1);
  auto to_json = [](const db::Row& r) { return message_json(r, 1); };
  auto key_of = [](const json::object& last) { return json::array{cursor_value(last.at("sent_at")), last.at("id")}; };
  json::object page = empty ? json::object{{"items", json::array()}, {"next_cursor", nullptr}}
                            : page_json(rows, limit, to_json, key_of);
  page["fan_id"] = fan.str();
  co_return json_response(200, page);
}

// POST /api/v1/conversations/{fan_id}/messages: records a message the
// creator's side sent (through Huntaze or by hand) in the timeline.
Pass send_message(const RouteDeps& d, const http::Request& req, const auth::Access& who) {
  const Uuid fan = path_uuid(req, "fan_id", "conversation");
  const json::object body = parse_object(req.body);
  std::vector<ErrorDetail> problems;
  Fields f(body, problems);
  const auto text = f.text("body", kMaxMessageBody, Need::required, true);
  const auto ppv = f.integer("ppv_price_cents", 0, kMaxAmountCents, Need::optional);
  if (f.failed()) throw ApiError::bad_request("the message is not valid", std::move(problems));

  const SysTime now = d.clock.now();
  const std::vector<std::chrono::year_month> month{utc_month(now)};
  co_await d.partitions.ensure(month);
  const Uuid id = Uuid::v7();
  const db::Timestamp at(now);
  std::optional<Uuid> sender;
  if (!who.principal.user_id.is_nil()) sender = who.principal.user_id;
  std::optional<int32_t> ppv_cents;
  if (ppv) ppv_cents = static_cast<int32_t>(*ppv);  // kMaxAmountCents fits
  auto rows = co_await d.db.query(
      "WITH fan AS (UPDATE content.fans SET last_message_at = greatest(last_message_at, $3) "
      "             WHERE id = $1 AND creator_id = $2 RETURNING id) "
      "INSERT INTO content.messages (fan_id, sent_at, id, creator_id, incoming, body, ppv_price_cents, sent_by) "
      "SELECT fan.id, $3, $4, $2, false, $5, $6, $7 FROM fan "
      "RETURNING id, incoming, body, sent_at, platform_message_id, ppv_price_cents, sent_by",
      fan, who.workspace_id, at, id, *text, ppv_cents, sender);
  if (rows.empty()) throw ApiError::not_found("conversation not found");
  co_return json_response(201, message_json(rows.front(), 0));
}

// PATCH /api/v1/fans/{fan_id}: what the creator's team notes about a fan.
Pass patch_fan(const RouteDeps& d, const http::Request& req, const auth::Access& who) {
  const Uuid fan = path_uuid(req, "fan_id", "fan");
  const json::object body = parse_object(req.body);
  std::vector<ErrorDetail> problems;
  Fields f(body, problems);
  const auto tier = f.text("tier", kMaxTier, Need::optional);
  const auto notes = f.text("notes", kMaxNotes, Need::optional, true);
  const auto tags = f.texts("tags", kMaxTags, kMaxTag);
  if (f.failed()) throw ApiError::bad_request("the fan is not valid", std::move(problems));
  const db::Timestamp now(d.clock.now());
  auto rows = co_await d.db.query(
      std::string("UPDATE content.fans SET tier = coalesce($3, tier), notes = coalesce($4, notes), "
                  "tags = coalesce($5, tags), updated_at = $6 WHERE id = $1 AND creator_id = $2 RETURNING ") +
          kFanColumns,
      fan, who.workspace_id, tier, notes, tags, now);
  if (rows.empty()) throw ApiError::not_found("fan not found");
  co_return json_response(200, fan_json(rows.front()));
}

}  // namespace

void register_fan_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  auth::Guard& g = deps.guard;
  const http::RouteOptions small{.body_limit = kSmallBody};

  router.get("/api/v1/fans", auth::guarded(g, need(auth::Role::viewer),
                                           [d](http::Request& req, const auth::Access& who) -> Pass {
                                             co_return co_await list_fans(*d, req, who);
                                           }));
  router.get("/api/v1/fans/{fan_id}",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               const Uuid fan = path_uuid(req, "fan_id", "fan");
               auto rows = co_await d->db.query(
                   std::string("SELECT ") + kFanColumns + " FROM content.fans WHERE id = $1 AND creator_id = $2", fan,
                   who.workspace_id);
               if (rows.empty()) throw ApiError::not_found("fan not found");
               co_return json_response(200, fan_json(rows.front()));
             }));
  router.patch("/api/v1/fans/{fan_id}",
               auth::guarded(g, need(auth::Role::chatter, auth::scope_ingest),
                             [d](http::Request& req, const auth::Access& who) -> Pass {
                               co_return co_await patch_fan(*d, req, who);
                             }),
               small);
  router.get("/api/v1/conversations/{fan_id}/messages",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               co_return co_await timeline(*d, req, who);
             }));
  router.post("/api/v1/conversations/{fan_id}/messages",
              auth::guarded(g, need(auth::Role::chatter, auth::scope_ingest),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              IdempotencyKeys::Handler work = [&]() -> Pass {
                                co_return co_await send_message(*d, req, who);
                              };
                              co_return co_await d->idempotency.run(who.workspace_id, req, work);
                            }),
              small);
}

}  // namespace huntaze::content
