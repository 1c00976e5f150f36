-- The creator's platform data: fans, their messages, subscriptions and
-- transactions, plus the creator's saved replies and persona. Written only by
-- the content module (src/content/); most rows arrive through the ingestion
-- API (POST /api/v1/ingest/*) from the browser extension and connectors.
--
-- Every row carries creator_id, the workspace it belongs to; every query of
-- the module filters on it. Platform ids are the connector's own ids, unique
-- per workspace and platform: they make re-sent batches change nothing.
-- Money is integer cents.

CREATE TABLE content.fans (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  platform text NOT NULL,
  platform_fan_id text NOT NULL,
  handle text,
  display_name text,
  tier text,
  -- Kept by the transactions ingested: payments add, refunds subtract.
  lifetime_spend_cents bigint NOT NULL DEFAULT 0,
  tags text[] NOT NULL DEFAULT '{}',
  notes text,
  last_message_at timestamptz,
  last_incoming_at timestamptz,     -- the fan's latest message: who waits on a reply
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT fans_platform_id UNIQUE (creator_id, platform, platform_fan_id)
);
-- The fan list's orders (keyset pagination: the id breaks ties) and its
-- case-insensitive prefix search on handle and display name.
CREATE INDEX fans_by_spend ON content.fans (creator_id, lifetime_spend_cents DESC, id DESC);
-- Fans never heard from sort last: -infinity instead of NULL keeps the keyset a plain row comparison.
CREATE INDEX fans_by_last_message
  ON content.fans (creator_id, (coalesce(last_message_at, '-infinity'::timestamptz)) DESC, id DESC);
CREATE INDEX fans_by_handle ON content.fans (creator_id, lower(handle) text_pattern_ops);
CREATE INDEX fans_by_name ON content.fans (creator_id, lower(display_name) text_pattern_ops);

-- Messages: the big table. Range-partitioned by month on sent_at, named
-- content.messages_YYYYMM (db::MonthlyPartitions): every writer creates a
-- missing month before it inserts (content::MessagePartitions), the
-- content.partitions job keeps the next months ready, and content.archive
-- moves months older than content.messages.archive_after into the
-- content_archive schema. No DEFAULT partition, on purpose: rows in it would
-- have to be moved under a strong lock before their month could be created.
CREATE TABLE content.messages (
  fan_id uuid NOT NULL REFERENCES content.fans (id) ON DELETE CASCADE,
  sent_at timestamptz NOT NULL,
  id uuid NOT NULL,
  creator_id uuid NOT NULL,
  incoming boolean NOT NULL,         -- true: from the fan; false: from the creator
  body text NOT NULL,
  platform_message_id text,          -- NULL for messages sent through Huntaze
  ppv_price_cents integer,           -- set on pay-per-view messages
  sent_by uuid,                      -- the user who sent it through Huntaze
  -- The conversation timeline: latest messages of a fan, newest first. A
  -- partitioned table's key must contain the partition key.
  PRIMARY KEY (fan_id, sent_at, id)
) PARTITION BY RANGE (sent_at);
COMMENT ON TABLE content.messages IS 'fan conversations; monthly partitions content.messages_YYYYMM';
-- A workspace's messages by day (analytics, daily activity).
CREATE INDEX messages_by_workspace_day ON content.messages (creator_id, sent_at);

-- Which platform message ids were ingested: the idempotency of message
-- ingestion, which the partitioned table cannot enforce (a unique key there
-- would have to contain sent_at). Rows leave with their month's archive.
CREATE TABLE content.message_keys (
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  platform text NOT NULL,
  platform_message_id text NOT NULL,
  message_id uuid NOT NULL,
  sent_at timestamptz NOT NULL,
  PRIMARY KEY (creator_id, platform, platform_message_id)
);
CREATE INDEX message_keys_by_sent_at ON content.message_keys (sent_at);

CREATE SCHEMA IF NOT EXISTS content_archive;
COMMENT ON SCHEMA content_archive IS 'owned by the content module: archived months of content.messages';


CREATE TABLE content.subscriptions (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  fan_id uuid NOT NULL REFERENCES content.fans (id) ON DELETE CASCADE,
  platform text NOT NULL,
  platform_subscription_id text NOT NULL,
  price_cents bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'expired', 'canceled')),
  started_at timestamptz NOT NULL,
  renews_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT subscriptions_platform_id UNIQUE (creator_id, platform, platform_subscription_id)
);
CREATE INDEX subscriptions_by_fan ON content.subscriptions (fan_id);

CREATE TABLE content.transactions (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  fan_id uuid NOT NULL REFERENCES content.fans (id) ON DELETE CASCADE,
  platform text NOT NULL,
  platform_transaction_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('tip', 'ppv', 'subscription', 'refund', 'other')),
  amount_cents bigint NOT NULL CHECK (amount_cents >= 0),  -- refunds too: the kind says which way
  currency text NOT NULL,
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT transactions_platform_id UNIQUE (creator_id, platform, platform_transaction_id)
);
CREATE INDEX transactions_by_workspace_time ON content.transactions (creator_id, occurred_at);
CREATE INDEX transactions_by_fan_time ON content.transactions (fan_id, occurred_at);

CREATE TABLE content.saved_replies (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  title text NOT NULL,
  body text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX saved_replies_by_workspace ON content.saved_replies (creator_id, created_at DESC, id DESC);

-- How the creator writes: what reply suggestions imitate. One per workspace.
CREATE TABLE content.personas (
  creator_id uuid PRIMARY KEY REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  voice text NOT NULL DEFAULT '',
  tone text NOT NULL DEFAULT '',
  dos text[] NOT NULL DEFAULT '{}',
  donts text[] NOT NULL DEFAULT '{}',
  emoji_habits text NOT NULL DEFAULT '',
  price_list jsonb NOT NULL DEFAULT '[]',  -- [{"item": "...", "price_cents": 1500}]
  languages text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL
);

-- Idempotency-Key of POST requests that create or ingest: the first answer
-- is kept and replayed to a retry with the same key and body. A row without
-- a status is a request still running (or one whose process died: it is
-- taken over once `claimed_at` is old). Pruned after a day by content.prune.
CREATE TABLE content.idempotency_keys (
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  key text NOT NULL,
  request_hash bytea NOT NULL,       -- SHA-256 of the method, path and body
  status integer,
  response text,
  claimed_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (creator_id, key)
);
CREATE INDEX idempotency_keys_by_age ON content.idempotency_keys (created_at);

-- Signed-webhook ingestion: a workspace's secret is derived from the
-- configured content.ingest.webhook_key and this generation, so no secret is
-- stored; rotating bumps the generation.
CREATE TABLE content.webhook_keys (
  creator_id uuid PRIMARY KEY REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  generation integer NOT NULL,
  rotated_at timestamptz NOT NULL
);
