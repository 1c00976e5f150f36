// One OpenID Connect provider as a relying party sees it: its discovery
// document, its signing keys, the authorization URL, the code exchange and
// the ID token check.
//
// The discovery document (`<issuer>/.well-known/openid-configuration`) and
// the JWKS are fetched on first use and kept for `metadata_ttl`. A token
// signed with a key id the cached set lacks refetches the set at once (the
// provider rotated its keys), but at most once a minute, so a stream of
// forged key ids cannot turn into a stream of requests to the provider.
// After a fetch fails, none is tried for 5 s: sign-ins meanwhile fail at once
// with provider_unavailable rather than each waiting on a provider that is down.
//
// Every call to the provider is bounded: 5 s to connect, 10 s in all, 256 KiB
// of answer. The issuer in the discovery document must be the configured one
// exactly, and every endpoint must be https (http only on loopback).
//
// Thread-safety: safe from any coroutine; the caches are guarded by a mutex
// never held across a suspension.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "auth/id_token.hpp"
#include "auth/jwks.hpp"
#include "auth/oidc_config.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/http/client.hpp"

namespace huntaze::auth {

// A sign-in that cannot complete. `reason` is a short snake_case word for
// metrics and logs: provider_unavailable, token_exchange_failed, or an
// IdTokenError's name.
class OidcError : public std::runtime_error {
 public:
  OidcError(std::string reason, const std::string& detail)
      : std::runtime_error(detail), reason_(std::move(reason)) {}
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

struct ProviderMetadata {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// What the authorization request carries besides the client's settings.
struct AuthorizationRequest {
  std::string redirect_uri;
  std::string state;
  std::string nonce;
  std::string code_challenge;  // S256 of the verifier
};

class OidcProvider {
 public:
  OidcProvider(http::HttpClient& client, const Clock& clock, OidcProviderConfig config, const OidcConfig& oidc);

  const OidcProviderConfig& config() const noexcept { return config_; }

  // Throws OidcError{provider_unavailable}.
  boost::asio::awaitable<ProviderMetadata> metadata();
  std::string authorization_url(const ProviderMetadata& metadata, const AuthorizationRequest& request) const;
  // The ID token the token endpoint answered for this code. Throws
  // OidcError{provider_unavailable | token_exchange_failed}.
  boost::asio::awaitable<std::string> exchange_code(const std::string& code, const std::string& code_verifier,
                                                    const std::string& redirect_uri);
  // Throws OidcError{<IdTokenError name> | provider_unavailable}.
  boost::asio::awaitable<IdTokenClaims> verify(const std::string& id_token, const std::string& nonce);

 private:
  boost::asio::awaitable<std::string> fetch(const std::string& url);
  boost::asio::awaitable<std::shared_ptr<const KeySet>> keys(bool refresh_now);

  http::HttpClient& client_;
  const Clock& clock_;
  const OidcProviderConfig config_;
  const OidcConfig& oidc_;

  std::mutex mutex_;
  std::optional<ProviderMetadata> metadata_;
  SysTime metadata_fetched_{};
  std::shared_ptr<const KeySet> keys_;
  SysTime keys_fetched_{};
  SysTime last_forced_refresh_{};
  std::optional<SysTime> failed_at_;  // the last failed fetch, until one succeeds
};

// PKCE (RFC 7636): base64url(SHA-256(verifier)).
std::string s256_challenge(std::string_view code_verifier);

}  // namespace huntaze::auth
