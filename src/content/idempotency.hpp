// Idempotency-Key for POST requests that create or ingest (DESIGN.md §5):
// the first answer to a key is kept (content.idempotency_keys) and replayed,
// with `Idempotent-Replayed: true`, to every retry that sends the same key
// with the same method, path and body, for content.idempotency_ttl.
//
//   co_return co_await keys.run(who.workspace_id, req, [&]() -> asio::awaitable<http::Response> { ... });
//
// - The same key with a different request is 422 idempotency_key_reused.
// - A retry while the first request still runs is 409
//   idempotency_in_progress (Retry-After: 1). A claim whose process died is
//   taken over after kStaleClaim.
// - An answer that is an error (a thrown ApiError, or any failure) is not
//   kept: the key is released so that the retry runs again.
// - Without the header the handler simply runs.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/message.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::content {

class IdempotencyKeys {
 public:
  static constexpr std::chrono::seconds kStaleClaim{60};
  static constexpr size_t kMaxKeyBytes = 255;

  IdempotencyKeys(db::Database& db, Compute& compute, const Clock& clock, std::chrono::seconds ttl);

  using Handler = std::function<boost::asio::awaitable<http::Response>()>;
  boost::asio::awaitable<http::Response> run(Uuid workspace, const http::Request& req, Handler handler);

  // Deletes keys older than the TTL in batches; returns how many. `job` may be null.
  boost::asio::awaitable<int64_t> prune(jobs::JobContext* job);

 private:
  // True when this request now owns the key; otherwise the stored answer
  // (or an ApiError) is what the caller gets.
  boost::asio::awaitable<std::optional<http::Response>> claim(Uuid workspace, const std::string& key,
                                                              const std::string& hash, db::Timestamp now);

  db::Database& db_;
  Compute& compute_;
  const Clock& clock_;
  std::chrono::seconds ttl_;
};

}  // namespace huntaze::content
