#include "auth/auth_config.hpp"

#include <algorithm>

namespace huntaze::auth {

namespace {

using std::chrono::milliseconds;

std::chrono::seconds seconds_of(config::Node& node, const char* key, std::chrono::seconds fallback,
                                std::chrono::seconds min, std::chrono::seconds max) {
  auto ms = node.get_duration(key, fallback, min, max);
  return std::chrono::duration_cast<std::chrono::seconds>(ms);
}

}  // namespace

AuthConfig parse_auth_config(config::Node section) {
  using namespace std::chrono_literals;
  AuthConfig c;

  auto jwt = section.section("jwt");
  auto keys = jwt.section("keys");
  for (const auto& kid : keys.keys()) {
    Secret secret = keys.get_secret(kid);
    if (secret.reveal().size() < 32) keys.fail(kid, "a signing key needs at least 32 bytes");
    c.jwt.keys.push_back({kid, std::move(secret)});
  }
  keys.finish();
  c.jwt.issuer = jwt.get_string("issuer", c.jwt.issuer);
  c.jwt.audience = jwt.get_string("audience", c.jwt.audience);
  c.jwt.leeway = seconds_of(jwt, "leeway", c.jwt.leeway, 0s, 5min);
  jwt.finish();

  c.access_ttl = seconds_of(section, "access_ttl", c.access_ttl, 1min, 24h);
  c.refresh_ttl = seconds_of(section, "refresh_ttl", c.refresh_ttl, 5min, std::chrono::days(365));
  c.session_max_age = seconds_of(section, "session_max_age", c.session_max_age, 5min, std::chrono::days(3650));
  if (c.session_max_age < c.refresh_ttl) section.fail("session_max_age", "must not be shorter than refresh_ttl");

  auto password = section.section("password");
  c.password.memory_kib =
      static_cast<uint32_t>(password.get_int("memory_kib", c.password.memory_kib, 8 * 1024, kMaxArgon2MemoryKib));
  c.password.iterations =
      static_cast<uint32_t>(password.get_int("iterations", c.password.iterations, 1, kMaxArgon2Iterations));
  c.password.parallelism =
      static_cast<uint32_t>(password.get_int("parallelism", c.password.parallelism, 1, kMaxArgon2Parallelism));
  password.finish();

  c.require_verified_email = section.get_bool("require_verified_email", c.require_verified_email);
  c.verify_ttl = seconds_of(section, "verify_ttl", c.verify_ttl, 5min, std::chrono::days(30));
  c.reset_ttl = seconds_of(section, "reset_ttl", c.reset_ttl, 5min, 24h);
  c.invite_ttl = seconds_of(section, "invite_ttl", c.invite_ttl, 1h, std::chrono::days(60));
  c.public_url = section.get_string("public_url", c.public_url);
  const bool http_url = c.public_url.starts_with("http://") || c.public_url.starts_with("https://");
  const bool plain = std::all_of(c.public_url.begin(), c.public_url.end(),
                                 [](char ch) { return static_cast<unsigned char>(ch) > 0x20 && ch != 0x7f; });
  if (!http_url || !plain || c.public_url.find("://") + 3 >= c.public_url.size() ||
      c.public_url[c.public_url.find("://") + 3] == '/')
    section.fail("public_url", "must start with http:// or https:// and a host, without spaces");
  while (c.public_url.ends_with('/')) c.public_url.pop_back();

  auto cookies = section.section("cookies");
  c.cookies.secure = cookies.get_bool("secure", c.cookies.secure);
  c.cookies.domain = cookies.get_string("domain", c.cookies.domain);
  c.cookies.allowed_origins = cookies.get_strings("allowed_origins", c.cookies.allowed_origins);
  for (const auto& o : c.cookies.allowed_origins)
    if (!(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/'))
      cookies.fail("allowed_origins", "'" + o + "' is not an origin (scheme://host[:port], no path)");
  cookies.finish();
  // By default the web app itself (the origin of public_url) is the one
  // origin that may use the cookies.
  if (c.cookies.allowed_origins.empty()) {
    const auto host_start = c.public_url.find("://") + 3;
    c.cookies.allowed_origins.push_back(c.public_url.substr(0, c.public_url.find('/', host_start)));
  }
  c.rate_limits = parse_rate_limit_config(section.section("rate_limits"));
  c.oidc = parse_oidc_config(section.section("oidc"));  // an empty redirect_base means public_url (OidcLogin)
  section.finish();
  return c;
}

}  // namespace huntaze::auth
