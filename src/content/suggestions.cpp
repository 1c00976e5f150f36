#include "content/suggestions.hpp"

#include "content/api.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "huntaze/core/error.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/jobs/batched_delete.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// The fan, the persona, the latest messages (oldest first) and the offers
// running now, in one round trip.
constexpr const char* kLoad = R"(
SELECT f.platform, coalesce(f.display_name, f.handle, ''), coalesce(f.tier, ''), f.lifetime_spend_cents, f.tags,
       coalesce(f.notes, ''), p.voice, p.tone, p.dos, p.donts, p.emoji_habits, p.price_list, p.languages,
       (SELECT coalesce(json_agg(json_build_array(m.id, m.incoming, m.body) ORDER BY m.sent_at, m.id), '[]')
          FROM (SELECT id, incoming, body, sent_at FROM content.messages
                 WHERE fan_id = f.id ORDER BY sent_at DESC, id DESC LIMIT $3) m),
       (SELECT coalesce(json_agg(json_build_array(o.title, o.kind, o.price, o.pct) ORDER BY o.starts_at, o.id), '[]')
          FROM (SELECT id, title, kind, coalesce(price_cents, 0) AS price, coalesce(discount_percent, 0) AS pct, starts_at
                  FROM content.offers WHERE creator_id = f.creator_id AND status = 'active'
                 ORDER BY starts_at, id LIMIT 10) o)
  FROM content.fans f LEFT JOIN content.personas p ON p.creator_id = f.creator_id
 WHERE f.id = $1 AND f.creator_id = $2)";

constexpr const char* kStore = R"(
INSERT INTO content.suggestions (id, creator_id, fan_id, message_id, position, category, task, model, cache_hit,
                                 body, created_at)
SELECT s.id, $1, $2, $3, (s.n - 1)::smallint, $4, $5, $6, $7, s.body, $8
  FROM unnest($9::uuid[], $10::text[]) WITH ORDINALITY AS s(id, body, n))";

std::vector<std::string> strings_or_empty(const db::Row& r, int column) {
  return r.is_null(column) ? std::vector<std::string>{} : r.get<std::vector<std::string>>(column);
}

Persona persona_of(const db::Row& r) {
  Persona p;
  p.voice = r.get<std::optional<std::string>>(6).value_or("");
  p.tone = r.get<std::optional<std::string>>(7).value_or("");
  p.dos = strings_or_empty(r, 8);
  p.donts = strings_or_empty(r, 9);
  p.emoji_habits = r.get<std::optional<std::string>>(10).value_or("");
  if (auto prices = r.get<std::optional<db::Json>>(11)) {
    boost::system::error_code ec;
    json::value v = json::parse(prices->text, ec);
    if (!ec && v.is_array())
      for (const auto& e : v.get_array()) {
        const auto* o = e.if_object();
        if (!o || !o->contains("item") || !o->at("item").is_string() || !o->contains("price_cents") ||
            !o->at("price_cents").is_int64())
          continue;
        p.price_list.push_back({std::string(o->at("item").get_string()), o->at("price_cents").get_int64()});
      }
  }
  p.languages = strings_or_empty(r, 12);
  return p;
}

}  // namespace

json::object to_json(const SuggestionSet& set) {
  json::array items;
  for (const auto& item : set.items) items.push_back(json::object{{"id", item.id.str()}, {"text", item.text}});
  return json::object{{"fan_id", set.fan_id.str()},
                      {"message_id", set.message_id.str()},
                      {"category", to_string(set.category)},
                      {"suggestions", std::move(items)},
                      {"task", set.task},
                      {"model", set.model},
                      {"cache_hit", set.cache_hit},
                      {"offline", set.offline}};
}

std::optional<Feedback> parse_feedback(std::string_view text) noexcept {
  if (text == "accepted") return Feedback::accepted;
  if (text == "edited") return Feedback::edited;
  if (text == "rejected") return Feedback::rejected;
  return std::nullopt;
}

std::string_view to_string(Feedback feedback) noexcept {
  switch (feedback) {
    case Feedback::accepted: return "accepted";
    case Feedback::edited: return "edited";
    case Feedback::rejected: return "rejected";
  }
  return "?";
}

Suggestions::Suggestions(db::Database& db, ai_router::AiRouter& router, ai_router::TemplateSource* templates,
                         const Clock& clock, metrics::Registry& metrics, const SuggestionsConfig& config)
    : db_(db),
      router_(router),
      templates_(templates),
      clock_(clock),
      config_(config),
      requests_(metrics.counter("huntaze_content_suggestions_total",
                                "Suggestion requests by category and source (model, cache, templates, none)",
                                {"category", "source"})),
      feedback_(metrics.counter("huntaze_content_suggestion_feedback_total", "Suggestion feedback by outcome",
                                {"outcome"})) {}

asio::awaitable<Category> Suggestions::classify(Uuid workspace, const std::string& message,
                                                const std::string& request_id) {
  ai_router::AiRequest request;
  request.task = "classify";
  request.messages = classify_messages(message);
  request.params.temperature = 0.0;
  request.params.max_tokens = 30;
  request.params.json = true;
  request.workspace = workspace.str();
  request.request_id = request_id;
  std::optional<ai_router::Completion> answer;
  std::optional<ai_router::AiError> refused;
  try {
    answer = co_await router_.complete(std::move(request));
  } catch (const ai_router::AiError& e) {
    // A spent budget or a rate limit refuses the replies too: say so now
    // rather than ask again. Otherwise the replies matter more than their label.
    if (e.kind() == ai_router::AiError::Kind::budget_exceeded || e.kind() == ai_router::AiError::Kind::rate_limited)
      refused = e;
    else
      log::warn("suggestion classification failed; writing for an unclassified message",
                {{"error", e.what()}, {"request_id", request_id}});
  }
  if (refused) throw *refused;
  co_return answer ? read_category(answer->content) : Category::unclassified;
}

asio::awaitable<SuggestionSet> Suggestions::suggest(Uuid workspace, Uuid fan, const std::string& request_id,
                                                    const ai_router::DeltaSink* sink,
                                                    const CategorySink* on_category) {
  const int64_t history = config_.history;
  auto rows = co_await db_.query(kLoad, fan, workspace, history);
  if (rows.empty()) throw ApiError::not_found("conversation not found");
  const auto& row = rows.front();

  SuggestionContext ctx;
  ctx.count = config_.count;
  ctx.fan.platform = row.get<std::string>(0);
  ctx.fan.name = row.get<std::string>(1);
  ctx.fan.tier = row.get<std::string>(2);
  ctx.fan.lifetime_spend_cents = row.get<int64_t>(3);
  ctx.fan.tags = row.get<std::vector<std::string>>(4);
  ctx.fan.notes = row.get<std::string>(5);
  ctx.persona = persona_of(row);

  // The conversation up to the fan's latest message: that is what the replies answer.
  SuggestionSet set;
  set.fan_id = fan;
  set.task = config_.task;
  boost::system::error_code ec;
  const json::value turns = json::parse(row.get<db::Json>(13).text, ec);
  if (!ec && turns.is_array()) {
    for (const auto& t : turns.get_array()) {
      const auto& a = t.as_array();
      ctx.history.push_back({a.at(1).as_bool(), std::string(a.at(2).as_string())});
      if (ctx.history.back().incoming) set.message_id = Uuid::parse(a.at(0).as_string()).value_or(Uuid{});
    }
  }
  while (!ctx.history.empty() && !ctx.history.back().incoming) ctx.history.pop_back();
  const json::value offers = json::parse(row.get<db::Json>(14).text, ec);
  if (!ec && offers.is_array())
    for (const auto& o : offers.get_array()) {
      const auto& a = o.as_array();
      ctx.offers.push_back({std::string(a.at(0).as_string()), std::string(a.at(1).as_string()),
                            a.at(2).to_number<int64_t>(), a.at(3).to_number<int>()});
    }
  if (ctx.history.empty())
    throw ApiError(409, "nothing_to_answer", "the fan has not written anything to answer yet");

  ctx.category = co_await classify(workspace, ctx.history.back().body, request_id);
  set.category = ctx.category;
  if (on_category) co_await (*on_category)(ctx.category);

  std::string source = "none";
  if (ctx.category != Category::spam) {
    ai_router::AiRequest request;
    request.task = config_.task;
    request.messages = generate_messages(ctx);
    request.params.temperature = config_.temperature;
    request.params.max_tokens = config_.max_tokens;
    request.workspace = workspace.str();
    request.request_id = request_id;
    std::optional<ai_router::Completion> reply;
    if (sink)
      reply = co_await router_.stream(std::move(request), *sink);
    else
      reply = co_await router_.complete(std::move(request));
    const ai_router::Completion& answer = *reply;
    set.model = answer.model;
    set.cache_hit = answer.cache_hit;
    set.offline = answer.model == "templates";
    source = set.offline ? "templates" : answer.cache_hit ? "cache" : "model";
    for (auto& text : read_suggestions(answer.content, config_.count)) set.items.push_back({Uuid::v7(), std::move(text)});
    if (set.offline && templates_ && static_cast<int>(set.items.size()) < config_.count) {
      // The canned reply the router chose, then the saved replies after it.
      const std::string ws = workspace.str();
      const std::string replies_task = "generate";  // saved replies are chat replies, whatever task wrote
      auto saved = co_await templates_->replies(ws, replies_task);
      const auto chosen = set.items.empty() ? saved.end() : std::find(saved.begin(), saved.end(), set.items[0].text);
      const size_t start = chosen == saved.end() ? 0 : static_cast<size_t>(chosen - saved.begin()) + 1;
      for (size_t i = 0; i < saved.size() && static_cast<int>(set.items.size()) < config_.count; ++i) {
        const std::string& text = saved[(start + i) % saved.size()];
        const bool taken = std::any_of(set.items.begin(), set.items.end(), [&](const auto& x) { return x.text == text; });
        if (!taken) set.items.push_back({Uuid::v7(), text});
      }
    }
  }
  requests_.with({to_string(set.category), source}).inc();
  if (set.items.empty()) co_return set;

  std::vector<Uuid> ids;
  std::vector<std::string> bodies;
  for (const auto& item : set.items) {
    ids.push_back(item.id);
    bodies.push_back(item.text);
  }
  std::optional<Uuid> message;
  if (!set.message_id.is_nil()) message = set.message_id;
  const db::Timestamp now(clock_.now());
  const std::string category(to_string(set.category));
  co_await db_.query(kStore, workspace, fan, message, category, set.task, set.model, set.cache_hit, now, ids, bodies);
  co_return set;
}

asio::awaitable<json::object> Suggestions::feedback(Uuid workspace, Uuid suggestion, Feedback outcome,
                                                    std::optional<std::string> final_text, Uuid user) {
  if (outcome != Feedback::edited) final_text.reset();
  std::optional<Uuid> by;
  if (!user.is_nil()) by = user;
  const db::Timestamp now(clock_.now());
  const std::string word(to_string(outcome));
  auto rows = co_await db_.query(
      "UPDATE content.suggestions SET feedback = $3, final_text = $4, feedback_at = $5, feedback_by = $6 "
      "WHERE id = $1 AND creator_id = $2 RETURNING id, feedback, final_text, feedback_at",
      suggestion, workspace, word, final_text, now, by);
  if (rows.empty()) throw ApiError::not_found("suggestion not found");
  feedback_.with({word}).inc();
  const auto& r = rows.front();
  co_return json::object{{"id", r.get<Uuid>(0).str()},
                         {"feedback", r.get<std::string>(1)},
                         {"final_text", text_or_null(r.get<std::optional<std::string>>(2))},
                         {"feedback_at", format_iso8601(r.get<db::Timestamp>(3))}};
}

asio::awaitable<json::object> Suggestions::stats(Uuid workspace, SysTime from, SysTime to) {
  const db::Timestamp a(from), b(to);
  auto rows = co_await db_.query(
      "SELECT task, model, count(*), count(feedback), count(*) FILTER (WHERE feedback = 'accepted'), "
      "count(*) FILTER (WHERE feedback = 'edited'), count(*) FILTER (WHERE feedback = 'rejected') "
      "FROM content.suggestions WHERE creator_id = $1 AND created_at >= $2 AND created_at < $3 "
      "GROUP BY task, model ORDER BY task, model",
      workspace, a, b);
  json::array items;
  for (const auto& r : rows) {
    const int64_t rated = r.get<int64_t>(3), accepted = r.get<int64_t>(4), edited = r.get<int64_t>(5);
    // Edited replies were used too; the rate counts both against every rated suggestion.
    const double rate = rated > 0 ? static_cast<double>(accepted + edited) / static_cast<double>(rated) : 0.0;
    items.push_back(json::object{{"task", r.get<std::string>(0)},
                                 {"model", r.get<std::string>(1)},
                                 {"suggested", r.get<int64_t>(2)},
                                 {"rated", rated},
                                 {"accepted", accepted},
                                 {"edited", edited},
                                 {"rejected", r.get<int64_t>(6)},
                                 {"acceptance_rate", rate}});
  }
  co_return json::object{{"from", format_iso8601(from)}, {"to", format_iso8601(to)}, {"items", std::move(items)}};
}

asio::awaitable<int64_t> Suggestions::prune(SysTime now, jobs::JobContext* job) {
  db::Params before{db::Timestamp(now - std::chrono::duration_cast<std::chrono::microseconds>(config_.retention))};
  co_return co_await jobs::delete_in_batches(db_,
                                             "DELETE FROM content.suggestions WHERE id IN (SELECT id FROM "
                                             "content.suggestions WHERE created_at < $1 LIMIT $2)",
                                             std::move(before), 1000, job);
}

asio::awaitable<int> Suggestions::prepare(SysTime now, jobs::JobContext* job) {
  const db::Timestamp since(now - std::chrono::duration_cast<std::chrono::microseconds>(config_.prepare_window));
  const int64_t batch = config_.prepare_batch;
  // Fans who wrote last, recently, not taken since their latest message,
  // whose latest message has no suggestions yet (a chatter asked already),
  // in workspaces that still have a plan: taken (prepared_for) in the same
  // statement, so a conversation is tried once per message whatever comes
  // of it, and an overlapping run skips what this one holds.
  auto rows = co_await db_.query(
      "UPDATE content.fans SET prepared_for = last_incoming_at WHERE id IN ("
      " SELECT f.id FROM content.fans f "
      "  WHERE f.last_incoming_at >= $1 AND f.last_incoming_at = f.last_message_at "
      "    AND (f.prepared_for IS NULL OR f.prepared_for < f.last_incoming_at) "
      "    AND NOT EXISTS (SELECT 1 FROM content.workspace_plans p "
      "                     WHERE p.creator_id = f.creator_id AND p.status = 'canceled') "
      "    AND NOT EXISTS (SELECT 1 FROM content.suggestions s JOIN content.messages m "
      "                      ON m.id = s.message_id AND m.fan_id = f.id AND m.sent_at = f.last_incoming_at "
      "                     WHERE s.fan_id = f.id) "
      "  ORDER BY f.last_incoming_at DESC LIMIT $2 FOR UPDATE SKIP LOCKED) "
      "RETURNING creator_id, id",
      since, batch);
  int prepared = 0;
  for (const auto& r : rows) {
    if (job) co_await job->heartbeat();
    const Uuid workspace = r.get<Uuid>(0), fan = r.get<Uuid>(1);
    bool done = false;
    const std::string request_id = "suggestions.prepare";
    try {
      co_await suggest(workspace, fan, request_id);
      done = true;
    } catch (const std::exception& e) {
      // One conversation's failure (a spent budget, say) does not stop the others.
      log::warn("suggestions.prepare: a conversation failed", {{"fan_id", fan.str()}, {"error", e.what()}});
    }
    if (done) ++prepared;
  }
  co_return prepared;
}

}  // namespace huntaze::content
