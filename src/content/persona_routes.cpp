#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/json_fields.hpp"
#include "content/routes.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;
constexpr size_t kSmallBody = 64 * 1024;
constexpr int64_t kMaxSavedReplies = 500;
constexpr size_t kMaxPriceItems = 50;

json::object persona_json(const db::Row& r) {
  boost::system::error_code ec;
  json::value prices = json::parse(r.get<db::Json>(5).text, ec);
  return json::object{{"voice", r.get<std::string>(0)},
                      {"tone", r.get<std::string>(1)},
                      {"dos", strings_json(r.get<std::vector<std::string>>(2))},
                      {"donts", strings_json(r.get<std::vector<std::string>>(3))},
                      {"emoji_habits", r.get<std::string>(4)},
                      {"price_list", ec ? json::value(json::array()) : prices},
                      {"languages", strings_json(r.get<std::vector<std::string>>(6))},
                      {"updated_at", time_or_null(r.get<std::optional<db::Timestamp>>(7))}};
}

constexpr const char* kPersonaColumns = "voice, tone, dos, donts, emoji_habits, price_list, languages, updated_at";

// [{"item": "custom video", "price_cents": 5000}, ...]
json::array price_list(const json::object& body, std::vector<ErrorDetail>& problems) {
  json::array out;
  const auto* v = body.if_contains("price_list");
  if (!v || v->is_null()) return out;
  if (!v->is_array() || v->get_array().size() > kMaxPriceItems) {
    problems.push_back({"price_list", "must be an array of at most 50 {item, price_cents} objects"});
    return out;
  }
  size_t i = 0;
  for (const auto& entry : v->get_array()) {
    const std::string prefix = "price_list[" + std::to_string(i++) + "].";
    if (!entry.is_object()) {
      problems.push_back({prefix, "must be an object"});
      continue;
    }
    Fields f(entry.get_object(), problems, prefix);
    auto item = f.text("item", 100);
    auto cents = f.integer("price_cents", 0, 100'000'000);
    if (item && cents) out.push_back(json::object{{"item", *item}, {"price_cents", *cents}});
  }
  return out;
}

json::object reply_json(const db::Row& r) {
  return json::object{{"id", r.get<Uuid>(0).str()},
                      {"title", r.get<std::string>(1)},
                      {"body", r.get<std::string>(2)},
                      {"tags", strings_json(r.get<std::vector<std::string>>(3))},
                      {"created_at", format_iso8601(r.get<db::Timestamp>(4))},
                      {"updated_at", format_iso8601(r.get<db::Timestamp>(5))}};
}

constexpr const char* kReplyColumns = "id, title, body, tags, created_at, updated_at";

}  // namespace

void register_persona_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  auth::Guard& g = deps.guard;
  const http::RouteOptions small{.body_limit = kSmallBody};

  // ---- persona: how the creator writes -----------------------------------
  router.get("/api/v1/persona",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request&, const auth::Access& who) -> Pass {
               auto rows = co_await d->db.query(
                   std::string("SELECT ") + kPersonaColumns + " FROM content.personas WHERE creator_id = $1",
                   who.workspace_id);
               if (rows.empty()) {
                 // Not written yet: the empty persona.
                 co_return json_response(200, json::object{{"voice", ""}, {"tone", ""}, {"dos", json::array()},
                                                           {"donts", json::array()}, {"emoji_habits", ""},
                                                           {"price_list", json::array()}, {"languages", json::array()},
                                                           {"updated_at", nullptr}});
               }
               co_return json_response(200, persona_json(rows.front()));
             }));

  router.put("/api/v1/persona",
             auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                           [d](http::Request& req, const auth::Access& who) -> Pass {
                             const json::object body = parse_object(req.body);
                             std::vector<ErrorDetail> problems;
                             Fields f(body, problems);
                             const auto voice = f.text("voice", 2000, Need::optional, true).value_or("");
                             const auto tone = f.text("tone", 200, Need::optional).value_or("");
                             const auto dos = f.texts("dos", 20, 200).value_or(std::vector<std::string>{});
                             const auto donts = f.texts("donts", 20, 200).value_or(std::vector<std::string>{});
                             const auto emoji = f.text("emoji_habits", 200, Need::optional).value_or("");
                             const auto languages = f.texts("languages", 10, 16).value_or(std::vector<std::string>{});
                             const json::array prices = price_list(body, problems);
                             if (!problems.empty()) throw ApiError::bad_request("the persona is not valid", problems);
                             const db::Json prices_json{json::serialize(prices)};
                             const db::Timestamp now(d->clock.now());
                             auto rows = co_await d->db.query(
                                 std::string("INSERT INTO content.personas AS p (creator_id, voice, tone, dos, donts, "
                                             "emoji_habits, price_list, languages, updated_at) "
                                             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                                             "ON CONFLICT (creator_id) DO UPDATE SET voice = $2, tone = $3, dos = $4, "
                                             "donts = $5, emoji_habits = $6, price_list = $7, languages = $8, "
                                             "updated_at = $9 RETURNING ") +
                                     kPersonaColumns,
                                 who.workspace_id, voice, tone, dos, donts, emoji, prices_json, languages, now);
                             co_return json_response(200, persona_json(rows.front()));
                           }),
             small);

  // ---- saved replies: the creator's own canned answers --------------------
  router.get("/api/v1/saved-replies",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               const int limit = page_limit(req, 100, 500);
               auto cursor = page_cursor(req, 2);
               std::string sql = std::string("SELECT ") + kReplyColumns +
                                 " FROM content.saved_replies WHERE creator_id = $1";
               db::Params params{who.workspace_id, static_cast<int64_t>(limit + 1)};
               if (cursor) {
                 sql += " AND (created_at, id) < ($3, $4)";
                 params.emplace_back(db::Timestamp(cursor_time((*cursor)[0])));
                 params.emplace_back(cursor_uuid((*cursor)[1]));
               }
               sql += " ORDER BY created_at DESC, id DESC LIMIT $2";
               auto rows = co_await d->db.query(sql, std::move(params));
               auto key_of = [](const json::object& last) {
                 return json::array{cursor_value(last.at("created_at")), last.at("id")};
               };
               co_return json_response(200, page_json(rows, limit, reply_json, key_of));
             }));

  router.post("/api/v1/saved-replies",
              auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const json::object body = parse_object(req.body);
                              std::vector<ErrorDetail> problems;
                              Fields f(body, problems);
                              const auto title = f.text("title", 100);
                              const auto text = f.text("body", 2000, Need::required, true);
                              const auto tags = f.texts("tags", 20, 40).value_or(std::vector<std::string>{});
                              if (f.failed()) throw ApiError::bad_request("the saved reply is not valid", problems);
                              IdempotencyKeys::Handler work = [&]() -> Pass {
                              const db::Timestamp now(d->clock.now());
                              const Uuid id = Uuid::v7();
                              // The count and the insert in one statement: two concurrent
                              // creations can overshoot by one, never by many.
                              auto rows = co_await d->db.query(
                                  std::string("INSERT INTO content.saved_replies (id, creator_id, title, body, tags, "
                                              "created_at, updated_at) SELECT $1, $2, $3, $4, $5, $6, $6 "
                                              "WHERE (SELECT count(*) FROM content.saved_replies WHERE creator_id = $2) "
                                              "< $7 RETURNING ") +
                                      kReplyColumns,
                                  id, who.workspace_id, *title, *text, tags, now, kMaxSavedReplies);
                              if (rows.empty())
                                throw ApiError::conflict("a workspace keeps at most 500 saved replies; delete some first");
                              co_return json_response(201, reply_json(rows.front()));
                              };
                              co_return co_await d->idempotency.run(who.workspace_id, req, work);
                            }),
              small);

  router.patch("/api/v1/saved-replies/{reply_id}",
               auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                             [d](http::Request& req, const auth::Access& who) -> Pass {
                               const Uuid id = path_uuid(req, "reply_id", "saved reply");
                               const json::object body = parse_object(req.body);
                               std::vector<ErrorDetail> problems;
                               Fields f(body, problems);
                               const auto title = f.text("title", 100, Need::optional);
                               const auto text = f.text("body", 2000, Need::optional, true);
                               const auto tags = f.texts("tags", 20, 40);
                               if (title && title->empty()) f.problem("title", "must not be empty");
                               if (text && text->empty()) f.problem("body", "must not be empty");
                               if (f.failed()) throw ApiError::bad_request("the saved reply is not valid", problems);
                               const db::Timestamp now(d->clock.now());
                               auto rows = co_await d->db.query(
                                   std::string("UPDATE content.saved_replies SET title = coalesce($3, title), "
                                               "body = coalesce($4, body), tags = coalesce($5, tags), updated_at = $6 "
                                               "WHERE id = $1 AND creator_id = $2 RETURNING ") +
                                       kReplyColumns,
                                   id, who.workspace_id, title, text, tags, now);
                               if (rows.empty()) throw ApiError::not_found("saved reply not found");
                               co_return json_response(200, reply_json(rows.front()));
                             }),
               small);

  router.del("/api/v1/saved-replies/{reply_id}",
             auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                           [d](http::Request& req, const auth::Access& who) -> Pass {
                             const Uuid id = path_uuid(req, "reply_id", "saved reply");
                             auto rows = co_await d->db.query(
                                 "DELETE FROM content.saved_replies WHERE id = $1 AND creator_id = $2 RETURNING 1", id,
                                 who.workspace_id);
                             if (rows.empty()) throw ApiError::not_found("saved reply not found");
                             co_return http::Response::no_content();
                           }));
}

}  // namespace huntaze::content
