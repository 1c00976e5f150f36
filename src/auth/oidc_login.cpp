#include "auth/oidc_login.hpp"

#include "auth/json_body.hpp"
#include "auth/tokens.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;

namespace {

constexpr size_t kMaxReturnPath = 512;
constexpr size_t kStateBytes = 32;  // 256 bits each: state, nonce, PKCE verifier

std::string random_word() { return crypto::base64url_encode(crypto::random_bytes(kStateBytes)); }

// What the provider's token shows of the user, for a new account's name.
std::string display_name_for(const IdTokenClaims& claims, const std::string& email) {
  if (!claims.name.empty()) return claims.name;
  return email.substr(0, email.find('@'));
}

}  // namespace

struct OidcLogin::Flow {
  std::string nonce;
  std::string code_verifier;
  std::string return_to;
};

std::string safe_return_path(std::string_view requested) {
  if (requested.empty() || requested.size() > kMaxReturnPath || requested.front() != '/') return "/";
  // "//host" and "/\host" are other sites to a browser.
  if (requested.size() > 1 && (requested[1] == '/' || requested[1] == '\\')) return "/";
  for (const char c : requested) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == '\\') return "/";  // printable ASCII only: it goes into a header
  }
  return std::string(requested);
}

OidcLogin::OidcLogin(db::Database& db, http::HttpClient& client, const Clock& clock, Sessions& sessions,
                     const AuthConfig& config, metrics::Registry& metrics)
    : db_(db), clock_(clock), sessions_(sessions), config_(config), metrics_(metrics) {
  for (const auto& p : config_.oidc.providers) {
    order_.push_back(p.name);
    providers_.emplace(p.name, std::make_unique<OidcProvider>(client, clock, p, config_.oidc));
  }
}

std::vector<const OidcProviderConfig*> OidcLogin::providers() const {
  std::vector<const OidcProviderConfig*> out;
  for (const auto& name : order_) out.push_back(&providers_.at(name)->config());
  return out;
}

std::string OidcLogin::redirect_uri(std::string_view provider) const {
  const std::string& base = config_.oidc.redirect_base.empty() ? config_.public_url : config_.oidc.redirect_base;
  return base + "/api/v1/auth/oidc/" + std::string(provider) + "/callback";
}

void OidcLogin::count(std::string_view provider, std::string_view outcome) {
  metrics_
      .counter("huntaze_auth_oidc_logins_total", "OpenID Connect sign-ins by provider and outcome",
               {"provider", "outcome"})
      .with({provider, outcome})
      .inc();
}

bool OidcLogin::browsers_state(std::string_view state, std::string_view browser_state) {
  return !state.empty() && state.size() <= 128 && crypto::constant_time_equal(state, browser_state);
}

asio::awaitable<void> OidcLogin::refused(std::string_view provider, std::string_view state,
                                         std::string_view browser_state) {
  count(provider, "refused_by_provider");
  // The sign-in is over: its flow goes now rather than at its expiry. Only
  // this browser's own, as in finish(): a link cannot end another's sign-in.
  if (!browsers_state(state, browser_state)) co_return;
  co_await take_flow(provider, state);
}

asio::awaitable<OidcRedirect> OidcLogin::begin(std::string_view name, std::string return_to) {
  OidcProvider& provider = *providers_.at(std::string(name));
  const ProviderMetadata metadata = co_await provider.metadata();
  OidcRedirect out;
  out.state = random_word();
  const std::string nonce = random_word();
  const std::string verifier = random_word();  // 43 characters: RFC 7636's minimum length, 256 bits
  const SysTime now = clock_.now();
  // Flows nobody came back for, a small batch per start, so that they do not
  // pile up between two auth.prune runs. SKIP LOCKED: concurrent starts take
  // different rows instead of waiting on each other.
  co_await db_.query(
      "DELETE FROM auth.oidc_flows WHERE state_hash IN "
      "(SELECT state_hash FROM auth.oidc_flows WHERE expires_at < $1 LIMIT 100 FOR UPDATE SKIP LOCKED)",
      db::Timestamp(now));
  co_await db_.query(
      "INSERT INTO auth.oidc_flows (state_hash, provider, nonce, code_verifier, return_to, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      token_hash(out.state), std::string(name), nonce, verifier, safe_return_path(return_to), db::Timestamp(now),
      db::Timestamp(now + config_.oidc.flow_ttl));
  AuthorizationRequest request{redirect_uri(name), out.state, nonce, s256_challenge(verifier)};
  out.location = provider.authorization_url(metadata, request);
  co_return out;
}

asio::awaitable<std::optional<OidcLogin::Flow>> OidcLogin::take_flow(std::string_view provider,
                                                                     std::string_view state) {
  auto rows = co_await db_.query(
      "DELETE FROM auth.oidc_flows WHERE state_hash = $1 AND provider = $2 AND expires_at > $3 "
      "RETURNING nonce, code_verifier, return_to",
      token_hash(state), std::string(provider), db::Timestamp(clock_.now()));
  if (rows.empty()) co_return std::nullopt;
  const auto row = rows.front();
  co_return Flow{row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(2)};
}

asio::awaitable<OidcSignedIn> OidcLogin::finish(std::string_view name, std::string_view state,
                                                std::string_view browser_state, std::string_view code,
                                                const ClientInfo& client) {
  OidcProvider& provider = *providers_.at(std::string(name));
  std::string outcome = "ok";
  std::string detail;
  std::optional<OidcSignedIn> signed_in;
  try {
    // The state must be the one this browser was given (its cookie), not
    // just any live one: that stops an attacker from finishing their own
    // sign-in in a victim's browser (login CSRF).
    if (!browsers_state(state, browser_state) || code.empty() || code.size() > 2048)
      throw OidcError("invalid_state", "the callback's state is missing or not this browser's");
    auto flow = co_await take_flow(name, state);
    if (!flow) throw OidcError("invalid_state", "no pending sign-in for this state (used, expired or unknown)");
    const std::string id_token = co_await provider.exchange_code(std::string(code), flow->code_verifier,
                                                                 redirect_uri(name));
    const IdTokenClaims claims = co_await provider.verify(id_token, flow->nonce);
    // Two first sign-ins of one person at once (from two browsers: one
    // browser has one hz_oidc cookie, which a second /start replaces), or a
    // sign-up of the same address meanwhile, race to create the same account
    // or identity: the loser's insert hits a unique index, and its second
    // attempt finds what the winner made.
    for (int attempt = 1;; ++attempt) {
      bool raced = false;
      try {
        signed_in = co_await sign_in(provider, claims, flow->return_to, client);
      } catch (const db::DbError& e) {
        if (!e.is_unique_violation() || attempt == 2) throw;
        raced = true;
      }
      if (!raced) break;
    }
  } catch (const OidcError& e) {
    outcome = e.reason();
    detail = e.what();
  }
  count(name, outcome);
  if (!signed_in) {
    log::warn("OpenID Connect sign-in refused",
              {{"provider", std::string(name)}, {"reason", outcome}, {"detail", detail}, {"request_id", client.request_id}});
    throw OidcError(outcome, detail);
  }
  co_return std::move(*signed_in);
}

asio::awaitable<OidcSignedIn> OidcLogin::sign_in(const OidcProvider& provider, const IdTokenClaims& claims,
                                                 std::string return_to, const ClientInfo& client) {
  const std::string& name = provider.config().name;
  const std::optional<std::string> email = claims.email ? normalize_email(*claims.email) : std::nullopt;
  const SysTime now = clock_.now();
  OidcSignedIn out;
  out.return_to = std::move(return_to);
  std::vector<Uuid> ended;
  std::string refusal;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    std::optional<Uuid> user_id;
    // 1. An identity linked before.
    auto linked = co_await tx.query(
        "UPDATE auth.identities SET email = COALESCE($3, email) WHERE provider = $1 AND subject = $2 "
        "RETURNING user_id",
        name, claims.subject, email);
    if (!linked.empty()) user_id = linked.front().get<Uuid>(0);

    if (!user_id) {
      if (!email) {
        refusal = "no_email";
        co_return;
      }
      if (!claims.email_verified) {
        refusal = "email_not_verified";
        co_return;
      }
      // 2. The account with this address, when this provider may vouch for
      // existing accounts and the account has no identity here yet (else a
      // recycled address or a second subject would take it over).
      auto existing = co_await tx.query(
          "SELECT u.id, u.email_verified_at IS NOT NULL, "
          "EXISTS (SELECT 1 FROM auth.identities i WHERE i.user_id = u.id AND i.provider = $2) "
          "FROM auth.users u WHERE u.email_normalized = $1 FOR UPDATE OF u",
          *email, name);
      std::optional<Uuid> found;
      bool found_verified = false;
      bool found_has_identity = false;
      if (!existing.empty()) {
        found = existing.front().get<Uuid>(0);
        found_verified = existing.front().get<bool>(1);
        found_has_identity = existing.front().get<bool>(2);
      }
      if (found && !found_verified && provider.config().link_by_email) {
        // Whoever registered the address never proved they own it: the
        // account is replaced, not merged (its workspaces, keys and
        // invitations could otherwise still serve its maker). Only a
        // provider trusted with existing accounts may do that; for any
        // other the address is taken (account_exists below).
        const Uuid squatter = *found;
        auto sessions = co_await tx.query("SELECT id FROM auth.sessions WHERE user_id = $1 AND revoked_at IS NULL",
                                          squatter);
        for (const auto& row : sessions) ended.push_back(row.get<Uuid>(0));
        co_await tx.query(
            "DELETE FROM auth.workspaces w WHERE w.id IN "
            "(SELECT workspace_id FROM auth.memberships WHERE user_id = $1) "
            "AND NOT EXISTS (SELECT 1 FROM auth.memberships o WHERE o.workspace_id = w.id AND o.user_id <> $1)",
            squatter);
        co_await tx.query("DELETE FROM auth.users WHERE id = $1", squatter);
        AuditEvent replaced{.event = "unverified_account_replaced", .user_id = squatter};
        replaced.details["provider"] = name;
        co_await record_audit(tx, now, client, replaced);
        found.reset();
      }
      if (found) {
        if (!provider.config().link_by_email || found_has_identity) {
          refusal = "account_exists";
          co_return;
        }
        user_id = *found;
      } else {
        // 3. A new account, verified by the provider, with its own workspace.
        user_id = Uuid::v7();
        const std::string display_name = display_name_for(claims, *email);
        const std::string email_text(trim(*claims.email));  // as written, as sign-up keeps it
        co_await tx.query(
            "INSERT INTO auth.users (id, email, email_normalized, display_name, email_verified_at, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $5)",
            *user_id, email_text, *email, display_name, db::Timestamp(now));
        const Uuid workspace_id = Uuid::v7();
        co_await tx.query("INSERT INTO auth.workspaces (id, name, created_at) VALUES ($1, $2, $3)", workspace_id,
                          display_name + "'s workspace", db::Timestamp(now));
        co_await tx.query(
            "INSERT INTO auth.memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
            workspace_id, *user_id, db::Timestamp(now));
        AuditEvent created{.event = "signed_up", .workspace_id = workspace_id, .user_id = user_id};
        created.details["provider"] = name;
        co_await record_audit(tx, now, client, created);
      }
      co_await tx.query(
          "INSERT INTO auth.identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)",
          name, claims.subject, *user_id, email, db::Timestamp(now));
      AuditEvent link{.event = "identity_linked", .user_id = user_id};
      link.details["provider"] = name;
      co_await record_audit(tx, now, client, link);
    }
    out.tokens = co_await sessions_.start(tx, *user_id, "oidc:" + name, client);
    AuditEvent event{.event = "login_succeeded", .user_id = user_id};
    event.details["session_id"] = out.tokens.session_id.str();
    event.details["provider"] = name;
    co_await record_audit(tx, now, client, event);
  });
  if (refusal == "account_exists")
    throw OidcError(refusal, name + ": an account has this address and may not be linked from this provider");
  if (!refusal.empty()) throw OidcError(refusal, name + ": the provider did not vouch for an email address");
  ended.insert(ended.end(), out.tokens.capped_sessions.begin(), out.tokens.capped_sessions.end());
  co_await sessions_.deny(std::move(ended));
  co_return out;
}

}  // namespace huntaze::auth
