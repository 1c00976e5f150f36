#include "content/idempotency.hpp"

#include <algorithm>

#include "huntaze/core/digest.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/jobs/batched_delete.hpp"

namespace huntaze::content {

namespace asio = boost::asio;

namespace {


std::string request_hash(const http::Request& req) {
  return digest_bytes(DigestKind::sha256, {req.method, " ", req.path, "\n", req.body});
}

bool valid_key(std::string_view key) {
  return !key.empty() && key.size() <= IdempotencyKeys::kMaxKeyBytes &&
         std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

IdempotencyKeys::IdempotencyKeys(db::Database& db, Compute& compute, const Clock& clock, std::chrono::seconds ttl)
    : db_(db), compute_(compute), clock_(clock), ttl_(ttl) {}

asio::awaitable<std::optional<http::Response>> IdempotencyKeys::claim(Uuid workspace, const std::string& key,
                                                                      const std::string& hash, db::Timestamp now) {
  const db::Bytes hash_bytes{hash};
  auto claimed = co_await db_.query(
      "INSERT INTO content.idempotency_keys (creator_id, key, request_hash, claimed_at, created_at) "
      "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (creator_id, key) DO NOTHING RETURNING 1",
      workspace, key, hash_bytes, now);
  if (!claimed.empty()) co_return std::nullopt;

  auto rows = co_await db_.query(
      "SELECT request_hash, status, response, claimed_at, created_at FROM content.idempotency_keys "
      "WHERE creator_id = $1 AND key = $2",
      workspace, key);
  if (rows.empty()) {
    // Pruned or released between the two statements: try once more.
    auto again = co_await db_.query(
        "INSERT INTO content.idempotency_keys (creator_id, key, request_hash, claimed_at, created_at) "
        "VALUES ($1, $2, $3, $4, $4) ON CONFLICT (creator_id, key) DO NOTHING RETURNING 1",
        workspace, key, hash_bytes, now);
    if (!again.empty()) co_return std::nullopt;
    throw ApiError(409, "idempotency_in_progress", "a request with this Idempotency-Key is running; retry shortly")
        .with_retry_after(1);
  }
  const auto& row = rows.front();
  const auto created_at = row.get<db::Timestamp>(4);
  const auto claimed_at = row.get<db::Timestamp>(3);
  const bool expired = created_at < now - ttl_;
  const auto status = row.get<std::optional<int32_t>>(1);
  const bool abandoned = !status && claimed_at < now - kStaleClaim;
  if (expired || abandoned) {
    // Take the key over, unless someone else just did (compare-and-set on claimed_at).
    auto taken = co_await db_.query(
        "UPDATE content.idempotency_keys SET request_hash = $3, status = NULL, response = NULL, "
        "claimed_at = $4, created_at = CASE WHEN $5 THEN $4 ELSE created_at END "
        "WHERE creator_id = $1 AND key = $2 AND claimed_at = $6 RETURNING 1",
        workspace, key, hash_bytes, now, expired, claimed_at);
    if (!taken.empty()) co_return std::nullopt;
    throw ApiError(409, "idempotency_in_progress", "a request with this Idempotency-Key is running; retry shortly")
        .with_retry_after(1);
  }
  if (row.get<db::Bytes>(0).data != hash)
    throw ApiError(422, "idempotency_key_reused",
                   "this Idempotency-Key was used for a different request; use a new key for a new request");
  if (!status)
    throw ApiError(409, "idempotency_in_progress", "a request with this Idempotency-Key is running; retry shortly")
        .with_retry_after(1);
  http::Response replay = http::Response::json_text(*status, row.get<std::optional<std::string>>(2).value_or("{}"));
  replay.headers.set("Idempotent-Replayed", "true");
  co_return replay;
}

asio::awaitable<http::Response> IdempotencyKeys::run(Uuid workspace, const http::Request& req, Handler handler) {
  const auto header = req.headers.get("idempotency-key");
  if (!header) co_return co_await handler();
  const std::string key(*header);
  if (!valid_key(key))
    throw ApiError::bad_request("the Idempotency-Key header must be 1 to 255 printable ASCII characters",
                                {{"Idempotency-Key", "malformed"}});
  // The real path, not the route template: the same key and body sent to
  // another fan or another ingestion kind is another request. Hashed in
  // parts (no copy of the body), on the compute pool when the body is large.
  auto digest = [&req] { return request_hash(req); };  // named: GCC 12 and lambdas inside co_await
  const std::string hash = co_await compute_.run_if(req.body.size() > Compute::kInlineBytes, digest);
  // This claim's time: the final write only lands if the key is still ours
  // (not taken over as abandoned while this request ran long).
  const db::Timestamp claimed_at(clock_.now());
  auto stored = co_await claim(workspace, key, hash, claimed_at);
  if (stored) co_return std::move(*stored);

  std::optional<http::Response> response;
  std::exception_ptr failure;
  try {
    response.emplace(co_await handler());
  } catch (...) {
    failure = std::current_exception();
  }
  const bool keep = !failure && response->status < 500 && !response->stream;
  if (!keep) {
    // Release the key so that a retry runs the request again.
    co_await db_.query(
        "DELETE FROM content.idempotency_keys WHERE creator_id = $1 AND key = $2 AND status IS NULL AND claimed_at = $3",
        workspace, key, claimed_at);
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*response);
  }
  const int32_t status = response->status;
  co_await db_.query(
      "UPDATE content.idempotency_keys SET status = $3, response = $4 "
      "WHERE creator_id = $1 AND key = $2 AND claimed_at = $5",
      workspace, key, status, response->body, claimed_at);
  co_return std::move(*response);
}

asio::awaitable<int64_t> IdempotencyKeys::prune(jobs::JobContext* job) {
  db::Params cutoff{db::Timestamp(clock_.now() - ttl_)};
  co_return co_await jobs::delete_in_batches(
      db_,
      "DELETE FROM content.idempotency_keys WHERE ctid IN (SELECT ctid FROM content.idempotency_keys "
      "WHERE created_at < $1 LIMIT $2)",
      std::move(cutoff), 1000, job);
}

}  // namespace huntaze::content
