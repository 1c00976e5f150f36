#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/json_fields.hpp"
#include "content/routes.hpp"
#include "content/suggestions.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;
constexpr size_t kSmallBody = 16 * 1024;
constexpr auto kMaxStatsRange = std::chrono::days(400);

bool wants_stream(const http::Request& req) {
  if (req.query_param("stream").value_or("") == "true") return true;
  const auto accept = req.headers.get("accept");
  return accept && accept->find("text/event-stream") != std::string_view::npos;
}

std::string sse(std::string_view event, const json::value& data) {
  return "event: " + std::string(event) + "\ndata: " + json::serialize(data) + "\n\n";
}

// POST /api/v1/conversations/{fan_id}/suggestions. With Accept:
// text/event-stream (or ?stream=true) the answer is SSE: `category`, then
// `delta` events with the text as the model writes it, then `done` with the
// same object the plain variant returns (ids included), or `error`.
Pass suggest(const RouteDeps& d, http::Request& req, const auth::Access& who) {
  const Uuid fan = path_uuid(req, "fan_id", "conversation");
  if (!wants_stream(req)) {
    std::optional<SuggestionSet> set;
    std::optional<ai_router::AiError> failure;
    try {
      set = co_await d.suggestions.suggest(who.workspace_id, fan, req.request_id);
    } catch (const ai_router::AiError& e) {
      failure = e;
    }
    if (failure) throw ai_failure(*failure);
    co_return json_response(200, to_json(*set));
  }

  // What can be refused without a model is refused before the status line
  // (the producer below only runs once the 200 is committed): an unknown
  // fan, a fan who never wrote, a writing task with no route.
  // (last_incoming_at is kept by every write of an incoming message; a
  // look into content.messages would probe every monthly partition.)
  auto state = co_await d.db.query(
      "SELECT last_incoming_at IS NOT NULL FROM content.fans WHERE id = $1 AND creator_id = $2", fan,
      who.workspace_id);
  if (state.empty()) throw ApiError::not_found("conversation not found");
  if (!state.front().get<bool>(0))
    throw ApiError(409, "nothing_to_answer", "the fan has not written anything to answer yet");
  ai_router::AiRequest probe;
  probe.task = d.config.suggestions.task;
  probe.messages = {{"user", "?", {}}};
  std::optional<ai_router::AiError> refused;
  try {
    d.router.check(probe);
  } catch (const ai_router::AiError& e) {
    refused = e;
  }
  if (refused) throw ai_failure(*refused);
  const Uuid workspace = who.workspace_id;
  const std::string request_id = req.request_id;
  Suggestions* service = &d.suggestions;
  http::StreamProducer producer = [service, workspace, fan, request_id](http::BodyWriter& out) -> asio::awaitable<void> {
    ai_router::DeltaSink sink = [&](const ai_router::Delta& delta) -> asio::awaitable<void> {
      if (delta.content.empty()) co_return;
      const std::string event = sse("delta", json::object{{"text", delta.content}});
      co_await out.write(event);
    };
    Suggestions::CategorySink on_category = [&](Category c) -> asio::awaitable<void> {
      const std::string event = sse("category", json::object{{"category", to_string(c)}});
      co_await out.write(event);
    };
    std::optional<SuggestionSet> set;
    std::string code, message;
    try {
      set = co_await service->suggest(workspace, fan, request_id, &sink, &on_category);
    } catch (const ai_router::AiError& e) {
      const ApiError mapped = ai_failure(e);
      code = mapped.code();
      message = mapped.what();
    } catch (const ApiError& e) {
      code = e.code();
      message = e.what();
    } catch (const boost::system::system_error&) {
      throw;  // the client went away: nobody to tell
    } catch (const std::exception& e) {
      // The 200 is already sent: the client learns of the failure from the
      // stream (the server's log has the details), not from a cut connection.
      log::error("streamed suggestion failed", {{"request_id", request_id}, {"error", e.what()}});
      code = "internal_error";
      message = "the suggestion failed; try again";
    }
    const std::string last = set ? sse("done", to_json(*set))
                                 : sse("error", json::object{{"error", json::object{{"code", code},
                                                                                     {"message", message},
                                                                                     {"request_id", request_id}}}});
    co_await out.write(last);
  };
  auto res = http::Response::streamed(200, "text/event-stream", std::move(producer));
  res.headers.set("Cache-Control", "no-cache");
  co_return res;
}

}  // namespace

void register_suggestion_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  auth::Guard& g = deps.guard;
  const http::RouteOptions small{.body_limit = kSmallBody};

  router.post("/api/v1/conversations/{fan_id}/suggestions",
              auth::guarded(g, need(auth::Role::chatter, auth::scope_ingest),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              co_return co_await suggest(*d, req, who);
                            }),
              small);

  router.post("/api/v1/suggestions/{suggestion_id}/feedback",
              auth::guarded(g, need(auth::Role::chatter, auth::scope_ingest),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const Uuid id = path_uuid(req, "suggestion_id", "suggestion");
                              const json::object body = parse_object(req.body);
                              std::vector<ErrorDetail> problems;
                              Fields f(body, problems);
                              const auto outcome = f.word("outcome", {"accepted", "edited", "rejected"});
                              auto final_text = f.text("final_text", 10'000, Need::optional, true);
                              if (outcome == "edited" && (!final_text || final_text->empty()))
                                f.problem("final_text", "is required when the outcome is edited");
                              if (f.failed()) throw ApiError::bad_request("the feedback is not valid", problems);
                              const Feedback feedback = *parse_feedback(*outcome);
                              const Uuid user = who.principal.user_id;
                              auto answer = co_await d->suggestions.feedback(who.workspace_id, id, feedback,
                                                                             std::move(final_text), user);
                              co_return json_response(200, answer);
                            }),
              small);

  router.get("/api/v1/suggestions/stats",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               const SysTime now = d->clock.now();
               const SysTime to = time_query(req, "to").value_or(now);
               const SysTime from = time_query(req, "from").value_or(to - std::chrono::days(30));
               if (from >= to || to - from > kMaxStatsRange)
                 throw ApiError::bad_request("from must be before to, at most 400 days apart", {{"from", "invalid"}});
               auto answer = co_await d->suggestions.stats(who.workspace_id, from, to);
               co_return json_response(200, answer);
             }));
}

}  // namespace huntaze::content
