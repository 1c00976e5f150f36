// The `auth.oidc:` section: sign-in through OpenID Connect providers.
//
//   oidc:
//     providers:
//       google: {preset: google, client_id: "...", client_secret: "${file:/run/secrets/google}"}
//       okta:   {issuer: "https://example.okta.com", client_id: "...", client_secret: "...",
//                scopes: [openid, email, profile], display_name: Okta}
//
// A preset fills in what is known about a provider (today: google's issuer
// and name); everything else comes from the provider's discovery document.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::auth {

enum class TokenEndpointAuth { client_secret_basic, client_secret_post };

struct OidcProviderConfig {
  std::string name;          // [a-z0-9_-]{1,32}: the path segment of its routes
  std::string display_name;  // for the web app's button
  std::string issuer;        // https://, or http:// on a loopback host (development, tests)
  std::string client_id;
  Secret client_secret;
  std::vector<std::string> scopes{"openid", "email", "profile"};
  TokenEndpointAuth token_auth = TokenEndpointAuth::client_secret_basic;
  // Whether this provider's verified email may sign in to an existing
  // account that has no identity here yet (linking it). Only for providers
  // whose users cannot set arbitrary addresses as verified: on for the
  // google preset, off by default for others (where a tenant admin could
  // otherwise claim anyone's account). Off: such a sign-in is refused with
  // account_exists; new accounts are made either way.
  bool link_by_email = false;
  bool operator==(const OidcProviderConfig&) const = default;
};

struct OidcConfig {
  std::vector<OidcProviderConfig> providers;
  // The origin browsers reach this server at, for the callback URLs
  // registered with the providers ("" = auth.public_url).
  std::string redirect_base;
  // How long a sign-in may take between leaving for the provider and coming back.
  std::chrono::seconds flow_ttl{std::chrono::minutes(10)};
  // Clock skew allowed on the ID token's exp and iat.
  std::chrono::seconds leeway{std::chrono::seconds(60)};
  // Discovery documents and key sets are fetched again after this long;
  // an unknown key id refetches the key set sooner, at most once a minute.
  std::chrono::seconds metadata_ttl{std::chrono::hours(1)};
  bool operator==(const OidcConfig&) const = default;
};

// Throws config::ConfigError for an unknown preset, a bad name or issuer, or
// a provider without client_id or client_secret.
OidcConfig parse_oidc_config(config::Node section);

// Whether `url` may be an issuer or a provider endpoint: https://, or
// http:// to localhost, 127.0.0.1 or [::1].
bool acceptable_provider_url(std::string_view url) noexcept;

}  // namespace huntaze::auth
