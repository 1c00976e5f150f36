-- Sign-ins through OpenID Connect providers that left for the provider and
-- have not come back yet. A row lives from the redirect to the provider
-- until the callback consumes it (once) or auth.prune deletes it after
-- auth.oidc.flow_ttl. The state is stored hashed; the nonce and PKCE
-- verifier are single-use values of a few minutes' worth.
CREATE TABLE auth.oidc_flows (
  state_hash bytea PRIMARY KEY,
  provider text NOT NULL,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  return_to text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX oidc_flows_by_expiry ON auth.oidc_flows (expires_at);
