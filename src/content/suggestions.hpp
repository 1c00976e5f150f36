// Reply suggestions for a conversation: load the fan, the persona and the
// latest messages in one query, classify the fan's latest message, ask the
// writing task for `count` replies, store them with ids for feedback.
//
// Both model calls go through the AiRouter with the workspace as tenant, so
// they are cached (a repeat for an unchanged conversation is two cache
// hits), budgeted and logged there. When every model of the route fails the
// route's `templates` deployment answers from the workspace's saved replies
// (SavedReplyTemplates). A failed classification does not block the
// replies: they are written for an unclassified message. Spam gets no
// replies and costs no second call.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "content/content_config.hpp"
#include "content/suggestion_prompt.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/ai_router/template_source.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::content {

struct SuggestionSet {
  Uuid fan_id;
  Uuid message_id;  // the fan's message answered
  Category category = Category::unclassified;
  struct Item {
    Uuid id;
    std::string text;
  };
  std::vector<Item> items;
  std::string task;
  std::string model;   // "" when no model was asked (spam)
  bool cache_hit = false;
  bool offline = false;  // answered by the templates fallback
};
boost::json::object to_json(const SuggestionSet& set);

enum class Feedback { accepted, edited, rejected };
std::optional<Feedback> parse_feedback(std::string_view text) noexcept;
std::string_view to_string(Feedback feedback) noexcept;

class Suggestions {
 public:
  // `templates` (may be null): the saved replies that complete an offline
  // answer to `count` replies (the templates provider gives one).
  Suggestions(db::Database& db, ai_router::AiRouter& router, ai_router::TemplateSource* templates, const Clock& clock,
              metrics::Registry& metrics, const SuggestionsConfig& config);

  // Called once the category is known, before any reply is written (the
  // SSE variant sends it as its first event).
  using CategorySink = std::function<boost::asio::awaitable<void>(Category)>;

  // Throws ApiError 404 when the fan is not the workspace's, 409
  // nothing_to_answer when the fan never wrote; AiError when the writing
  // route fails entirely. With `sink` the replies are streamed through it.
  boost::asio::awaitable<SuggestionSet> suggest(Uuid workspace, Uuid fan, const std::string& request_id,
                                                const ai_router::DeltaSink* sink = nullptr,
                                                const CategorySink* on_category = nullptr);

  // Records what was done with a suggestion (again: the last word counts).
  // Throws 404 when it is not the workspace's.
  boost::asio::awaitable<boost::json::object> feedback(Uuid workspace, Uuid suggestion, Feedback outcome,
                                                       std::optional<std::string> final_text, Uuid user);

  // Acceptance per task and model over [from, to).
  boost::asio::awaitable<boost::json::object> stats(Uuid workspace, SysTime from, SysTime to);

  // suggestions.prepare: suggestions for up to prepare_batch conversations
  // waiting on a reply (the fan wrote last, within prepare_window) that have
  // none for that message yet, each conversation tried once per message
  // from the fan. Returns how many conversations it prepared.
  boost::asio::awaitable<int> prepare(SysTime now, jobs::JobContext* job);

  // Deletes suggestions (and their feedback) older than the retention, in
  // batches; returns how many. Part of content.prune.
  boost::asio::awaitable<int64_t> prune(SysTime now, jobs::JobContext* job);

 private:
  boost::asio::awaitable<Category> classify(Uuid workspace, const std::string& message,
                                            const std::string& request_id);

  db::Database& db_;
  ai_router::AiRouter& router_;
  ai_router::TemplateSource* templates_;
  const Clock& clock_;
  const SuggestionsConfig& config_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Counter>& feedback_;
};

}  // namespace huntaze::content
