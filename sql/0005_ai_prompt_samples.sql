-- Sampled prompts and answers of the model router, for quality review and
-- prompt tuning. Off by default (ai.usage.sample_rate = 0): these are fan
-- conversations. Rows are kept for ai.usage.sample_retention (7 days by
-- default) and deleted by the daily `ai.prompt_samples_prune` job
-- (src/ai_router/prompt_samples.cpp). Linked to ai.usage by request_id.
CREATE TABLE ai.prompt_samples (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  workspace_id uuid,             -- NULL: the platform's own calls
  task text NOT NULL,
  model text NOT NULL,
  request_id text,
  request text NOT NULL,         -- the request as sent upstream (JSON), cut at 64 KiB
  response text NOT NULL         -- the answer's text, cut at 16 KiB
);

COMMENT ON TABLE ai.prompt_samples IS 'sampled AI prompts and answers (ai.usage.sample_rate), pruned after ai.usage.sample_retention';

-- Pruning by age and review per workspace.
CREATE INDEX prompt_samples_at ON ai.prompt_samples (at);
CREATE INDEX prompt_samples_workspace_at ON ai.prompt_samples (workspace_id, at);
