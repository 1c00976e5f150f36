// Sign-in through OpenID Connect providers: the authorization code flow with
// PKCE (S256), state and nonce, ending in an ordinary session.
//
//   begin()   makes state, nonce and PKCE verifier, stores them (state
//             hashed) in auth.oidc_flows, and answers the provider's
//             authorization URL. The route also puts the state in a cookie:
//             the callback must come back to the same browser. Each begin()
//             also deletes up to 100 expired flows.
//   finish()  consumes the flow (once: a replayed callback finds nothing),
//             exchanges the code, verifies the ID token, finds or creates
//             the user, and starts a session.
//
// Which account a provider's user signs in to:
// 1. the account already linked to (provider, sub) in auth.identities;
// 2. otherwise, only when the provider vouches for the email address
//    (email_verified) and is trusted to (link_by_email: the google preset),
//    the account with that address, linked now, unless it already has an
//    identity at this provider (a recycled address, a second subject):
//    refused as account_exists;
// 3. otherwise a new account with that (verified) address and a workspace
//    it owns, as sign-up makes.
// An account that never verified its own address is not merged but
// replaced, by a provider trusted to link (link_by_email) only: whoever
// registered it did not prove they own the address, and its sessions end
// and its workspaces, keys and invitations go with it (the ones it alone
// belonged to). Any other provider is refused as account_exists and the
// account is left as it is. An unverified address signs in only to an
// identity already linked (1).
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "auth/audit.hpp"
#include "auth/auth_config.hpp"
#include "auth/oidc_provider.hpp"
#include "auth/sessions.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/client.hpp"

namespace huntaze::auth {

struct OidcRedirect {
  std::string location;  // the provider's authorization URL
  std::string state;     // also for the browser's cookie
};

struct OidcSignedIn {
  TokenPair tokens;
  std::string return_to;  // the path the sign-in began with
};

class OidcLogin {
 public:
  OidcLogin(db::Database& db, http::HttpClient& client, const Clock& clock, Sessions& sessions,
            const AuthConfig& config, metrics::Registry& metrics);

  // Configured providers, in configuration order.
  std::vector<const OidcProviderConfig*> providers() const;
  bool has(std::string_view provider) const { return providers_.count(std::string(provider)) > 0; }
  std::string redirect_uri(std::string_view provider) const;

  // `return_to` must be a path on the web app ("/..."), anything else becomes
  // "/". Throws OidcError{provider_unavailable} when discovery fails.
  boost::asio::awaitable<OidcRedirect> begin(std::string_view provider, std::string return_to);

  // `state` from the query, `browser_state` from the cookie. Throws OidcError
  // (reason invalid_state, provider_unavailable, token_exchange_failed, an
  // IdTokenError name, email_not_verified, no_email); each outcome is
  // counted in huntaze_auth_oidc_logins_total{provider,outcome}.
  boost::asio::awaitable<OidcSignedIn> finish(std::string_view provider, std::string_view state,
                                              std::string_view browser_state, std::string_view code,
                                              const ClientInfo& client);

  // A sign-in the provider itself refused (?error= on the callback): counted,
  // and its flow deleted when `state` is this browser's (`browser_state`).
  boost::asio::awaitable<void> refused(std::string_view provider, std::string_view state,
                                       std::string_view browser_state);

 private:
  struct Flow;
  // Removes and returns the live flow started with `state`.
  boost::asio::awaitable<std::optional<Flow>> take_flow(std::string_view provider, std::string_view state);
  // Whether `state` is present, of a sane length and the one this browser
  // was given (its cookie): compared in constant time.
  static bool browsers_state(std::string_view state, std::string_view browser_state);
  boost::asio::awaitable<OidcSignedIn> sign_in(const OidcProvider& provider, const IdTokenClaims& claims,
                                               std::string return_to, const ClientInfo& client);
  void count(std::string_view provider, std::string_view outcome);

  db::Database& db_;
  const Clock& clock_;
  Sessions& sessions_;
  const AuthConfig& config_;
  metrics::Registry& metrics_;
  std::vector<std::string> order_;
  std::map<std::string, std::unique_ptr<OidcProvider>> providers_;
};

// A path on the web app ("/x?y"), or "/" for anything else (absolute URLs,
// "//host", backslashes, control characters, more than 512 bytes): the
// callback must never redirect to another site.
std::string safe_return_path(std::string_view requested);

}  // namespace huntaze::auth
