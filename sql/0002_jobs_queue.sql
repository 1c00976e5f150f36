-- The durable job queue (jobs module). See include/huntaze/jobs/job_queue.hpp.
--
-- Life of a job:
--   available | scheduled (run_at in the future) | retryable (waiting for its backoff)
--     -> running (claimed by one worker process, attempt + 1)
--     -> completed | retryable | discarded (out of attempts: the dead letters) | cancelled
-- "Ready" means available, scheduled or retryable with run_at <= now.

CREATE TYPE jobs.job_state AS ENUM
  ('available', 'scheduled', 'running', 'retryable', 'completed', 'cancelled', 'discarded');

CREATE TABLE jobs.jobs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue         text NOT NULL,
  kind          text NOT NULL,
  payload       jsonb NOT NULL DEFAULT '{}',
  -- Lower runs first (0 is the most urgent), as in River and Oban.
  priority      smallint NOT NULL DEFAULT 0,
  state         jobs.job_state NOT NULL DEFAULT 'available',
  run_at        timestamptz NOT NULL,
  attempt       integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL,
  -- The last few failures, newest last: [{"attempt":1,"at":"...","error":"..."}].
  errors        jsonb NOT NULL DEFAULT '[]',
  unique_key    text,
  timeout_ms    integer NOT NULL,
  created_at    timestamptz NOT NULL,
  attempted_at  timestamptz,
  finished_at   timestamptz,
  heartbeat_at  timestamptz,
  -- The worker process (jobs.workers.id) holding a running job.
  worker_id     uuid,
  CONSTRAINT jobs_queue_length CHECK (length(queue) BETWEEN 1 AND 64),
  CONSTRAINT jobs_kind_length CHECK (length(kind) BETWEEN 1 AND 128),
  CONSTRAINT jobs_unique_key_length CHECK (unique_key IS NULL OR length(unique_key) BETWEEN 1 AND 512),
  CONSTRAINT jobs_attempts CHECK (max_attempts >= 1 AND attempt >= 0),
  CONSTRAINT jobs_running_has_worker CHECK ((state = 'running') = (worker_id IS NOT NULL))
);

-- The claim query walks this index: ready rows only, in claim order.
CREATE INDEX jobs_ready_idx ON jobs.jobs (queue, priority, run_at, id)
  WHERE state IN ('available', 'scheduled', 'retryable');

-- Unique jobs deduplicate among live jobs only: a finished or dead job never
-- blocks a new one with the same key.
CREATE UNIQUE INDEX jobs_unique_live_idx ON jobs.jobs (unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('available', 'scheduled', 'running', 'retryable');

-- Rescue and hand-back find a worker's running jobs.
CREATE INDEX jobs_running_idx ON jobs.jobs (worker_id) WHERE state = 'running';

-- Admin listings (keyset on id within a state), dead letters and pruning.
CREATE INDEX jobs_state_idx ON jobs.jobs (state, id);

-- Heavy churn: every job is inserted, updated twice and deleted by the
-- pruner. Vacuum after 1% of the rows changed (default 20%) so dead tuples
-- never pile up in front of the claim index, and analyze often so the planner
-- keeps choosing it.
ALTER TABLE jobs.jobs SET (
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_insert_scale_factor = 0.05,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_cost_delay = 1,
  fillfactor = 85
);

-- One row per live worker process; a process that stops beating for
-- jobs.rescue_after loses its running jobs to the rescuer.
CREATE TABLE jobs.workers (
  id            uuid PRIMARY KEY,
  host          text NOT NULL,
  pid           integer NOT NULL,
  queues        text[] NOT NULL,
  started_at    timestamptz NOT NULL,
  heartbeat_at  timestamptz NOT NULL
);

-- Cron: one row per schedule. A tick is claimed by moving last_tick forward in
-- the same transaction that inserts the tick's job, so each tick runs once
-- however many instances evaluate the schedule.
CREATE TABLE jobs.schedules (
  name          text PRIMARY KEY,
  spec          text NOT NULL,
  timezone      text NOT NULL,
  kind          text NOT NULL,
  last_tick     timestamptz,
  last_job_id   bigint,
  updated_at    timestamptz NOT NULL
);

-- Appends one failure to a job's history, keeping the newest `keep` entries.
CREATE FUNCTION jobs.append_error(errors jsonb, entry jsonb, keep integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
           WHEN jsonb_array_length(errors) < keep THEN errors
           ELSE (SELECT coalesce(jsonb_agg(e ORDER BY i), '[]'::jsonb)
                   FROM jsonb_array_elements(errors) WITH ORDINALITY AS x(e, i)
                  WHERE i > jsonb_array_length(errors) - keep + 1)
         END || jsonb_build_array(entry)
$$;
