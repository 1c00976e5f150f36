// Sign-in through OpenID Connect against a real provider on loopback (the npm
// oidc-provider, test/support/oidc): a browser follows the redirects from
// /start through the provider back to /callback, which must either start a
// session or send the browser to the web app's login page with a reason.
//
// Covered: RS256 and ES256 clients, PKCE and nonce in the request, account
// creation and linking (only on a verified email from a provider trusted to
// link, never a second subject; a squatter's unverified account is replaced
// by a provider trusted to link only, its sessions ended), tampered and re-signed ID tokens (nonce,
// audience, issuer, expiry, alg none, HS256 with the client secret), key
// rotation (unknown kid refetches the JWKS, at most once a minute), state
// bound to the browser and single-use, provider errors and outages.
#include <libpq-fe.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "auth_fixture.hpp"
#include "support/browser.hpp"
#include "support/oidc_provider.hpp"

using namespace huntaze;
using namespace huntaze::test;
using namespace huntaze::test::autht;
namespace json = boost::json;

namespace {

const std::string kSecret = "client-secret-0123456789";

// A sign-in as the browser saw it.
struct SignIn {
  std::vector<BrowserHop> hops;
  // The provider's authorization URL (the first redirect).
  std::string authorization_url() const { return hops.at(0).location; }
  const BrowserHop& callback() const {
    for (const auto& h : hops)
      if (h.url.find("/callback") != std::string::npos) return h;
    throw std::runtime_error("the browser never reached the callback");
  }
  // Where the callback sent the browser on the web app.
  std::string landed() const { return callback().location; }
  std::string access_token() const { return callback().cookie_set("hz_access").value_or(""); }
};

// The value of one labelled series in a Prometheus page (0 when absent).
double series(const std::string& page, const std::string& provider, const std::string& outcome) {
  const std::string prefix =
      "huntaze_auth_oidc_logins_total{provider=\"" + provider + "\",outcome=\"" + outcome + "\"} ";
  const auto at = page.find(prefix);
  if (at == std::string::npos) return 0;
  return std::stod(page.substr(at + prefix.size(), page.find('\n', at) - at - prefix.size()));
}

class OidcFixture {
 public:
  // `adjust`: more configuration, after the fixture's own.
  explicit OidcFixture(const std::function<void(app::AppConfig&)>& adjust = {}) : port_(free_port()) {
    json::array clients{
        json::object{{"client_id", "huntaze-rs"},
                     {"client_secret", kSecret},
                     {"redirect_uris", json::array{base() + "/api/v1/auth/oidc/loopback/callback"}},
                     {"id_token_signed_response_alg", "RS256"}},
        json::object{{"client_id", "huntaze-es"},
                     {"client_secret", kSecret},
                     {"redirect_uris", json::array{base() + "/api/v1/auth/oidc/loopback-es/callback"}},
                     {"id_token_signed_response_alg", "ES256"}}};
    provider.set_clients(clients);
    app = std::make_unique<AuthApp>([&](app::AppConfig& c) {
      c.server.port = static_cast<uint16_t>(port_);
      c.auth.cookies.secure = false;  // the browser talks plain HTTP to 127.0.0.1
      c.auth.oidc.redirect_base = base();
      auth::OidcProviderConfig rs{.name = "loopback", .display_name = "Loopback", .issuer = provider.issuer(),
                                  .client_id = "huntaze-rs", .client_secret = Secret(kSecret),
                                  .link_by_email = true};
      auth::OidcProviderConfig es = rs;
      es.link_by_email = false;
      es.name = "loopback-es";
      es.client_id = "huntaze-es";
      es.token_auth = auth::TokenEndpointAuth::client_secret_post;
      c.auth.oidc.providers = {rs, es};
      if (adjust) adjust(c);
    });
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  SignIn sign_in(const std::string& name = "loopback", const std::string& return_to = "/inbox") {
    return SignIn{browser.navigate(base() + "/api/v1/auth/oidc/" + name + "/start?return_to=" + return_to)};
  }

  json::value me(const std::string& access_token) {
    Reply r = app->as(access_token, "GET", "/api/v1/me");
    REQUIRE(r.status == 200);
    return r.body;
  }

  std::string metrics() { return app->call("GET", "/metrics").raw; }

  OidcTestProvider provider;
  Browser browser;
  std::unique_ptr<AuthApp> app;

 private:
  int port_;
};

const std::string kFailed = "https://app.huntaze.test/login?oidc_error=";

}  // namespace

TEST_CASE("OIDC: a first sign-in creates a verified account with a workspace and a session", "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_login("sub-new", "New.Person@Example.com", true, "New Person");
  SignIn s = t.sign_in();

  // The authorization request: code flow with PKCE S256, state and nonce.
  const std::string auth_url = s.authorization_url();
  CHECK(auth_url.starts_with(t.provider.issuer()));
  for (const char* part : {"response_type=code", "client_id=huntaze-rs", "code_challenge_method=S256",
                           "code_challenge=", "nonce=", "state=", "scope=openid%20email%20profile"})
    CHECK(auth_url.find(part) != std::string::npos);
  CHECK(s.hops.at(0).cookie_set("hz_oidc").has_value());

  REQUIRE(s.landed() == "https://app.huntaze.test/inbox");
  REQUIRE_FALSE(s.access_token().empty());
  CHECK(s.callback().cookie_set("hz_csrf").has_value());
  CHECK(s.callback().cookie_set("hz_oidc") == "");  // the state cookie is cleared

  json::value me = t.me(s.access_token());
  CHECK(me.at("email") == "New.Person@Example.com");
  CHECK(me.at("email_verified") == true);
  CHECK(me.at("display_name") == "New Person");
  REQUIRE(me.at("workspaces").as_array().size() == 1);
  CHECK(me.at("workspaces").at(0).at("role") == "owner");
  CHECK(t.app->scalar("SELECT method FROM auth.sessions") == "oidc:loopback");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.identities WHERE provider = 'loopback' AND subject = 'sub-new'") ==
        "1");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows") == "0");  // consumed

  // The same person again: the same account, no second one.
  Browser other;
  SignIn again{other.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  REQUIRE_FALSE(again.access_token().empty());
  CHECK(again.landed() == "https://app.huntaze.test/");
  CHECK(t.me(again.access_token()).at("id") == me.at("id"));
  CHECK(t.app->scalar("SELECT count(*) FROM auth.users") == "1");
  CHECK(series(t.metrics(), "loopback", "ok") == 2);
}

TEST_CASE("OIDC: a new account keeps the provider's address as written, without surrounding blanks", "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_login("sub-blanks", " \tBlank.Edges@Example.com\t ", true, "Blank Edges");
  SignIn s = t.sign_in();
  REQUIRE_FALSE(s.access_token().empty());
  CHECK(t.me(s.access_token()).at("email") == "Blank.Edges@Example.com");
  CHECK(t.app->scalar("SELECT email_normalized FROM auth.users") == "blank.edges@example.com");
}

TEST_CASE("OIDC: ES256 ID tokens and client_secret_post work too", "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_login("sub-es", "es@example.com", true);
  SignIn s = t.sign_in("loopback-es");
  REQUIRE_FALSE(s.access_token().empty());
  CHECK(t.me(s.access_token()).at("email") == "es@example.com");
  CHECK(t.app->scalar("SELECT method FROM auth.sessions") == "oidc:loopback-es");
}

TEST_CASE("OIDC: a verified email links to the existing account, an unverified one does not", "[auth][oidc]") {
  OidcFixture t;
  auto user = t.app->sign_up_and_log_in("linked@example.com");

  t.provider.set_login("sub-unverified", "linked@example.com", false);
  SignIn refused = t.sign_in();
  CHECK(refused.landed() == kFailed + "email_not_verified");
  CHECK(refused.access_token().empty());
  CHECK(t.app->scalar("SELECT count(*) FROM auth.identities") == "0");

  t.provider.set_login("sub-verified", "LINKED@example.com", true);
  SignIn linked = t.sign_in();
  REQUIRE_FALSE(linked.access_token().empty());
  CHECK(t.me(linked.access_token()).at("id") == json::value(user.id));
  CHECK(t.app->scalar("SELECT user_id FROM auth.identities WHERE subject = 'sub-verified'") == user.id);
  // The password still works: the account had proved its address itself.
  CHECK(t.app->call("POST", "/api/v1/auth/login",
                    json::serialize(json::object{{"email", user.email}, {"password", user.password}}))
            .status == 200);
  CHECK(t.app->scalar("SELECT count(*) FROM auth.audit_log WHERE event = 'identity_linked'") == "1");

  // Another subject of the same provider with that address (a recycled
  // address) does not take the account over.
  t.provider.set_login("sub-recycled", "linked@example.com", true);
  Browser recycled_browser;
  SignIn recycled{recycled_browser.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  CHECK(recycled.landed() == kFailed + "account_exists");
  // Nor does a provider not trusted to link by email (link_by_email off).
  Browser es_browser;
  SignIn untrusted{es_browser.navigate(t.base() + "/api/v1/auth/oidc/loopback-es/start")};
  CHECK(untrusted.landed() == kFailed + "account_exists");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.identities") == "1");

  // Once linked, the identity signs in whatever the provider says of the email.
  t.provider.set_login("sub-verified", "linked@example.com", false);
  Browser other;
  SignIn later{other.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  REQUIRE_FALSE(later.access_token().empty());
  CHECK(t.me(later.access_token()).at("id") == json::value(user.id));

  auto page = t.metrics();
  CHECK(series(page, "loopback", "email_not_verified") == 1);
  CHECK(series(page, "loopback", "ok") == 2);
}

TEST_CASE("OIDC: an unverified account squatting the address is replaced, not merged", "[auth][oidc]") {
  OidcFixture t;
  Reply r = t.app->call("POST", "/api/v1/auth/signup",
                        json::serialize(json::object{{"email", "victim@example.com"}, {"password", "squatter pass 1"}}));
  REQUIRE(r.status == 202);
  const std::string squatter = t.app->scalar("SELECT id FROM auth.users WHERE email_normalized = 'victim@example.com'");

  t.provider.set_login("sub-victim", "victim@example.com", true);
  SignIn s = t.sign_in();
  REQUIRE_FALSE(s.access_token().empty());
  json::value me = t.me(s.access_token());
  CHECK(me.at("id") != json::value(squatter));
  CHECK(me.at("workspaces").as_array().size() == 1);
  CHECK(t.app->scalar("SELECT count(*) FROM auth.users WHERE id = '" + squatter + "'") == "0");
  // The squatter's workspace went with it: only the new one is left.
  CHECK(t.app->scalar("SELECT count(*) FROM auth.workspaces") == "1");
  CHECK(t.app->call("POST", "/api/v1/auth/login",
                    json::serialize(json::object{{"email", "victim@example.com"}, {"password", "squatter pass 1"}}))
            .status == 401);
  CHECK(t.app->scalar("SELECT count(*) FROM auth.audit_log WHERE event = 'unverified_account_replaced'") == "1");
}

TEST_CASE("OIDC: a provider not trusted to link cannot replace an unverified account", "[auth][oidc]") {
  OidcFixture t;
  Reply r =
      t.app->call("POST", "/api/v1/auth/signup",
                  json::serialize(json::object{{"email", "kept@example.com"}, {"password", "unverified pass 1"}}));
  REQUIRE(r.status == 202);
  const std::string existing = t.app->scalar("SELECT id FROM auth.users WHERE email_normalized = 'kept@example.com'");
  REQUIRE(t.app->scalar("SELECT count(*) FROM auth.workspaces") == "1");

  // loopback-es has link_by_email off: its word on the address is not
  // enough to take the address from an existing account, verified or not.
  t.provider.set_login("sub-es-kept", "kept@example.com", true);
  SignIn s = t.sign_in("loopback-es");
  CHECK(s.landed() == kFailed + "account_exists");
  CHECK(s.access_token().empty());
  CHECK(series(t.metrics(), "loopback-es", "account_exists") == 1);
  CHECK(t.app->scalar("SELECT id FROM auth.users WHERE email_normalized = 'kept@example.com'") == existing);
  CHECK(t.app->scalar("SELECT count(*) FROM auth.users") == "1");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.workspaces") == "1");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.memberships WHERE user_id = '" + existing + "'") == "1");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.identities") == "0");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.sessions") == "0");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.audit_log WHERE event = 'unverified_account_replaced'") == "0");
}

TEST_CASE("OIDC: a replaced unverified account loses its sessions", "[auth][oidc]") {
  // Without required verification the squatter can sign in and hold a session.
  OidcFixture t([](app::AppConfig& c) { c.auth.require_verified_email = false; });
  Reply r = t.app->call("POST", "/api/v1/auth/signup",
                        json::serialize(json::object{{"email", "held@example.com"}, {"password", "squatter pass 2"}}));
  REQUIRE(r.status == 202);
  const auto squatter = t.app->log_in("held@example.com", "squatter pass 2");
  REQUIRE(t.app->as(squatter.access, "GET", "/api/v1/me").status == 200);

  // A provider that may not link leaves it alone: the session still works.
  t.provider.set_login("sub-held-es", "held@example.com", true);
  SignIn untrusted = t.sign_in("loopback-es");
  CHECK(untrusted.landed() == kFailed + "account_exists");
  CHECK(t.app->as(squatter.access, "GET", "/api/v1/me").status == 200);

  // The trusted one replaces the account, and its access token (still
  // within its lifetime) is refused from then on: the session is on the
  // deny list (/me/sessions reads no user row, so only that refuses it).
  t.provider.set_login("sub-held", "held@example.com", true);
  Browser owner;
  SignIn s{owner.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  REQUIRE_FALSE(s.access_token().empty());
  CHECK(t.me(s.access_token()).at("id") != json::value(squatter.id));
  Reply after = t.app->as(squatter.access, "GET", "/api/v1/me/sessions");
  CHECK(after.status == 401);
  CHECK(after.code() == "invalid_token");
  CHECK(t.app->as(squatter.access, "GET", "/api/v1/me").status == 401);
  CHECK(t.app->call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", squatter.refresh}}))
            .status == 401);
}

TEST_CASE("OIDC: a first sign-in that races another account creation retries and links", "[auth][oidc]") {
  OidcFixture t;
  // Another transaction creates the account with this address and holds it
  // uncommitted: the sign-in does not see it, tries to create its own, and
  // waits on the unique index until the other commits.
  const std::string id = "019ab000-0000-7000-8000-0000000000aa";
  std::unique_ptr<PGconn, void (*)(PGconn*)> other(PQconnectdb(t.app->url.c_str()), PQfinish);
  REQUIRE(PQstatus(other.get()) == CONNECTION_OK);
  auto exec = [&](const std::string& sql) {
    PGresult* r = PQexec(other.get(), sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok;
  };
  REQUIRE(exec("BEGIN"));
  REQUIRE(exec("INSERT INTO auth.users (id, email, email_normalized, created_at, email_verified_at) VALUES ('" + id +
               "', 'race@example.com', 'race@example.com', now(), now())"));

  t.provider.set_login("sub-race", "race@example.com", true);
  std::optional<SignIn> result;
  std::string failure;
  std::thread signer([&] {
    try {
      result = t.sign_in();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  const bool blocked = eventually(
      [&] {
        return t.app->scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND wait_event_type = 'Lock'") != "0";
      },
      20s);
  const bool committed = exec("COMMIT");
  signer.join();
  REQUIRE(blocked);
  REQUIRE(committed);
  REQUIRE(failure.empty());
  REQUIRE(result);
  REQUIRE_FALSE(result->access_token().empty());
  CHECK(t.me(result->access_token()).at("id") == json::value(id));
  CHECK(t.app->scalar("SELECT count(*) FROM auth.users") == "1");
}

TEST_CASE("OIDC: forged, tampered and misdirected ID tokens are refused", "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_login("sub-faults", "faults@example.com", true);
  const std::vector<std::pair<std::string, std::string>> cases{
      {"tamper", "bad_signature"},    {"nonce", "wrong_nonce"},         {"audience", "wrong_audience"},
      {"expired", "expired"},         {"issuer", "wrong_issuer"},       {"alg_none", "unsupported_alg"},
      {"hs256", "unsupported_alg"},   {"unverified_email", "email_not_verified"}};
  for (const auto& [fault, outcome] : cases) {
    DYNAMIC_SECTION(fault) {
      t.provider.set_fault(fault);
      SignIn s = t.sign_in();
      CHECK(s.access_token().empty());
      CHECK(s.landed() == kFailed + (outcome == "email_not_verified" ? outcome : "sign_in_failed"));
      CHECK(series(t.metrics(), "loopback", outcome) == 1);
      CHECK(t.app->scalar("SELECT count(*) FROM auth.sessions") == "0");
      CHECK(t.app->scalar("SELECT count(*) FROM auth.users") == "0");
    }
  }
}

TEST_CASE("OIDC: without a usable email a first sign-in is refused as no_email, a linked identity signs in",
          "[auth][oidc]") {
  OidcFixture t;
  // No email claim at all (the provider left the email scope out).
  t.provider.set_login("sub-mailless", "mailless@example.com", true);
  t.provider.set_fault("no_email");
  SignIn absent = t.sign_in();
  CHECK(absent.landed() == kFailed + "no_email");
  CHECK(absent.access_token().empty());
  // An email claim that is no address an account could use.
  t.provider.set_fault("none");
  t.provider.set_login("sub-mailless", "not an address", true);
  Browser second;
  SignIn unusable{second.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  CHECK(unusable.landed() == kFailed + "no_email");
  CHECK(series(t.metrics(), "loopback", "no_email") == 2);
  CHECK(t.app->scalar("SELECT count(*) FROM auth.users") == "0");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.identities") == "0");

  // Once linked, the identity needs no email to sign in.
  t.provider.set_login("sub-mailless", "mailless@example.com", true);
  Browser third;
  SignIn linked{third.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  REQUIRE_FALSE(linked.access_token().empty());
  t.provider.set_fault("no_email");
  Browser fourth;
  SignIn later{fourth.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  REQUIRE_FALSE(later.access_token().empty());
  CHECK(t.me(later.access_token()).at("id") == t.me(linked.access_token()).at("id"));
  CHECK(t.me(later.access_token()).at("email") == "mailless@example.com");
}

TEST_CASE("OIDC: client_secret_basic form-encodes the client secret before base64", "[auth][oidc]") {
  // RFC 6749 §2.3.1: a secret with ':', '+', '%' and a space reaches the
  // provider intact only if each is form-encoded first ('+' would decode to a
  // space, "%41" to "A").
  const std::string odd_secret = "colon:plus+percent%41 slash/equals=0123456789";
  OidcFixture t([&](app::AppConfig& c) {
    auth::OidcProviderConfig odd = c.auth.oidc.providers.at(0);
    odd.name = "loopback-odd";
    odd.client_id = "huntaze-odd";
    odd.client_secret = Secret(odd_secret);
    odd.token_auth = auth::TokenEndpointAuth::client_secret_basic;
    c.auth.oidc.providers.push_back(odd);
  });
  t.provider.set_clients(
      json::array{json::object{{"client_id", "huntaze-odd"},
                               {"client_secret", odd_secret},
                               {"redirect_uris", json::array{t.base() + "/api/v1/auth/oidc/loopback-odd/callback"}}}});
  t.provider.set_login("sub-odd", "odd@example.com", true);
  SignIn s = t.sign_in("loopback-odd");
  REQUIRE(s.landed() == "https://app.huntaze.test/inbox");
  CHECK(t.me(s.access_token()).at("email") == "odd@example.com");
  CHECK(series(t.metrics(), "loopback-odd", "ok") == 1);
  CHECK(t.provider.served("token") == 1);
}

TEST_CASE("OIDC: a rotated key is fetched on its first use - unknown keys refetch at most once a minute",
          "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_login("sub-keys", "keys@example.com", true);
  REQUIRE_FALSE(t.sign_in().access_token().empty());
  const int64_t fetched = t.provider.served("jwks");
  CHECK(fetched == 1);

  // Cached: another sign-in fetches nothing.
  Browser second;
  REQUIRE_FALSE(SignIn{second.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")}.access_token().empty());
  CHECK(t.provider.served("jwks") == 1);

  // The provider rotates to k3: the unknown kid refetches the set once.
  t.provider.rotate_keys();
  t.provider.set_fault("new_kid");
  Browser third;
  SignIn rotated{third.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  REQUIRE_FALSE(rotated.access_token().empty());
  CHECK(t.provider.served("jwks") == 2);

  // A kid nobody publishes: refused, and the set was refetched a moment ago,
  // so no request goes to the provider for it.
  t.provider.set_fault("unknown_kid");
  Browser fourth;
  SignIn unknown{fourth.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  CHECK(unknown.access_token().empty());
  CHECK(series(t.metrics(), "loopback", "unknown_key") == 1);
  CHECK(t.provider.served("jwks") == 2);
}

TEST_CASE("OIDC: the callback needs this browser's state, once", "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_login("sub-state", "state@example.com", true);
  SignIn s = t.sign_in();
  REQUIRE_FALSE(s.access_token().empty());

  // Replayed in the same browser: the flow is gone.
  BrowserHop replay = t.browser.request("GET", s.callback().url);
  CHECK(replay.location == kFailed + "invalid_state");
  CHECK_FALSE(replay.cookie_set("hz_access").has_value());

  // Another browser (an attacker's link) without the state cookie: refused,
  // and the flow it names stays for its own browser.
  Browser victim_browser;
  // Stops before the provider: the flow stays pending.
  const std::string location = t.browser.request("GET", t.base() + "/api/v1/auth/oidc/loopback/start").location;
  const std::string state = location.substr(location.find("state=") + 6, 43);
  BrowserHop forged = victim_browser.request("GET", t.base() + "/api/v1/auth/oidc/loopback/callback?code=x&state=" + state);
  CHECK(forged.location == kFailed + "invalid_state");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows") == "1");

  // The provider's own refusal (the user said no): the flow is over.
  BrowserHop denied =
      t.browser.request("GET", t.base() + "/api/v1/auth/oidc/loopback/callback?error=access_denied&state=" + state);
  CHECK(denied.location == kFailed + "access_denied");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows") == "0");

  auto page = t.metrics();
  CHECK(series(page, "loopback", "invalid_state") == 2);
  CHECK(series(page, "loopback", "refused_by_provider") == 1);
}

TEST_CASE("OIDC: a start deletes flows that expired without a callback", "[auth][oidc]") {
  OidcFixture t;
  // Two abandoned sign-ins: one long expired, one still pending.
  REQUIRE(
      t.app->scalar("INSERT INTO auth.oidc_flows (state_hash, provider, nonce, code_verifier, return_to, "
                    "created_at, expires_at) VALUES ('\\x01', 'loopback', 'n', 'v', '/', now() - interval '2 hours', "
                    "now() - interval '1 hour'), ('\\x02', 'loopback', 'n', 'v', '/', now(), "
                    "now() + interval '1 hour') RETURNING 'ok'") == "ok");
  CHECK(t.app->call("GET", "/api/v1/auth/oidc/loopback/start").status == 303);
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows WHERE state_hash = '\\x01'") == "0");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows WHERE state_hash = '\\x02'") == "1");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows") == "2");  // the pending one and the new one
}

TEST_CASE("OIDC: a refusal by the provider ends the flow of its own browser only", "[auth][oidc]") {
  OidcFixture t;
  const std::string location = t.browser.request("GET", t.base() + "/api/v1/auth/oidc/loopback/start").location;
  const std::string state = location.substr(location.find("state=") + 6, 43);
  const std::string denial = t.base() + "/api/v1/auth/oidc/loopback/callback?error=access_denied&state=" + state;
  REQUIRE(t.app->scalar("SELECT count(*) FROM auth.oidc_flows") == "1");

  // Sent to another browser (no state cookie): the flow stays.
  Browser other;
  CHECK(other.request("GET", denial).location == kFailed + "access_denied");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows") == "1");
  // In the browser that started it: deleted at once, not at its expiry.
  CHECK(t.browser.request("GET", denial).location == kFailed + "access_denied");
  CHECK(t.app->scalar("SELECT count(*) FROM auth.oidc_flows") == "0");
  CHECK(series(t.metrics(), "loopback", "refused_by_provider") == 2);
}

TEST_CASE("OIDC: provider failures end at the login page, unknown providers are 404", "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_login("sub-down", "down@example.com", true);
  t.provider.set_token_status(500);
  SignIn s = t.sign_in();
  CHECK(s.landed() == kFailed + "provider_unavailable");
  CHECK(series(t.metrics(), "loopback", "provider_unavailable") == 1);
  t.provider.set_token_status(400);
  Browser other;
  SignIn bad{other.navigate(t.base() + "/api/v1/auth/oidc/loopback/start")};
  CHECK(bad.landed() == kFailed + "sign_in_failed");
  CHECK(series(t.metrics(), "loopback", "token_exchange_failed") == 1);

  CHECK(t.app->call("GET", "/api/v1/auth/oidc/nope/start").status == 404);
  CHECK(t.app->call("GET", "/api/v1/auth/oidc/nope/callback?code=x&state=y").status == 404);
  Reply list = t.app->call("GET", "/api/v1/auth/oidc/providers");
  REQUIRE(list.status == 200);
  REQUIRE(list.body.at("providers").as_array().size() == 2);
  CHECK(list.body.at("providers").at(0).at("name") == "loopback");
  CHECK(list.body.at("providers").at(0).at("start_url") == "/api/v1/auth/oidc/loopback/start");

  // A return_to off the web app is ignored.
  t.provider.set_token_status(0);
  Browser third;
  SignIn offsite{third.navigate(t.base() + "/api/v1/auth/oidc/loopback/start?return_to=//evil.example/x")};
  CHECK(offsite.landed() == "https://app.huntaze.test/");
}

TEST_CASE("OIDC: after a failed fetch the provider is left alone for a few seconds", "[auth][oidc]") {
  OidcFixture t;
  t.provider.set_metadata_status(500);
  const std::string start = "/api/v1/auth/oidc/loopback/start";
  Reply down = t.app->call("GET", start);
  CHECK(down.status == 503);
  CHECK(down.code() == "provider_unavailable");
  CHECK(t.provider.served("discovery") == 1);
  // Within the back-off nothing is asked: the answer is at once the same.
  CHECK(t.app->call("GET", start).status == 503);
  CHECK(t.provider.served("discovery") == 1);

  t.provider.set_metadata_status(0);
  CHECK(eventually([&] { return t.app->call("GET", start).status == 303; }, 20s));
  CHECK(t.provider.served("discovery") == 2);
}

TEST_CASE("OIDC: a provider that cannot be reached answers 503 at the start", "[auth][oidc]") {
  const int dead_port = free_port();
  AuthApp app([&](app::AppConfig& c) {
    auth::OidcProviderConfig p{.name = "gone", .issuer = "http://127.0.0.1:" + std::to_string(dead_port),
                               .client_id = "c", .client_secret = Secret("s")};
    c.auth.oidc.providers = {p};
  });
  Reply r = app.call("GET", "/api/v1/auth/oidc/gone/start");
  CHECK(r.status == 503);
  CHECK(r.code() == "provider_unavailable");
  CHECK(app.scalar("SELECT count(*) FROM auth.oidc_flows") == "0");
}
