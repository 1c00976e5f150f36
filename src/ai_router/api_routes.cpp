#include "ai_router/api_routes.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <memory>
#include <set>

#include "ai_router/openai_compat.hpp"
#include "ai_router/usage_query.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// A chat request: messages of up to ai.limits.max_request_bytes plus JSON overhead.
constexpr size_t kChatBodyLimit = 4 << 20;
constexpr auto kMaxUsageRange = std::chrono::days(400);

std::string workspace_of(const http::Request& req) {
  auto header = req.headers.get("x-huntaze-workspace");
  if (!header || header->empty()) return {};
  auto id = Uuid::parse(*header);
  if (!id) throw ApiError(400, "invalid_workspace", "X-Huntaze-Workspace must be a UUID");
  return id->str();  // one spelling: the cache key, budgets and usage rows must agree
}

void apply_cache_headers(const http::Request& req, AiRequest& r) {
  if (auto cc = req.headers.get("cache-control")) {
    if (cc->find("no-store") != std::string_view::npos)
      r.cache = CacheMode::bypass;
    else if (cc->find("no-cache") != std::string_view::npos)
      r.cache = CacheMode::refresh;
  }
  if (auto ttl = req.headers.get("x-huntaze-cache-ttl")) {
    int64_t seconds = -1;
    const auto [end, ec] = std::from_chars(ttl->data(), ttl->data() + ttl->size(), seconds);
    if (ec != std::errc() || end != ttl->data() + ttl->size()) seconds = -1;
    if (seconds < 1 || seconds > 365LL * 86400)
      throw ApiError(400, "invalid_cache_ttl", "X-Huntaze-Cache-Ttl must be whole seconds within [1, 31536000]");
    r.cache_ttl = std::chrono::seconds(seconds);
  }
}

int64_t unix_seconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

// The error body and status the errors middleware writes for any ApiError
// (it also logs 5xx and sets Retry-After).
ApiError api_error(const AiError& e) {
  // An unknown task is an unknown "model" to OpenAI clients.
  if (e.kind() == AiError::Kind::unknown_task) return ApiError(404, "unknown_model", e.what());
  return to_api_error(e);
}

asio::awaitable<http::Response> chat_completions(const AiApiDeps& deps, http::Request& req) {
  CompatRequest compat = parse_compat_request(req.body);
  AiRequest& r = compat.request;
  r.workspace = workspace_of(req);
  r.request_id = req.request_id;
  apply_cache_headers(req, r);
  // Refused requests get their status before a stream's 200 goes out.
  try {
    deps.router.check(r);
  } catch (const AiError& e) {
    throw api_error(e);
  }
  const int64_t created = unix_seconds(deps.clock);

  if (!compat.stream) {
    std::optional<Completion> c;
    std::optional<AiError> failure;
    try {
      c = co_await deps.router.complete(std::move(r));
    } catch (const AiError& e) {
      failure = e;
    }
    if (failure) throw api_error(*failure);
    auto res = http::Response::json_text(200, compat_completion(*c, created));
    res.headers.set("X-Huntaze-Deployment", c->deployment);
    res.headers.set("X-Huntaze-Cache", c->cache_hit ? "hit" : "miss");
    res.headers.set("X-Huntaze-Cost-Microdollars", std::to_string(c->cost_micros));
    co_return res;
  }

  // Streamed: the status line is already sent when the model is asked, so
  // later failures (upstream, budget) become an SSE error event, as OpenAI's
  // own API does.
  auto shared = std::make_shared<CompatRequest>(std::move(compat));
  const AiApiDeps* d = &deps;
  http::StreamProducer producer = [shared, d, created](http::BodyWriter& out) -> asio::awaitable<void> {
    AiRequest request = shared->request;
    const std::string id = "chatcmpl-" + Uuid::v7().str();
    const std::string model = request.task;
    bool first = true;
    ai_router::DeltaSink sink = [&](const Delta& delta) -> asio::awaitable<void> {
      std::string event = "data: " + compat_chunk(id, model, created, delta, first) + "\n\n";
      first = false;
      co_await out.write(event);
    };
    std::optional<Completion> c;
    std::string error_code, error_message;
    try {
      c = co_await d->router.stream(std::move(request), sink);
    } catch (const AiError& e) {
      error_code = std::string(to_string(e.kind()));
      error_message = e.what();
    }
    if (!c) {
      std::string event = "data: " + compat_error(error_code, error_message) + "\n\n";
      co_await out.write(event);
      co_return;
    }
    std::string tail = "data: " + compat_final_chunk(id, model, created, c->finish_reason) + "\n\n";
    if (shared->include_usage) tail += "data: " + compat_usage_chunk(id, model, created, c->usage) + "\n\n";
    tail += "data: [DONE]\n\n";
    co_await out.write(tail);
  };
  auto res = http::Response::streamed(200, "text/event-stream", std::move(producer));
  res.headers.set("Cache-Control", "no-cache");
  co_return res;
}

asio::awaitable<http::Response> models(const AiApiDeps& deps, http::Request&) {
  const auto status = deps.router.status();
  json::array data, routes, deployments;
  std::set<std::string> ids;
  for (const auto& r : status.routes) {
    ids.insert(r.task);
    json::array aliases;
    for (const auto& a : r.aliases) aliases.push_back(json::string(a));
    routes.push_back(json::object{{"task", r.task}, {"aliases", std::move(aliases)}});
  }
  for (const auto& d : status.deployments) {
    ids.insert(d.alias);
    deployments.push_back(json::object{{"name", d.name},
                                       {"alias", d.alias},
                                       {"model", d.model},
                                       {"provider", d.provider},
                                       {"breaker", d.breaker},
                                       {"usable", d.usable},
                                       {"in_flight", d.in_flight}});
  }
  for (const auto& id : ids) data.push_back(json::object{{"id", id}, {"object", "model"}, {"owned_by", "huntaze"}});
  json::object out{{"object", "list"},
                   {"data", std::move(data)},
                   {"routes", std::move(routes)},
                   {"deployments", std::move(deployments)}};
  co_return http::Response::json_text(200, json::serialize(out));
}

SysTime day_param(const http::Request& req, const char* name, SysTime fallback) {
  auto text = req.query_param(name);
  if (!text) return fallback;
  auto t = parse_day_or_time(*text);
  if (!t) throw ApiError(400, "invalid_date", std::string(name) + " must be a date (YYYY-MM-DD) or an ISO 8601 time");
  return *t;
}

asio::awaitable<http::Response> usage(const AiApiDeps& deps, http::Request& req) {
  const SysTime now = deps.clock.now();
  UsageFilter filter;
  filter.workspace = workspace_of(req);
  filter.to = day_param(req, "to", now);
  filter.from = day_param(req, "from", filter.to - std::chrono::days(30));
  if (filter.from >= filter.to) throw ApiError(400, "invalid_range", "from must be before to");
  if (filter.to - filter.from > kMaxUsageRange) throw ApiError(400, "invalid_range", "at most 400 days at once");
  auto rows = co_await query_usage(deps.db, filter);
  json::array data;
  for (const auto& r : rows) {
    const double hit_rate = r.calls > 0 ? static_cast<double>(r.cache_hits) / static_cast<double>(r.calls) : 0.0;
    data.push_back(json::object{{"day", r.day},
                                {"task", r.task},
                                {"model", r.model},
                                {"calls", r.calls},
                                {"errors", r.errors},
                                {"cache_hits", r.cache_hits},
                                {"cache_hit_rate", hit_rate},
                                {"input_tokens", r.input_tokens},
                                {"output_tokens", r.output_tokens},
                                {"cost_microdollars", r.cost_micros}});
  }
  json::object out{{"from", format_iso8601(filter.from)}, {"to", format_iso8601(filter.to)}, {"data", std::move(data)}};
  co_return http::Response::json_text(200, json::serialize(out));
}

using AiHandler = asio::awaitable<http::Response> (*)(const AiApiDeps&, http::Request&);

http::Handler bind(std::shared_ptr<const AiApiDeps> deps, AiHandler handler) {
  return [deps = std::move(deps), handler](http::Request& req) { return handler(*deps, req); };
}

}  // namespace

void register_ai_routes(http::Router& router, AiApiDeps deps) {
  auto shared = std::make_shared<const AiApiDeps>(deps);
  router.post("/api/v1/ai/chat/completions", bind(shared, chat_completions), {.body_limit = kChatBodyLimit});
  router.get("/api/v1/ai/models", bind(shared, models));
  router.get("/api/v1/ai/usage", bind(shared, usage));
}

}  // namespace huntaze::ai_router
