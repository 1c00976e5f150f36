// Workspaces, roles, invitations, API keys and the operator routes through
// HTTP: the tenant-isolation and role matrices over every workspace route.
#include "auth_fixture.hpp"

using namespace huntaze;
using namespace huntaze::test::autht;

namespace {

struct RouteCase {
  std::string method;
  std::string path;  // {ws} is replaced by the workspace id
  std::string body;
  auth::Role needs;  // the least role that passes
};

// Every workspace-scoped route of the auth module, with a body that would be
// valid, and the role it needs.
std::vector<RouteCase> workspace_routes(const std::string& member_id) {
  return {
      {"GET", "/api/v1/workspaces/{ws}", "", auth::Role::viewer},
      {"GET", "/api/v1/workspaces/{ws}/members", "", auth::Role::viewer},
      {"GET", "/api/v1/workspaces/{ws}/invitations", "", auth::Role::manager},
      {"POST", "/api/v1/workspaces/{ws}/invitations", R"({"email":"invitee@example.com","role":"viewer"})",
       auth::Role::manager},
      {"GET", "/api/v1/workspaces/{ws}/api-keys", "", auth::Role::manager},
      {"POST", "/api/v1/workspaces/{ws}/api-keys", R"({"name":"k","scopes":["read"]})", auth::Role::owner},
      {"GET", "/api/v1/workspaces/{ws}/audit", "", auth::Role::owner},
      {"PATCH", "/api/v1/workspaces/{ws}", R"({"name":"renamed"})", auth::Role::owner},
      {"PATCH", "/api/v1/workspaces/{ws}/members/" + member_id, R"({"role":"viewer"})", auth::Role::owner},
  };
}

std::string with_ws(std::string path, const std::string& ws) {
  path.replace(path.find("{ws}"), 4, ws);
  return path;
}

}  // namespace

TEST_CASE("a member of workspace A gets 404 on every route of workspace B", "[auth][tenancy]") {
  AuthApp t;
  auto a = t.sign_up_and_log_in("a@example.com");
  auto b = t.sign_up_and_log_in("b@example.com");
  for (const auto& route : workspace_routes(b.id)) {
    INFO(route.method << " " << route.path);
    Reply r = t.as(a.access, route.method, with_ws(route.path, b.workspace), route.body);
    CHECK(r.status == 404);
  }
  // The header names the workspace for routes without it in the path.
  CHECK(t.as(a.access, "GET", "/api/v1/ai/models", "", "X-Huntaze-Workspace: " + b.workspace + "\r\n").status == 404);
  CHECK(t.as(a.access, "GET", "/api/v1/ai/models", "", "X-Huntaze-Workspace: " + a.workspace + "\r\n").status == 200);
  // An unknown workspace looks the same as somebody else's.
  CHECK(t.as(a.access, "GET", "/api/v1/workspaces/0190a000-0000-7000-8000-000000000000").status == 404);
  CHECK(t.as(a.access, "GET", "/api/v1/workspaces/not-a-uuid").status == 404);

  // An API key of A cannot reach B either.
  Reply key = t.as(a.access, "POST", "/api/v1/workspaces/" + a.workspace + "/api-keys",
                   R"({"name":"ext","scopes":["admin"]})");
  REQUIRE(key.status == 201);
  CHECK(t.as(key.str("key"), "GET", "/api/v1/workspaces/" + b.workspace).status == 404);
  CHECK(t.as(key.str("key"), "GET", "/api/v1/workspaces/" + a.workspace).status == 200);
  // Nothing of B changed.
  CHECK(t.scalar("SELECT count(*) FROM auth.invitations") == "0");
  CHECK(t.scalar("SELECT name FROM auth.workspaces WHERE id = '" + b.workspace + "'") == "Tester's workspace");
}

TEST_CASE("each workspace route admits exactly the roles it declares", "[auth][roles]") {
  AuthApp t;
  auto owner = t.sign_up_and_log_in("owner@example.com");
  auto target = t.sign_up_and_log_in("target@example.com");
  t.join(owner, target, "chatter");
  std::map<auth::Role, AuthApp::User> members;
  for (auto role : {auth::Role::viewer, auth::Role::chatter, auth::Role::manager}) {
    auto u = t.sign_up_and_log_in(std::string(auth::to_string(role)) + "@example.com");
    t.join(owner, u, std::string(auth::to_string(role)));
    members.emplace(role, u);
  }
  members.emplace(auth::Role::owner, owner);
  for (const auto& route : workspace_routes(target.id)) {
    for (const auto& [role, user] : members) {
      INFO(route.method << " " << route.path << " as " << auth::to_string(role));
      Reply r = t.as(user.access, route.method, with_ws(route.path, owner.workspace), route.body);
      if (role >= route.needs)
        CHECK(r.status < 300);
      else
        CHECK(r.status == 403);
    }
  }
  // Managers cannot hand out manager or owner; nobody removes the last owner.
  CHECK(t.as(members.at(auth::Role::manager).access, "POST", "/api/v1/workspaces/" + owner.workspace + "/invitations",
             R"({"email":"boss@example.com","role":"owner"})")
            .status == 403);
  Reply last = t.as(owner.access, "PATCH", "/api/v1/workspaces/" + owner.workspace + "/members/" + owner.id,
                    R"({"role":"viewer"})");
  CHECK(last.status == 409);
  CHECK(t.as(owner.access, "DELETE", "/api/v1/workspaces/" + owner.workspace + "/members/" + owner.id).status == 409);
  // A role change takes effect on the next request.
  CHECK(t.as(owner.access, "PATCH", "/api/v1/workspaces/" + owner.workspace + "/members/" +
                                        members.at(auth::Role::manager).id,
             R"({"role":"viewer"})")
            .status == 200);
  CHECK(t.as(members.at(auth::Role::manager).access, "GET", "/api/v1/workspaces/" + owner.workspace + "/invitations")
            .status == 403);
  CHECK(t.scalar("SELECT count(*) FROM auth.audit_log WHERE event = 'role_changed'") != "0");
}

TEST_CASE("API keys are shown once and stored hashed with scopes and expiry", "[auth][api_keys]") {
  AuthApp t;
  auto owner = t.sign_up_and_log_in("keys@example.com");
  const std::string base = "/api/v1/workspaces/" + owner.workspace;
  Reply read = t.as(owner.access, "POST", base + "/api-keys", R"({"name":"reader","scopes":["read"]})");
  REQUIRE(read.status == 201);
  const std::string key = read.str("key");
  CHECK(key.rfind(read.str("prefix"), 0) == 0);
  CHECK(t.scalar("SELECT count(*) FROM auth.api_keys WHERE key_hash = sha256(convert_to('" + key + "', 'UTF8'))") ==
        "1");
  CHECK(t.scalar("SELECT count(*) FROM auth.api_keys WHERE prefix = '" + read.str("prefix") + "'") == "1");
  Reply list = t.as(owner.access, "GET", base + "/api-keys");
  CHECK(list.raw.find(key) == std::string::npos);  // never shown again

  CHECK(t.as(key, "GET", base).status == 200);                  // read scope reads
  CHECK(t.as(key, "GET", base + "/members").status == 200);
  Reply no_scope = t.as(key, "GET", "/api/v1/me");               // account routes are for people
  CHECK(no_scope.status == 403);
  CHECK(t.as(key, "POST", base + "/api-keys", R"({"name":"x","scopes":["admin"]})").status == 403);
  CHECK(t.scalar("SELECT last_used_at IS NOT NULL FROM auth.api_keys WHERE name = 'reader'") == "t");

  Reply bad = t.as(owner.access, "POST", base + "/api-keys", R"({"name":"x","scopes":["everything"]})");
  CHECK(bad.status == 400);
  Reply expired = t.as(owner.access, "POST", base + "/api-keys",
                       R"({"name":"old","scopes":["read"],"expires_at":"2001-01-01T00:00:00Z"})");
  CHECK(expired.status == 400);

  const std::string id = read.str("id");
  CHECK(t.as(owner.access, "DELETE", base + "/api-keys/" + id).status == 204);
  Reply revoked = t.as(key, "GET", base);
  CHECK(revoked.status == 401);
  CHECK(t.as(owner.access, "DELETE", base + "/api-keys/" + id).status == 404);
  Reply audit = t.as(owner.access, "GET", base + "/audit?limit=2");
  REQUIRE(audit.status == 200);
  CHECK(audit.body.at("items").at(0).at("event") == "api_key_revoked");
  CHECK(audit.body.at("items").at(1).at("event") == "api_key_created");
  CHECK(!audit.body.at("next_cursor").is_null());
  Reply next = t.as(owner.access, "GET", base + "/audit?limit=2&cursor=" +
                                             std::string(audit.body.at("next_cursor").as_string()));
  CHECK(next.status == 200);
  CHECK(next.body.at("items").at(0).at("event") == "signed_up");
}

TEST_CASE("forged tokens are refused - none alg and HS/RS confusion and wrong key id and tampering", "[auth][tokens]") {
  AuthApp t;
  auto u = t.sign_up_and_log_in("tokens@example.com");
  const auto dot = u.access.find('.');
  const std::string payload = u.access.substr(dot + 1, u.access.rfind('.') - dot - 1);
  const std::vector<std::string> forged{
      "eyJhbGciOiJub25lIn0." + payload + ".",                                  // {"alg":"none"}
      "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0." + payload + "." + u.access.substr(u.access.rfind('.') + 1),  // RS256
      "eyJhbGciOiJIUzI1NiIsImtpZCI6Im90aGVyIn0." + payload + "." + u.access.substr(u.access.rfind('.') + 1),  // kid other
      u.access.substr(0, u.access.size() - 3),                                 // truncated signature
      u.access + "x",
      "garbage",
  };
  for (const auto& token : forged) {
    INFO(token);
    Reply r = t.as(token, "GET", "/api/v1/me");
    CHECK(r.status == 401);
    CHECK(r.code() == "invalid_token");
  }
  CHECK(t.call("GET", "/api/v1/me").code() == "unauthenticated");
  CHECK(t.call("GET", "/api/v1/me", "", "Authorization: Basic dXNlcjpwdw==\r\n").status == 401);
}

TEST_CASE("the job admin API is for platform admins only", "[auth][admin]") {
  AuthApp t;
  auto op = t.sign_up_and_log_in("op@example.com");
  auto user = t.sign_up_and_log_in("user@example.com");
  CHECK(t.call("GET", "/api/v1/admin/jobs").status == 401);
  CHECK(t.as(user.access, "GET", "/api/v1/admin/jobs").status == 403);
  CHECK(t.as(op.access, "GET", "/api/v1/admin/jobs").status == 403);
  test::admin_exec(t.url, "UPDATE auth.workspaces SET platform_admin = true WHERE id = '" + op.workspace + "'");
  CHECK(t.as(op.access, "GET", "/api/v1/admin/jobs").status == 200);
  CHECK(t.as(op.access, "GET", "/api/v1/admin/schedules").status == 200);
  // An admin key of that workspace works; a read key does not.
  Reply admin_key = t.as(op.access, "POST", "/api/v1/workspaces/" + op.workspace + "/api-keys",
                         R"({"name":"ops","scopes":["admin"]})");
  Reply read_key = t.as(op.access, "POST", "/api/v1/workspaces/" + op.workspace + "/api-keys",
                        R"({"name":"ro","scopes":["read"]})");
  CHECK(t.as(admin_key.str("key"), "GET", "/api/v1/admin/jobs").status == 200);
  CHECK(t.as(read_key.str("key"), "GET", "/api/v1/admin/jobs").status == 403);
}

TEST_CASE("a member of several workspaces names one with X-Huntaze-Workspace", "[auth][tenancy]") {
  AuthApp t;
  auto u = t.sign_up_and_log_in("two@example.com");
  CHECK(t.as(u.access, "GET", "/api/v1/ai/models").status == 200);  // the only workspace is implied
  Reply second = t.as(u.access, "POST", "/api/v1/workspaces", R"({"name":"Agency"})");
  REQUIRE(second.status == 201);
  Reply ambiguous = t.as(u.access, "GET", "/api/v1/ai/models");
  CHECK(ambiguous.status == 400);
  CHECK(ambiguous.code() == "workspace_required");
  CHECK(t.as(u.access, "GET", "/api/v1/ai/models", "", "X-Huntaze-Workspace: " + second.str("id") + "\r\n").status ==
        200);
  CHECK(t.as(u.access, "GET", "/api/v1/ai/models", "", "X-Huntaze-Workspace: nope\r\n").code() ==
        "invalid_workspace");
  Reply me = t.as(u.access, "GET", "/api/v1/me");
  CHECK(me.body.at("workspaces").as_array().size() == 2);
}

TEST_CASE("invitations reach only the invited verified address and can be revoked", "[auth][tenancy]") {
  AuthApp t;
  auto owner = t.sign_up_and_log_in("inviter@example.com");
  auto invited = t.sign_up_and_log_in("invited@example.com");
  auto other = t.sign_up_and_log_in("other@example.com");
  const std::string base = "/api/v1/workspaces/" + owner.workspace + "/invitations";
  REQUIRE(t.as(owner.access, "POST", base, R"({"email":"invited@example.com","role":"chatter"})").status == 201);
  const std::string token = t.mailed_token(invited.email, "Invitation");
  Reply wrong = t.as(other.access, "POST", "/api/v1/invitations/accept", json::serialize(json::object{{"token", token}}));
  CHECK(wrong.status == 403);
  CHECK(wrong.code() == "invitation_mismatch");
  CHECK(t.as(other.access, "GET", "/api/v1/workspaces/" + owner.workspace).status == 404);

  // Revoked before it was accepted: the link is dead.
  Reply list = t.as(owner.access, "GET", base);
  const std::string id(list.body.at("items").at(0).at("id").as_string());
  CHECK(t.as(owner.access, "DELETE", base + "/" + id).status == 204);
  Reply late = t.as(invited.access, "POST", "/api/v1/invitations/accept", json::serialize(json::object{{"token", token}}));
  CHECK(late.status == 400);
  CHECK(late.code() == "invalid_token");
  CHECK(t.as(invited.access, "GET", "/api/v1/workspaces/" + owner.workspace).status == 404);
  CHECK(t.as(owner.access, "POST", base, R"({"email":"not an address","role":"viewer"})").status == 400);
}

TEST_CASE("an API key past its expiry is refused", "[auth][api_keys]") {
  AuthApp t;
  auto owner = t.sign_up_and_log_in("expiry@example.com");
  Reply key = t.as(owner.access, "POST", "/api/v1/workspaces/" + owner.workspace + "/api-keys",
                   R"({"name":"soon","scopes":["read"],"expires_at":"2099-01-01T00:00:00Z"})");
  REQUIRE(key.status == 201);
  CHECK(t.as(key.str("key"), "GET", "/api/v1/workspaces/" + owner.workspace).status == 200);
  test::admin_exec(t.url, "UPDATE auth.api_keys SET expires_at = now() - interval '1 second'");
  Reply expired = t.as(key.str("key"), "GET", "/api/v1/workspaces/" + owner.workspace);
  CHECK(expired.status == 401);
  CHECK(expired.code() == "invalid_token");
}
