// The statements of the jobs admin API (admin_*.cpp). Times are parameters
// from the injected Clock, never SQL now(). The listing's WHERE clause is
// assembled from fixed fragments in admin_jobs.cpp, one prepared statement
// per combination of filters, so each gets the plan its filters deserve
// (jobs_state_idx for a state, the primary key otherwise).
#pragma once

namespace huntaze::jobs::admin_sql {

// What a listing shows of a job; last_error is the newest entry's "error".
#define HUNTAZE_JOBS_ADMIN_SUMMARY                                                                             \
  "id, queue, kind, state::text AS state, priority, attempt, max_attempts, run_at, created_at, attempted_at, " \
  "finished_at, unique_key, worker_id::text AS worker_id, errors -> -1 ->> 'error' AS last_error"
// The whole job (GET /jobs/{id} and the actions' answers).
#define HUNTAZE_JOBS_ADMIN_DETAIL HUNTAZE_JOBS_ADMIN_SUMMARY ", payload, errors, timeout_ms, heartbeat_at"

inline constexpr const char* kListPrefix = "SELECT " HUNTAZE_JOBS_ADMIN_SUMMARY " FROM jobs.jobs";

// $1 id.
inline constexpr const char* kShow = "SELECT " HUNTAZE_JOBS_ADMIN_DETAIL " FROM jobs.jobs WHERE id = $1";

// $1 id. Taken before every action: the row stays locked until commit, so the
// state checked is the state changed.
inline constexpr const char* kLock = "SELECT state::text, attempt, queue, lease FROM jobs.jobs WHERE id = $1 FOR UPDATE";

// $1 id, $2 now. From discarded or cancelled the job gets a fresh set of
// attempts; its error history stays.
inline constexpr const char* kRetry =
    "UPDATE jobs.jobs SET state = 'available', run_at = $2, finished_at = NULL, "
    "attempt = CASE WHEN state IN ('discarded', 'cancelled') THEN 0 ELSE attempt END "
    "WHERE id = $1 RETURNING " HUNTAZE_JOBS_ADMIN_DETAIL;

// $1 id, $2 now.
inline constexpr const char* kCancel =
    "UPDATE jobs.jobs SET state = 'cancelled', finished_at = $2, worker_id = NULL "
    "WHERE id = $1 RETURNING " HUNTAZE_JOBS_ADMIN_DETAIL;

// $1 id, $2 now, $3 the error entry, $4 entries kept (as the worker keeps them).
inline constexpr const char* kDiscard =
    "UPDATE jobs.jobs SET state = 'discarded', finished_at = $2, worker_id = NULL, "
    "errors = jobs.append_error(errors, $3::jsonb, $4::integer) "
    "WHERE id = $1 RETURNING " HUNTAZE_JOBS_ADMIN_DETAIL;

// $1 id of a job whose retry hit jobs_unique_live_idx -> the live job holding its key.
inline constexpr const char* kLiveHolder = R"(
SELECT l.id FROM jobs.jobs j
  JOIN jobs.jobs l ON l.unique_key = j.unique_key AND l.id <> j.id
                  AND l.state IN ('available', 'scheduled', 'running', 'retryable')
 WHERE j.id = $1)";

// $1 channel, $2 payload. Sent inside the action's transaction, so it is
// delivered when (and only if) the change commits.
inline constexpr const char* kNotify = "SELECT pg_notify($1, $2)";
// $1 channel, $2 text[] payloads.
inline constexpr const char* kNotifyEach = "SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p";

// Bulk replay of dead letters: $1 now, $2 how many at most, $3 kind or NULL,
// $4 queue or NULL, $5 bigint[] ids or NULL. Oldest dead letters first.
// The statement must never hit jobs_unique_live_idx: a job whose key a live
// job holds is skipped, and of several dead letters sharing a key only the
// newest is replayed (the prefixes keep a key from colliding with an id).
// Returns (queue, replayed) per queue.
inline constexpr const char* kReplay = R"(
WITH candidates AS (
  SELECT DISTINCT ON (coalesce('k:' || d.unique_key, 'i:' || d.id::text)) d.id
    FROM jobs.jobs d
   WHERE d.state = 'discarded'
     AND ($3::text IS NULL OR d.kind = $3)
     AND ($4::text IS NULL OR d.queue = $4)
     AND ($5::bigint[] IS NULL OR d.id = ANY($5::bigint[]))
     AND (d.unique_key IS NULL OR NOT EXISTS (
           SELECT 1 FROM jobs.jobs l
            WHERE l.unique_key = d.unique_key AND l.state IN ('available', 'scheduled', 'running', 'retryable')))
   ORDER BY coalesce('k:' || d.unique_key, 'i:' || d.id::text), d.id DESC
), picked AS (
  SELECT id FROM candidates ORDER BY id LIMIT $2
), replayed AS (
  UPDATE jobs.jobs j
     SET state = 'available', run_at = $1, attempt = 0, finished_at = NULL
    FROM picked
   WHERE j.id = picked.id AND j.state = 'discarded'
  RETURNING j.queue
)
SELECT queue, count(*) FROM replayed GROUP BY queue)";

#undef HUNTAZE_JOBS_ADMIN_DETAIL
#undef HUNTAZE_JOBS_ADMIN_SUMMARY

}  // namespace huntaze::jobs::admin_sql
