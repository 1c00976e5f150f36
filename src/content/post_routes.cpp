#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/json_fields.hpp"
#include "content/routes.hpp"
#include "content/money.hpp"
#include "content/suggestion_prompt.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;
constexpr size_t kSmallBody = 32 * 1024;

PostFields post_fields(const http::Request& req, bool creating) {
  const json::object body = parse_object(req.body);
  std::vector<ErrorDetail> problems;
  Fields f(body, problems);
  PostFields p;
  p.platform = f.token("platform", 32, creating ? Need::required : Need::optional);
  p.caption = f.text("caption", 5000, Need::optional, true);
  p.media = f.texts("media", 20, 500);
  p.status = f.word("status", {"draft", "scheduled"}, Need::optional);
  p.scheduled_at = f.time("scheduled_at", Need::optional);
  if (f.failed()) throw ApiError::bad_request("the post is not valid", std::move(problems));
  return p;
}

// One `creative` call whose answer is a list separated by "---" lines.
asio::awaitable<std::vector<std::string>> ideas(ai_router::AiRouter& router, Uuid workspace, std::string system,
                                                std::string user, int count, const std::string& request_id) {
  ai_router::AiRequest request;
  request.task = "creative";
  request.messages = {{"system", std::move(system), {}}, {"user", std::move(user), {}}};
  request.params.temperature = 0.9;
  request.params.max_tokens = 600;
  request.workspace = workspace.str();
  request.request_id = request_id;
  std::optional<ai_router::Completion> answer;
  std::optional<ai_router::AiError> failure;
  try {
    answer = co_await router.complete(std::move(request));
  } catch (const ai_router::AiError& e) {
    failure = e;
  }
  if (failure) throw ai_failure(*failure);
  co_return read_suggestions(answer->content, count);
}

}  // namespace

void register_post_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  auth::Guard& g = deps.guard;
  const http::RouteOptions small{.body_limit = kSmallBody};

  router.get("/api/v1/posts",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               const auto status = word_query(req, "status", {"draft", "scheduled", "published", "canceled"});
               const auto from = time_query(req, "from"), to = time_query(req, "to");
               const int limit = page_limit(req);
               const auto cursor = page_cursor(req, 2);
               auto page = co_await d->posts.list(who.workspace_id, status, from, to, limit, cursor);
               co_return json_response(200, page);
             }));

  router.post("/api/v1/posts",
              auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const PostFields fields = post_fields(req, true);
                              IdempotencyKeys::Handler work = [&]() -> Pass {
                                auto post = co_await d->posts.create(who.workspace_id, who.principal.user_id, fields);
                                co_return json_response(201, post);
                              };
                              co_return co_await d->idempotency.run(who.workspace_id, req, work);
                            }),
              small);

  router.get("/api/v1/posts/{post_id}",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               const Uuid id = path_uuid(req, "post_id", "post");
               auto post = co_await d->posts.get(who.workspace_id, id);
               if (!post) throw ApiError::not_found("post not found");
               co_return json_response(200, *post);
             }));

  router.patch("/api/v1/posts/{post_id}",
               auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                             [d](http::Request& req, const auth::Access& who) -> Pass {
                               const Uuid id = path_uuid(req, "post_id", "post");
                               const PostFields fields = post_fields(req, false);
                               auto post = co_await d->posts.update(who.workspace_id, id, fields);
                               co_return json_response(200, post);
                             }),
               small);

  router.post("/api/v1/posts/{post_id}/cancel",
              auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const Uuid id = path_uuid(req, "post_id", "post");
                              auto post = co_await d->posts.cancel(who.workspace_id, id);
                              co_return json_response(200, post);
                            }),
              small);

  // The connector reports the publication (API keys with `ingest`).
  router.post("/api/v1/posts/{post_id}/published",
              auth::guarded(g, need(auth::Role::chatter, auth::scope_ingest),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const Uuid id = path_uuid(req, "post_id", "post");
                              const json::object body = parse_object(req.body);
                              std::vector<ErrorDetail> problems;
                              Fields f(body, problems);
                              auto platform_id = f.token("platform_post_id", 128, Need::optional);
                              auto at = f.time("published_at", Need::optional);
                              if (f.failed()) throw ApiError::bad_request("the report is not valid", problems);
                              auto post = co_await d->posts.mark_published(who.workspace_id, id, std::move(platform_id), at);
                              co_return json_response(200, post);
                            }),
              small);

  // Caption ideas for a post about `about`, in the creator's voice.
  router.post("/api/v1/posts/caption-ideas",
              auth::guarded(g, need(auth::Role::chatter, auth::scope_ingest),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const json::object body = parse_object(req.body);
                              std::vector<ErrorDetail> problems;
                              Fields f(body, problems);
                              const auto about = f.text("about", 2000, Need::required, true);
                              const int count = static_cast<int>(f.integer("count", 1, 10, Need::optional).value_or(3));
                              if (f.failed()) throw ApiError::bad_request("the request is not valid", problems);
                              auto voice = co_await d->db.query(
                                  "SELECT voice, tone FROM content.personas WHERE creator_id = $1", who.workspace_id);
                              std::string system =
                                  "You write social media captions for a content creator, in first person.";
                              if (!voice.empty()) {
                                const auto v = voice.front().get<std::string>(0), t = voice.front().get<std::string>(1);
                                if (!v.empty()) system += " Voice: " + v + ".";
                                if (!t.empty()) system += " Tone: " + t + ".";
                              }
                              system += " Write exactly " + std::to_string(count) +
                                        " different captions, each under 220 characters, with a line containing "
                                        "only --- between them and nothing else.";
                              std::string user = "The post: " + *about;
                              auto list = co_await ideas(d->router, who.workspace_id, std::move(system),
                                                         std::move(user), count, req.request_id);
                              co_return json_response(200, json::object{{"captions", strings_json(list)}});
                            }),
              small);

  // "What to post next": recent posts and what followed them, to the creative task.
  router.get("/api/v1/posts/ideas",
             auth::guarded(g, need(auth::Role::chatter, auth::scope_ingest),
                           [d](http::Request& req, const auth::Access& who) -> Pass {
                             const SysTime now = d->clock.now();
                             auto evidence = co_await d->posts.recent_performance(who.workspace_id, now, 30);
                             std::string user = "Recent posts (newest first) and what followed each within 48 hours:\n";
                             for (const auto& p : evidence) {
                               const auto& o = p.as_object();
                               user += "- \"" + std::string(o.at("caption").as_string()) + "\": " +
                                       std::to_string(o.at("messages_48h").as_int64()) + " fan messages, " +
                                       dollars(o.at("revenue_cents_48h").as_int64()) + " revenue\n";
                             }
                             if (evidence.empty()) user += "(none yet)\n";
                             std::string system =
                                 "You advise a content creator on what to post next. From what worked recently, "
                                 "propose exactly 3 specific post ideas, each one or two sentences, with a line "
                                 "containing only --- between them and nothing else.";
                             auto list = co_await ideas(d->router, who.workspace_id, std::move(system), std::move(user),
                                                        3, req.request_id);
                             co_return json_response(
                                 200, json::object{{"ideas", strings_json(list)}, {"based_on", std::move(evidence)}});
                           }));
}

}  // namespace huntaze::content
