#include "auth/oidc_config.hpp"

#include <algorithm>

namespace huntaze::auth {

namespace {

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

}  // namespace

bool acceptable_provider_url(std::string_view url) noexcept {
  if (!printable(url) || url.size() > 2048) return false;
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
    const std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
    auto loopback = [&](std::string_view name) {
      return host == name || (host.starts_with(name) && host.size() > name.size() && host[name.size()] == ':');
    };
    if (!loopback("localhost") && !loopback("127.0.0.1") && !loopback("[::1]")) return false;
  } else {
    return false;
  }
  return !rest.empty() && rest.front() != '/' && rest.find('@') == std::string_view::npos;
}

OidcConfig parse_oidc_config(config::Node section) {
  using namespace std::chrono_literals;
  OidcConfig c;
  c.redirect_base = section.get_string("redirect_base", c.redirect_base);
  while (c.redirect_base.ends_with('/')) c.redirect_base.pop_back();
  if (!c.redirect_base.empty() &&
      !(c.redirect_base.starts_with("http://") || c.redirect_base.starts_with("https://")))
    section.fail("redirect_base", "must start with http:// or https://");
  auto duration = [&](const char* key, std::chrono::seconds fallback, std::chrono::seconds min,
                      std::chrono::seconds max) {
    return std::chrono::duration_cast<std::chrono::seconds>(section.get_duration(key, fallback, min, max));
  };
  c.flow_ttl = duration("flow_ttl", c.flow_ttl, 1min, 1h);
  c.leeway = duration("leeway", c.leeway, 0s, 5min);
  c.metadata_ttl = duration("metadata_ttl", c.metadata_ttl, 1min, std::chrono::hours(24 * 7));

  auto providers = section.section("providers");
  for (const auto& name : providers.keys()) {
    if (!valid_name(name)) providers.fail(name, "a provider name is 1-32 of a-z, 0-9, _ and -");
    auto p = providers.section(name);
    OidcProviderConfig provider;
    provider.name = name;
    const std::string preset = p.get_enum("preset", "", {"", "google"});
    if (preset == "google") {
      provider.issuer = "https://accounts.google.com";
      provider.display_name = "Google";
    }
    provider.issuer = p.get_string("issuer", provider.issuer);
    // Kept exactly as written: issuers compare as strings (OIDC Discovery §4.3).
    if (!acceptable_provider_url(provider.issuer))
      p.fail("issuer", "must be an https:// URL (http:// only for localhost)");
    provider.display_name = p.get_string("display_name", provider.display_name.empty() ? name : provider.display_name);
    provider.client_id = p.get_string("client_id", "");
    if (provider.client_id.empty()) p.fail("client_id", "is required");
    provider.client_secret = p.get_secret("client_secret");
    if (provider.client_secret.reveal().empty()) p.fail("client_secret", "is required");
    provider.link_by_email = p.get_bool("link_by_email", preset == "google");
    provider.scopes = p.get_strings("scopes", provider.scopes);
    if (std::find(provider.scopes.begin(), provider.scopes.end(), "openid") == provider.scopes.end())
      p.fail("scopes", "must include openid");
    for (const auto& s : provider.scopes)
      if (s.empty() || !printable(s)) p.fail("scopes", "a scope is a word without spaces");
    const std::string auth = p.get_enum("token_auth", "client_secret_basic",
                                        {"client_secret_basic", "client_secret_post"});
    provider.token_auth =
        auth == "client_secret_post" ? TokenEndpointAuth::client_secret_post : TokenEndpointAuth::client_secret_basic;
    p.finish();
    c.providers.push_back(std::move(provider));
  }
  providers.finish();
  section.finish();
  return c;
}

}  // namespace huntaze::auth
