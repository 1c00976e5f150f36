-- Indexes for the daily auth.prune job (src/auth/maintenance.cpp), which
-- keeps the auth tables bounded: spent refresh tokens and email links,
-- ended sessions, stale invitations and sign-ups never verified.
CREATE INDEX refresh_tokens_by_expiry ON auth.refresh_tokens (expires_at);
CREATE INDEX email_tokens_by_expiry ON auth.email_tokens (expires_at);
CREATE INDEX sessions_by_expiry ON auth.sessions (expires_at);
CREATE INDEX sessions_by_revocation ON auth.sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX invitations_by_expiry ON auth.invitations (expires_at) WHERE accepted_at IS NULL;
CREATE INDEX users_unverified_by_age ON auth.users (created_at) WHERE email_verified_at IS NULL;
