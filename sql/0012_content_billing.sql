-- Billing: each workspace's plan and its status (kept in step with Stripe
-- by the webhook), the monthly invoices with their line items, and the
-- Stripe events already processed. Written only by the content module.

-- A workspace without a row is on content.billing.default_plan, active.
CREATE TABLE content.workspace_plans (
  creator_id uuid PRIMARY KEY REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  plan text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'past_due', 'canceled')),
  stripe_customer_id text,
  stripe_subscription_id text,
  current_period_end timestamptz,
  -- The `created` time of the Stripe event that last changed the row: an
  -- older event delivered late does not undo a newer one.
  stripe_event_at timestamptz,
  updated_at timestamptz NOT NULL
);
CREATE INDEX workspace_plans_by_customer ON content.workspace_plans (stripe_customer_id);

-- One invoice per workspace and month, whatever retries the job makes.
CREATE TABLE content.invoices (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  period_start timestamptz NOT NULL,  -- first instant of the month, UTC
  period_end timestamptz NOT NULL,
  plan text NOT NULL,
  currency text NOT NULL,
  total_cents bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('issued', 'void')),
  created_at timestamptz NOT NULL,
  CONSTRAINT invoices_once_per_month UNIQUE (creator_id, period_start)
);
-- The unique key is also the index of a workspace's invoice list (newest
-- first: a backward scan; period_start is unique per workspace).

CREATE TABLE content.invoice_lines (
  invoice_id uuid NOT NULL REFERENCES content.invoices (id) ON DELETE CASCADE,
  position smallint NOT NULL,
  code text NOT NULL,          -- plan | ai_usage | storage | videos
  description text NOT NULL,
  quantity bigint NOT NULL,
  unit text NOT NULL,          -- month | usd_micros | bytes | videos
  amount_cents bigint NOT NULL,
  PRIMARY KEY (invoice_id, position)
);

-- Stripe delivers at least once: each event id is processed once.
CREATE TABLE content.stripe_events (
  id text PRIMARY KEY,
  type text NOT NULL,
  stripe_created_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  outcome text NOT NULL        -- applied | ignored: <why>
);
CREATE INDEX stripe_events_by_age ON content.stripe_events (received_at);
