// The post calendar: drafts, scheduled posts and what was published.
//
// Status: draft -> scheduled -> published (or canceled). A scheduled post
// becomes due at its time: a posts.due job enqueued with the schedule (and
// the posts.due cron sweep for anything a job missed) stamps due_at once and
// publishes `post.due` (topic "content", with caption, media and platform)
// in the same transaction; a connector subscribed to it publishes the post
// and reports back through mark_published(). Rescheduling clears due_at, so
// the new time gets its own event.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::content {

inline constexpr const char* kPostsDueKind = "posts.due";

struct PostFields {
  std::optional<std::string> platform, caption;
  std::optional<std::vector<std::string>> media;
  std::optional<std::string> status;  // draft | scheduled (through the API)
  std::optional<SysTime> scheduled_at;
};

class Posts {
 public:
  Posts(db::Database& db, jobs::JobQueue& queue, const Clock& clock);

  boost::asio::awaitable<boost::json::object> create(Uuid workspace, Uuid user, const PostFields& fields);
  // 404 unknown; 409 once published or canceled.
  boost::asio::awaitable<boost::json::object> update(Uuid workspace, Uuid id, const PostFields& fields);
  boost::asio::awaitable<boost::json::object> cancel(Uuid workspace, Uuid id);
  boost::asio::awaitable<boost::json::object> mark_published(Uuid workspace, Uuid id,
                                                             std::optional<std::string> platform_post_id,
                                                             std::optional<SysTime> published_at);
  boost::asio::awaitable<std::optional<boost::json::object>> get(Uuid workspace, Uuid id);
  // The calendar: by scheduled time (creation time for unscheduled drafts),
  // newest first, within [from, to) when given.
  boost::asio::awaitable<boost::json::object> list(Uuid workspace, std::optional<std::string> status,
                                                   std::optional<SysTime> from, std::optional<SysTime> to, int limit,
                                                   const std::optional<boost::json::array>& cursor);

  // posts.due at `now`: one post, or (nullopt) every due one. Returns how
  // many became due; with an id whose time is ahead, throws RetryAt.
  boost::asio::awaitable<int> due(std::optional<Uuid> id, SysTime now,
                                  std::optional<SysTime> scheduled_for = std::nullopt);

  // Published posts of the last `days` days with what followed each within
  // 48 hours (incoming messages, revenue): the evidence for "what to post next".
  boost::asio::awaitable<boost::json::array> recent_performance(Uuid workspace, SysTime now, int days);

 private:
  boost::asio::awaitable<void> schedule_due(db::Executor& tx, Uuid id, SysTime at);

  db::Database& db_;
  jobs::JobQueue& queue_;
  const Clock& clock_;
};

}  // namespace huntaze::content
