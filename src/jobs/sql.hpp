// Every statement the queue and its workers run, in one place so that the
// indexes in sql/0002_jobs_queue.sql can be checked against them.
// Times are always parameters from the injected Clock, never SQL now(), so
// that tests can move time.
#pragma once

namespace huntaze::jobs::sql {

// $1..$9 parallel arrays (queue, kind, payload, priority, state, run_at in
// µs since the epoch, max_attempts, unique_key or '', timeout_ms), $10 created_at,
// $11 the wake channel. Ids are drawn before the insert so that every input
// row can be told whether it was inserted or hit a live unique key.
// Returns (ordinal, id, inserted) in input order.
inline constexpr const char* kEnqueue = R"(
WITH input AS MATERIALIZED (
  SELECT t.*, nextval('jobs.jobs_id_seq') AS id
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[],
                $8::text[], $9::bigint[])
         WITH ORDINALITY AS t(queue, kind, payload, priority, state, run_at_us, max_attempts, unique_key,
                              timeout_ms, ord)
), ins AS (
  INSERT INTO jobs.jobs (id, queue, kind, payload, priority, state, run_at, max_attempts, unique_key,
                         timeout_ms, created_at)
  OVERRIDING SYSTEM VALUE
  SELECT id, queue, kind, payload::jsonb, priority::smallint, state::jobs.job_state,
         'epoch'::timestamptz + run_at_us * interval '1 microsecond', max_attempts::integer,
         NULLIF(unique_key, ''), timeout_ms::integer, $10
    FROM input ORDER BY ord
  ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable')
  DO NOTHING
  RETURNING id, queue, state
), wake AS (
  SELECT count(*) AS n FROM (SELECT pg_notify($11, q.queue) FROM (SELECT DISTINCT queue FROM ins
                                                                   WHERE state = 'available') q) sent
)
SELECT input.ord, input.id, ins.id IS NOT NULL
  FROM input LEFT JOIN ins ON ins.id = input.id CROSS JOIN wake
 ORDER BY input.ord)";

// $1 text[] of unique keys -> (unique_key, id) of the live jobs holding them.
inline constexpr const char* kLiveByUniqueKey = R"(
SELECT unique_key, id FROM jobs.jobs
 WHERE unique_key = ANY($1::text[]) AND state IN ('available', 'scheduled', 'running', 'retryable'))";

// Claims up to $3 ready jobs of queue $1 at time $2 for worker $4, of the
// kinds in $5 only: a process that cannot run a kind (an older version in a
// rolling deploy) must not take it and burn its attempts.
// The CTE is what keeps the lock to LIMIT rows: a plain UPDATE ... WHERE id
// IN (SELECT ... LIMIT) may be planned as a join that locks more rows.
//
// The claim commits without waiting for its WAL flush (synchronous_commit
// off for this one transaction): that wait was most of a claim's latency.
// A claim lost in a PostgreSQL crash only makes the job available again,
// which a crash does for running jobs anyway (at-least-once). Completions
// keep the durable commit: a lost completion would leave a job 'running'
// under a live worker, where no rescue would find it.
inline constexpr const char* kClaim = R"(
WITH fast_commit AS MATERIALIZED (
  SELECT set_config('synchronous_commit', 'off', true)
), next AS MATERIALIZED (
  SELECT id FROM jobs.jobs
   WHERE state IN ('available', 'scheduled', 'retryable') AND queue = $1 AND run_at <= $2
     AND kind = ANY($5::text[])
   ORDER BY priority, run_at, id
   LIMIT $3
   FOR UPDATE SKIP LOCKED
)
UPDATE jobs.jobs j
   SET state = 'running', attempt = j.attempt + 1, lease = j.lease + 1, attempted_at = $2, worker_id = $4, heartbeat_at = NULL
  FROM next, fast_commit
 WHERE j.id = next.id
RETURNING j.id, j.kind, j.payload::text, j.attempt, j.max_attempts, j.run_at, j.timeout_ms, j.priority, j.lease)";

// Results match a job by id, worker AND lease (sql/0003_jobs_lease.sql): a
// job cancelled by an operator and retried may be claimed again (even by
// this worker) while the first handler is still unwinding, and that
// handler's result must not land on the new claim.

// Batch completion: $1 ids, $2 leases, $3 worker, $4 finished_at.
inline constexpr const char* kComplete = R"(
UPDATE jobs.jobs j SET state = 'completed', finished_at = $4, worker_id = NULL
  FROM unnest($1::bigint[], $2::bigint[]) AS d(id, lease)
 WHERE j.id = d.id AND j.lease = d.lease AND j.state = 'running' AND j.worker_id = $3)";

// Batch failure: $1 ids, $2 next states ('retryable' | 'discarded'), $3 next
// run_at (µs), $4 error entries (JSON objects), $5 worker, $6 now, $7 errors
// kept, $8 leases.
inline constexpr const char* kFail = R"(
UPDATE jobs.jobs j
   SET state = f.state::jobs.job_state,
       run_at = CASE WHEN f.state = 'retryable'
                     THEN 'epoch'::timestamptz + f.run_at_us * interval '1 microsecond' ELSE j.run_at END,
       finished_at = CASE WHEN f.state = 'discarded' THEN $6 ELSE NULL END,
       worker_id = NULL,
       errors = jobs.append_error(j.errors, f.error::jsonb, $7::integer)
  FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $8::bigint[])
       AS f(id, state, run_at_us, error, lease)
 WHERE j.id = f.id AND j.lease = f.lease AND j.state = 'running' AND j.worker_id = $5)";

// The last resort for a failure whose content the database rejects even on
// its own (see Worker::write_failure_alone): discarded, its error history
// replaced by $5, one entry saying why. $1 id, $2 lease, $3 worker, $4 now.
// Returns the id when the row was still this claim's.
inline constexpr const char* kDiscardUnstorable = R"(
UPDATE jobs.jobs SET state = 'discarded', finished_at = $4, worker_id = NULL, errors = jsonb_build_array($5::jsonb)
 WHERE id = $1 AND lease = $2 AND state = 'running' AND worker_id = $3
RETURNING id)";

// Gives jobs back untouched (shutdown, unstarted prefetch): available again,
// the attempt not counted. $1 ids, $2 leases, $3 worker, $4 wake channel.
inline constexpr const char* kHandBack = R"(
WITH back AS (
  UPDATE jobs.jobs j SET state = 'available', attempt = greatest(j.attempt - 1, 0), worker_id = NULL
    FROM unnest($1::bigint[], $2::bigint[]) AS b(id, lease)
   WHERE j.id = b.id AND j.lease = b.lease AND j.state = 'running' AND j.worker_id = $3
  RETURNING j.queue
)
SELECT count(*) FROM (SELECT pg_notify($4, q.queue) FROM (SELECT DISTINCT queue FROM back) q) sent)";

// A running job's sign of life; no row means the job was taken away.
// $1 id, $2 worker, $3 now, $4 lease.
inline constexpr const char* kJobHeartbeat = R"(
UPDATE jobs.jobs SET heartbeat_at = $3
 WHERE id = $1 AND worker_id = $2 AND lease = $4 AND state = 'running' RETURNING id)";

// The process heartbeat. inserted = true on a beat after the first means
// this process had been given up for dead.
inline constexpr const char* kWorkerBeat = R"(
INSERT INTO jobs.workers (id, host, pid, queues, started_at, heartbeat_at)
VALUES ($1, $2, $3, $4::text[], $5, $5)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at
RETURNING (xmax = 0) AS inserted)";

inline constexpr const char* kWorkerRemove = "DELETE FROM jobs.workers WHERE id = $1";

// Rescue: workers silent since $1 are removed; running jobs of removed or
// unknown workers go back to retryable (discarded when out of attempts).
// $2 now, $3 error entry, $4 errors kept, $5 wake channel, $6 the rescuing
// worker, which never rescues itself: after a long pause (a frozen VM) its
// rescuer may run before its own heartbeat does.
// Returns (kind, new state, count).
inline constexpr const char* kRescue = R"(
WITH dead AS (
  DELETE FROM jobs.workers WHERE heartbeat_at < $1 AND id <> $6 RETURNING id
), victims AS (
  -- Chosen from this statement's snapshot, then matched again below on the
  -- worker that held them: if another instance rescued a job and a new
  -- worker claimed it meanwhile, the row re-checked under its lock no longer
  -- matches and the live worker keeps it.
  SELECT j.id, j.worker_id FROM jobs.jobs j
   WHERE j.state = 'running' AND j.worker_id <> $6
     AND (j.worker_id IN (SELECT id FROM dead)
          OR NOT EXISTS (SELECT 1 FROM jobs.workers w WHERE w.id = j.worker_id))
), rescued AS (
  UPDATE jobs.jobs j
     SET state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded'::jobs.job_state
                      ELSE 'retryable'::jobs.job_state END,
         run_at = $2,
         finished_at = CASE WHEN j.attempt >= j.max_attempts THEN $2 ELSE NULL END,
         worker_id = NULL,
         errors = jobs.append_error(j.errors, jsonb_set($3::jsonb, '{attempt}', to_jsonb(j.attempt)), $4::integer)
    FROM victims v
   WHERE j.id = v.id AND j.worker_id = v.worker_id AND j.state = 'running'
  RETURNING j.queue, j.kind, j.state
), wake AS (
  SELECT count(*) AS n FROM (SELECT pg_notify($5, q.queue) FROM (SELECT DISTINCT queue FROM rescued
                                                                  WHERE state = 'retryable') q) sent
)
SELECT kind, state::text, count(*) FROM rescued CROSS JOIN wake GROUP BY 1, 2)";

// Queue depth by queue and state (finished states other than the dead
// letters are left out: they are history, not depth) and the oldest ready
// job's run_at per queue and state. $1 now.
inline constexpr const char* kDepth = R"(
SELECT queue, state::text, count(*), min(run_at) FILTER (WHERE run_at <= $1 AND state <> 'running'
                                                                          AND state <> 'discarded')
  FROM jobs.jobs
 WHERE state IN ('available', 'scheduled', 'retryable', 'running', 'discarded')
 GROUP BY 1, 2)";

// Retention: one batch of finished jobs older than the cut-off.
// $1 state, $2 finished before, $3 batch size.
inline constexpr const char* kPrune = R"(
DELETE FROM jobs.jobs WHERE id IN (
  SELECT id FROM jobs.jobs WHERE state = $1::jobs.job_state AND finished_at < $2 ORDER BY id LIMIT $3))";

}  // namespace huntaze::jobs::sql
