-- Accounts, workspaces and their members, sessions and refresh tokens,
-- email tokens, invitations, API keys, external identities and the audit
-- log. Written only by the auth module (src/auth/).
--
-- Secrets are never stored: refresh tokens, email tokens, invitation tokens
-- and API keys are kept as the SHA-256 of the token (256 random bits, so a
-- plain hash is enough; no salt or slow hash is needed), passwords as an
-- argon2id PHC string.

CREATE TABLE auth.users (
  id uuid PRIMARY KEY,
  email text NOT NULL,                 -- as the user typed it (trimmed)
  email_normalized text NOT NULL,      -- lower-case: what logins and uniqueness use
  display_name text NOT NULL DEFAULT '',
  password_hash text,                  -- NULL: signs in only through an identity provider
  email_verified_at timestamptz,
  password_changed_at timestamptz,
  created_at timestamptz NOT NULL,
  CONSTRAINT users_email_unique UNIQUE (email_normalized)
);

CREATE TABLE auth.workspaces (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  -- Owners of a platform-admin workspace operate the whole deployment
  -- (job admin API). Set by an operator (`huntaze` CLI or SQL), never by the API.
  platform_admin boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL
);

CREATE TABLE auth.memberships (
  workspace_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'manager', 'chatter', 'viewer')),
  created_at timestamptz NOT NULL,
  -- Also the index of every authenticated request's role check.
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_by_user ON auth.memberships (user_id);

-- A session is one sign-in on one device: the family of refresh tokens that
-- rotate from it, and the `sid` claim of its access tokens.
CREATE TABLE auth.sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  method text NOT NULL,                -- password | oidc:<provider>
  user_agent text NOT NULL DEFAULT '',
  ip text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,     -- absolute end, however often it is refreshed
  revoked_at timestamptz,
  revoked_reason text                  -- logout | logout_all | revoked | password_changed | refresh_reuse | ...
);
CREATE INDEX sessions_by_user ON auth.sessions (user_id, created_at DESC);

CREATE TABLE auth.refresh_tokens (
  token_hash bytea PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
  issued_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  -- Set when the token was exchanged for the next one. Presenting it again
  -- is reuse: the whole session is revoked.
  rotated_at timestamptz
);
CREATE INDEX refresh_tokens_by_session ON auth.refresh_tokens (session_id);

-- Single-use links sent by email.
CREATE TABLE auth.email_tokens (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
  email_normalized text NOT NULL,      -- the address the link went to
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX email_tokens_by_user ON auth.email_tokens (user_id, purpose);

CREATE TABLE auth.invitations (
  id uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  email_normalized text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'manager', 'chatter', 'viewer')),
  token_hash bytea NOT NULL UNIQUE,
  invited_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  revoked_at timestamptz
);
CREATE INDEX invitations_by_workspace ON auth.invitations (workspace_id, created_at DESC);

CREATE TABLE auth.api_keys (
  id uuid PRIMARY KEY,
  workspace_id uuid NOT NULL REFERENCES auth.workspaces (id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL,                -- the visible start of the key, to recognise it in lists
  key_hash bytea NOT NULL UNIQUE,
  scopes text[] NOT NULL,
  created_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_by_workspace ON auth.api_keys (workspace_id, created_at DESC);

-- Accounts at identity providers (OpenID Connect `sub` per issuer).
CREATE TABLE auth.identities (
  provider text NOT NULL,
  subject text NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  email text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (provider, subject)
);
CREATE INDEX identities_by_user ON auth.identities (user_id);

-- Security events. Append-only: a trigger refuses UPDATE, DELETE and
-- TRUNCATE, so that not even a bug in this binary can rewrite history.
-- No foreign keys: the trail outlives the users and workspaces it names.
CREATE TABLE auth.audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  event text NOT NULL,                 -- login_succeeded, login_failed, password_changed, ...
  workspace_id uuid,                   -- set for workspace events (keys, roles, members)
  user_id uuid,                        -- whose account it concerns
  actor_user_id uuid,                  -- who did it, when someone else
  api_key_id uuid,
  ip text NOT NULL DEFAULT '',
  request_id text NOT NULL DEFAULT '',
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_workspace ON auth.audit_log (workspace_id, id DESC) WHERE workspace_id IS NOT NULL;
CREATE INDEX audit_by_user ON auth.audit_log (user_id, id DESC) WHERE user_id IS NOT NULL;

CREATE FUNCTION auth.audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'auth.audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON auth.audit_log
  FOR EACH ROW EXECUTE FUNCTION auth.audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON auth.audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION auth.audit_log_is_append_only();
