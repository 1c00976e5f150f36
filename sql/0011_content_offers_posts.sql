-- Offers (discounts, bundles, pay-per-view drops) and the post calendar.
-- Written only by the content module.
--
-- Both move through their states at exact times: a job is enqueued for each
-- start, end and due time (offers.activate, offers.expire, posts.due, each
-- with the row's id), and cron
-- sweeps catch anything a job missed. Every transition is one conditional
-- UPDATE (WHERE status = <from> AND <time> <= now), so a job and a sweep
-- racing each other move an offer or a post once, and its event is
-- published once, in the same transaction.

CREATE TABLE content.offers (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  kind text NOT NULL CHECK (kind IN ('discount', 'bundle', 'ppv')),
  price_cents bigint,                 -- bundles and PPV
  discount_percent integer CHECK (discount_percent BETWEEN 1 AND 100),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  status text NOT NULL CHECK (status IN ('scheduled', 'active', 'expired', 'canceled')),
  activated_at timestamptz,
  expired_at timestamptz,
  created_by uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK (ends_at > starts_at)
);
CREATE INDEX offers_by_workspace ON content.offers (creator_id, starts_at DESC, id DESC);
-- The sweeps: what should have started, what should have ended.
CREATE INDEX offers_to_start ON content.offers (starts_at) WHERE status = 'scheduled';
CREATE INDEX offers_to_end ON content.offers (ends_at) WHERE status IN ('scheduled', 'active');
-- The offers running now, for the suggestion prompt.
CREATE INDEX offers_active ON content.offers (creator_id) WHERE status = 'active';

CREATE TABLE content.posts (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  platform text NOT NULL,
  caption text NOT NULL DEFAULT '',
  media text[] NOT NULL DEFAULT '{}',  -- media asset ids or URLs the connector publishes
  status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'published', 'canceled')),
  scheduled_at timestamptz,
  due_at timestamptz,                  -- when post.due was published (once)
  published_at timestamptz,
  platform_post_id text,               -- what the connector reported back
  created_by uuid,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK (status <> 'scheduled' OR scheduled_at IS NOT NULL)
);
CREATE INDEX posts_by_workspace ON content.posts (creator_id, coalesce(scheduled_at, created_at) DESC, id DESC);
CREATE INDEX posts_due ON content.posts (scheduled_at) WHERE status = 'scheduled' AND due_at IS NULL;
