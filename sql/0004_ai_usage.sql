-- The AI usage log: one compact row per upstream call or cache hit, written
-- in batches by ai_router's UsageLog (src/ai_router/usage_log.cpp), read per
-- day/task/model by the usage reports and budget reconciliation.
--
-- Partitioned by month on `at` so that retention is a DROP of a whole
-- partition rather than a DELETE that bloats the table. There is no DEFAULT
-- partition on purpose: once a default partition holds rows, creating the
-- month they belong to means scanning and moving them under a strong lock.
-- Missing months are created ahead of time by the `ai.usage_partitions` job
-- (src/ai_router/usage_partitions.cpp), and by the writer itself when an
-- insert finds no partition (SQLSTATE 23514).
--
-- No CHECK constraints: their violations share SQLSTATE 23514 with "no
-- partition of relation found for row"; the writer clamps values instead.
CREATE TABLE ai.usage (
  id bigint GENERATED ALWAYS AS IDENTITY,
  at timestamptz NOT NULL,
  workspace_id uuid,             -- NULL: the platform's own calls
  task text NOT NULL,            -- route or alias asked for
  deployment text,               -- NULL when nothing answered
  model text NOT NULL,
  input_tokens integer NOT NULL,
  output_tokens integer NOT NULL,
  cost_micros bigint NOT NULL,   -- micro-dollars
  latency_us integer NOT NULL,
  ttft_us integer NOT NULL,
  cache_hit boolean NOT NULL,
  attempts smallint NOT NULL,
  outcome text NOT NULL,         -- ok | cache_hit | an AiError kind
  request_id text,
  -- A partitioned table's primary key must contain the partition key. With
  -- `at` first it is also the index for time-range scans over all
  -- workspaces (platform reports, spend of everything).
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);

COMMENT ON TABLE ai.usage IS 'one row per AI call (ai_router usage log); monthly partitions ai.usage_YYYYMM';

-- Per-workspace reports and budget reconciliation (workspace_id IS NULL for
-- the platform uses it too).
CREATE INDEX usage_workspace_at ON ai.usage (workspace_id, at);

-- The current month and the next two; the maintenance job keeps the window
-- moving. Bounds are UTC month starts.
DO $$
DECLARE
  first_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
  month_start timestamp;
BEGIN
  FOR i IN 0..2 LOOP
    month_start := first_month + make_interval(months => i);
    EXECUTE format('CREATE TABLE ai.%I PARTITION OF ai.usage FOR VALUES FROM (%L) TO (%L)',
                   'usage_' || to_char(month_start, 'YYYYMM'),
                   to_char(month_start, 'YYYY-MM-DD') || ' 00:00:00+00',
                   to_char(month_start + interval '1 month', 'YYYY-MM-DD') || ' 00:00:00+00');
  END LOOP;
END
$$;
