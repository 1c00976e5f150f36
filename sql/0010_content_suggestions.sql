-- Reply suggestions: what the model proposed for a fan's message, and what
-- the chatter did with it (feedback), for acceptance rates per task and
-- model. Written only by the content module.
CREATE TABLE content.suggestions (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  fan_id uuid NOT NULL REFERENCES content.fans (id) ON DELETE CASCADE,
  message_id uuid,                  -- the fan's message it answers (no FK: messages are partitioned)
  position smallint NOT NULL,       -- 0, 1: order within its set
  category text NOT NULL,           -- the classification of the fan's message
  task text NOT NULL,               -- generate | creative
  model text NOT NULL,              -- what answered ("templates" for the offline fallback)
  cache_hit boolean NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL,
  feedback text CHECK (feedback IN ('accepted', 'edited', 'rejected')),
  final_text text,                  -- what was sent, when edited
  feedback_at timestamptz,
  feedback_by uuid
);
CREATE INDEX suggestions_by_workspace_time ON content.suggestions (creator_id, created_at);
-- Retention (content.prune deletes rows older than content.suggestions.retention).
CREATE INDEX suggestions_by_age ON content.suggestions (created_at);
-- Conversations already prepared (suggestions.prepare) and a fan's latest set.
CREATE INDEX suggestions_by_fan_message ON content.suggestions (fan_id, message_id);

-- suggestions.prepare: the fan's last_incoming_at when it last took the
-- conversation (whatever came of it: replies, spam, a spent budget), so that
-- a conversation is tried once per new message from the fan.
ALTER TABLE content.fans ADD COLUMN prepared_for timestamptz;
-- The conversations waiting on a reply: the fan wrote last.
CREATE INDEX fans_waiting ON content.fans (last_incoming_at) WHERE last_incoming_at = last_message_at;
