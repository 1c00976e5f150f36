// Accounts and sessions through HTTP against the whole binary: sign-up with
// the emailed verification link, login, refresh rotation and reuse
// detection, immediate revocation, password change and reset, cookie mode
// with CSRF, and the audit trail.
#include "auth_fixture.hpp"

using namespace huntaze;
using namespace huntaze::test::autht;

namespace {

std::string credentials(const std::string& email, const std::string& password) {
  return json::serialize(json::object{{"email", email}, {"password", password}});
}

std::string cookie_value(const Reply& r, const std::string& name) {
  for (const auto& c : r.set_cookies)
    if (c.rfind(name + "=", 0) == 0) return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
  return "";
}

}  // namespace

TEST_CASE("the account lifecycle from sign-up to logout", "[auth][accounts]") {
  AuthApp t;
  const std::string email = "Creator@Example.com";
  Reply r = t.call("POST", "/api/v1/auth/signup",
                   json::serialize(json::object{{"email", email}, {"password", "correct horse battery"}}));
  REQUIRE(r.status == 202);

  // Before the link is followed the password is right but the login waits.
  r = t.call("POST", "/api/v1/auth/login", credentials("creator@example.com", "correct horse battery"));
  CHECK(r.status == 403);
  CHECK(r.code() == "email_not_verified");

  const std::string token = t.mailed_token("creator@example.com", "Confirm");
  CHECK(token.rfind("hze_", 0) == 0);
  r = t.call("POST", "/api/v1/auth/verify-email", json::serialize(json::object{{"token", token}}));
  CHECK(r.status == 200);
  // Single use.
  r = t.call("POST", "/api/v1/auth/verify-email", json::serialize(json::object{{"token", token}}));
  CHECK(r.status == 400);
  CHECK(r.code() == "invalid_token");

  r = t.call("POST", "/api/v1/auth/login", credentials("CREATOR@example.com", "correct horse battery"));
  REQUIRE(r.status == 200);
  CHECK(r.str("token_type") == "Bearer");
  CHECK(r.header("cache-control") == "no-store");
  const std::string access = r.str("access_token");
  const std::string refresh = r.str("refresh_token");

  Reply me = t.as(access, "GET", "/api/v1/me");
  REQUIRE(me.status == 200);
  CHECK(me.str("email") == email);
  CHECK(me.body.at("email_verified").as_bool());
  CHECK(me.body.at("workspaces").at(0).at("role") == "owner");
  CHECK(me.header("ratelimit-limit") == "100000");  // the per-user rule of the fixture, not the per-address one

  // Refresh rotates: a new pair, and the old refresh token is spent.
  r = t.call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", refresh}}));
  REQUIRE(r.status == 200);
  const std::string access2 = r.str("access_token");
  const std::string refresh2 = r.str("refresh_token");
  CHECK(refresh2 != refresh);
  CHECK(t.as(access2, "GET", "/api/v1/me").status == 200);

  // Logout ends the session at once: the access token that still has
  // minutes to live is refused on the next request.
  CHECK(t.as(access2, "POST", "/api/v1/auth/logout").status == 204);
  r = t.as(access2, "GET", "/api/v1/me");
  CHECK(r.status == 401);
  CHECK(r.code() == "invalid_token");
  r = t.call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", refresh2}}));
  CHECK(r.status == 401);

  const std::string events = t.scalar(
      "SELECT string_agg(event, ',' ORDER BY id) FROM auth.audit_log");
  CHECK(events == "signed_up,email_verified,login_succeeded,session_revoked");
}

TEST_CASE("a reused refresh token revokes its whole session", "[auth][accounts]") {
  AuthApp t;
  auto u = t.sign_up_and_log_in("reuse@example.com");
  Reply r = t.call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", u.refresh}}));
  REQUIRE(r.status == 200);
  const std::string newer_access = r.str("access_token");
  const std::string newer_refresh = r.str("refresh_token");

  // The old token again: someone copied it.
  r = t.call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", u.refresh}}));
  CHECK(r.status == 401);
  CHECK(r.code() == "refresh_token_reused");
  // Every token of the family is dead, including the legitimate newest pair.
  CHECK(t.as(newer_access, "GET", "/api/v1/me").status == 401);
  CHECK(t.call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", newer_refresh}}))
            .status == 401);
  CHECK(t.scalar("SELECT count(*) FROM auth.audit_log WHERE event = 'refresh_reuse_detected'") == "1");
  CHECK(t.scalar("SELECT revoked_reason FROM auth.sessions") == "refresh_reuse");
}

TEST_CASE("failed logins answer alike for unknown emails and wrong passwords", "[auth][accounts]") {
  AuthApp t;
  t.sign_up_and_log_in("known@example.com");
  Reply wrong = t.call("POST", "/api/v1/auth/login", credentials("known@example.com", "not the password"));
  Reply unknown = t.call("POST", "/api/v1/auth/login", credentials("nobody@example.com", "not the password"));
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.code() == "invalid_credentials");
  CHECK(unknown.code() == "invalid_credentials");
  CHECK(wrong.body.at("error").at("message") == unknown.body.at("error").at("message"));

  // Signing up again with a taken address answers as a new sign-up does,
  // and tells the owner by mail instead.
  Reply again = t.call("POST", "/api/v1/auth/signup", credentials("KNOWN@example.com", "another good password"));
  CHECK(again.status == 202);
  CHECK(again.raw == t.call("POST", "/api/v1/auth/signup", credentials("new@example.com", "another good password")).raw);
  t.mailed_token("new@example.com", "Confirm");
  REQUIRE(test::eventually([&] {
    for (const auto& m : t.smtp.messages())
      if (m.recipients.at(0) == "known@example.com" && m.text().find("already has one") != std::string::npos)
        return true;
    return false;
  }));
  CHECK(t.scalar("SELECT count(*) FROM auth.users") == "2");
  CHECK(t.scalar("SELECT count(*) FROM auth.audit_log WHERE event = 'login_failed'") == "2");

  // Bad input is a 400 naming the fields.
  Reply bad = t.call("POST", "/api/v1/auth/signup", json::serialize(json::object{{"email", "not-an-email"}, {"password", "short"}}));
  CHECK(bad.status == 400);
  bad = t.call("POST", "/api/v1/auth/signup", json::serialize(json::object{{"email", "x@example.com"}, {"password", "short"}}));
  CHECK(bad.status == 400);
  CHECK(bad.body.at("error").at("details").at(0).at("field") == "password");
  CHECK(t.call("POST", "/api/v1/auth/login", "[1,2]").code() == "invalid_json");
}

TEST_CASE("password change ends the other sessions and a reset by email ends them all", "[auth][accounts]") {
  AuthApp t;
  auto u = t.sign_up_and_log_in("change@example.com", "first password 123");
  auto other = t.log_in("change@example.com", "first password 123");

  Reply r = t.as(u.access, "POST", "/api/v1/auth/password/change",
                 json::serialize(json::object{{"current_password", "wrong"}, {"new_password", "second password 456"}}));
  CHECK(r.status == 401);
  r = t.as(u.access, "POST", "/api/v1/auth/password/change",
           json::serialize(json::object{{"current_password", "first password 123"},
                                        {"new_password", "second password 456"}}));
  CHECK(r.status == 204);
  CHECK(t.as(u.access, "GET", "/api/v1/me").status == 200);      // the session that changed it stays
  CHECK(t.as(other.access, "GET", "/api/v1/me").status == 401);  // the other one ended
  CHECK(t.call("POST", "/api/v1/auth/login", credentials("change@example.com", "first password 123")).status == 401);

  // Forgot: the same answer whether or not the address is known.
  Reply known = t.call("POST", "/api/v1/auth/password/forgot", json::serialize(json::object{{"email", u.email}}));
  Reply unknown =
      t.call("POST", "/api/v1/auth/password/forgot", json::serialize(json::object{{"email", "ghost@example.com"}}));
  CHECK(known.status == 202);
  CHECK(known.raw == unknown.raw);
  const std::string token = t.mailed_token(u.email, "Reset");
  // Both requests became jobs; once both ran, only the known address got mail.
  REQUIRE(test::eventually([&] {
    return t.scalar("SELECT count(*) FROM jobs.jobs WHERE kind = 'auth.password_reset_mail' AND state = 'completed'") ==
           "2";
  }));
  r = t.call("POST", "/api/v1/auth/password/reset",
             json::serialize(json::object{{"token", token}, {"password", "third password 789"}}));
  CHECK(r.status == 204);
  CHECK(t.as(u.access, "GET", "/api/v1/me").status == 401);  // every session ended
  r = t.call("POST", "/api/v1/auth/password/reset",
             json::serialize(json::object{{"token", token}, {"password", "fourth password 000"}}));
  CHECK(r.status == 400);  // single use
  CHECK(t.log_in(u.email, "third password 789").access.size() > 0);
  for (const auto& m : t.smtp.messages()) CHECK(m.recipients.at(0) != "ghost@example.com");
}

TEST_CASE("sessions are listed and revoked one by one", "[auth][accounts]") {
  AuthApp t;
  auto u = t.sign_up_and_log_in("sessions@example.com");
  auto second = t.log_in(u.email, u.password);
  Reply list = t.as(u.access, "GET", "/api/v1/me/sessions");
  REQUIRE(list.status == 200);
  REQUIRE(list.body.at("items").as_array().size() == 2);
  std::string other_id;
  for (const auto& s : list.body.at("items").as_array())
    if (!s.at("current").as_bool()) other_id = std::string(s.at("id").as_string());
  REQUIRE(!other_id.empty());
  CHECK(t.as(u.access, "DELETE", "/api/v1/me/sessions/" + other_id).status == 204);
  CHECK(t.as(second.access, "GET", "/api/v1/me").status == 401);
  CHECK(t.as(u.access, "GET", "/api/v1/me").status == 200);

  // Another user's session is not found, not revoked.
  auto stranger = t.sign_up_and_log_in("stranger@example.com");
  Reply theirs = t.as(stranger.access, "GET", "/api/v1/me/sessions");
  const std::string their_id(theirs.body.at("items").at(0).at("id").as_string());
  CHECK(t.as(u.access, "DELETE", "/api/v1/me/sessions/" + their_id).status == 404);
  CHECK(t.as(stranger.access, "GET", "/api/v1/me").status == 200);

  CHECK(t.as(u.access, "POST", "/api/v1/auth/logout-all").status == 204);
  CHECK(t.as(u.access, "GET", "/api/v1/me").status == 401);
}

TEST_CASE("cookie mode needs the CSRF token and an allowed origin to change state", "[auth][accounts]") {
  AuthApp t;
  auto u = t.sign_up_and_log_in("cookies@example.com");
  Reply r = t.call("POST", "/api/v1/auth/login",
                   json::serialize(json::object{{"email", u.email}, {"password", u.password}, {"mode", "cookie"}}));
  REQUIRE(r.status == 200);
  CHECK(!r.body.as_object().contains("access_token"));  // never readable by scripts
  const std::string csrf = r.str("csrf_token");
  const std::string access = cookie_value(r, "hz_access");
  const std::string refresh = cookie_value(r, "hz_refresh");
  REQUIRE(!access.empty());
  CHECK(cookie_value(r, "hz_csrf") == csrf);
  bool http_only = false, secure = false;
  for (const auto& c : r.set_cookies)
    if (c.rfind("hz_access=", 0) == 0) {
      http_only = c.find("HttpOnly") != std::string::npos;
      secure = c.find("Secure") != std::string::npos;
    }
  CHECK(http_only);
  CHECK(secure);

  const std::string cookies = "Cookie: hz_access=" + access + "; hz_csrf=" + csrf + "\r\n";
  CHECK(t.call("GET", "/api/v1/me", "", cookies).status == 200);  // reads need no token

  // A state-changing request without the header, with a wrong one, or from
  // another origin is refused.
  Reply no_token = t.call("POST", "/api/v1/workspaces", R"({"name":"x"})", cookies);
  CHECK(no_token.status == 403);
  CHECK(no_token.code() == "csrf_failed");
  CHECK(t.call("POST", "/api/v1/workspaces", R"({"name":"x"})", cookies + "X-CSRF-Token: hzc_wrong\r\n").status ==
        403);
  CHECK(t.call("POST", "/api/v1/workspaces", R"({"name":"x"})",
               cookies + "X-CSRF-Token: " + csrf + "\r\nOrigin: https://evil.example\r\n")
            .status == 403);
  CHECK(t.call("POST", "/api/v1/workspaces", R"({"name":"x"})",
               cookies + "X-CSRF-Token: " + csrf + "\r\nOrigin: https://app.huntaze.test\r\n")
            .status == 201);

  // Refresh by cookie, then logout clears the cookies.
  Reply refreshed = t.call("POST", "/api/v1/auth/refresh", "",
                           "Cookie: hz_refresh=" + refresh + "; hz_csrf=" + csrf + "\r\nX-CSRF-Token: " + csrf + "\r\n");
  REQUIRE(refreshed.status == 200);
  const std::string access2 = cookie_value(refreshed, "hz_access");
  const std::string csrf2 = refreshed.str("csrf_token");
  Reply out = t.call("POST", "/api/v1/auth/logout", "",
                     "Cookie: hz_access=" + access2 + "; hz_csrf=" + csrf2 + "\r\nX-CSRF-Token: " + csrf2 + "\r\n");
  CHECK(out.status == 204);
  CHECK(cookie_value(out, "hz_access").empty());
  CHECK(t.call("GET", "/api/v1/me", "", "Cookie: hz_access=" + access2 + "\r\n").status == 401);
}

TEST_CASE("the audit log is append-only", "[auth][accounts]") {
  AuthApp t;
  t.sign_up_and_log_in("audit@example.com");
  CHECK_THROWS(test::admin_exec(t.url, "UPDATE auth.audit_log SET event = 'x'"));
  CHECK_THROWS(test::admin_exec(t.url, "DELETE FROM auth.audit_log"));
  CHECK_THROWS(test::admin_exec(t.url, "TRUNCATE auth.audit_log"));
  CHECK(t.scalar("SELECT count(*) FROM auth.audit_log") == "3");
}

TEST_CASE("revocation holds while Redis is down and live sessions keep working", "[auth][accounts]") {
  test::RedisProcess redis;
  AuthApp t({}, redis.config());
  auto u = t.sign_up_and_log_in("outage@example.com");
  auto other = t.log_in(u.email, u.password);
  redis.stop();
  // The deny-list cannot be written; the session row is what counts now.
  CHECK(t.as(u.access, "POST", "/api/v1/auth/logout").status == 204);
  Reply refused = t.as(u.access, "GET", "/api/v1/me");
  CHECK(refused.status == 401);
  CHECK(refused.code() == "invalid_token");
  CHECK(t.as(other.access, "GET", "/api/v1/me").status == 200);
  CHECK(metric_sum(t.call("GET", "/metrics").raw, "huntaze_auth_revocation_db_checks_total") >= 2);
}

TEST_CASE("a user keeps at most 100 live sessions, the oldest end first and at once", "[auth][accounts]") {
  AuthApp t;
  auto first = t.sign_up_and_log_in("many@example.com");
  std::string newest;
  for (int i = 0; i < 100; ++i) newest = t.log_in(first.email, first.password).refresh;
  CHECK(t.scalar("SELECT count(*) FROM auth.sessions WHERE revoked_at IS NULL") == "100");
  CHECK(t.scalar("SELECT revoked_reason FROM auth.sessions ORDER BY created_at LIMIT 1") == "session_limit");
  CHECK(t.call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", first.refresh}}))
            .status == 401);
  // Its access token stops at once too (the deny-list), not at its expiry.
  Reply ended = t.as(first.access, "GET", "/api/v1/me");
  CHECK(ended.status == 401);
  CHECK(ended.code() == "invalid_token");
  CHECK(t.call("POST", "/api/v1/auth/refresh", json::serialize(json::object{{"refresh_token", newest}})).status ==
        200);
}
