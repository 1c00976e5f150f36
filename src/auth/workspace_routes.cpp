#include <boost/json.hpp>

#include "auth/guard.hpp"
#include "auth/json_body.hpp"
#include "auth/routes.hpp"
#include "auth/tokens.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/http/json_api.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr size_t kBodyLimit = 16 * 1024;
constexpr size_t kMaxNameBytes = 200;
constexpr int64_t kMaxKeysPerWorkspace = 100;
constexpr int64_t kMaxPendingInvitations = 200;
constexpr int64_t kMaxMembershipsPerUser = 100;

using Pass = asio::awaitable<http::Response>;

// Workspace administration is for users: API keys have no say in it.
Requirement users_only(Role role) { return need(role, std::nullopt); }

Role role_field(JsonBody& body) {
  const std::string text = body.string("role", 16);
  auto role = parse_role(text);
  if (!text.empty() && !role) body.problem("role", "must be owner, manager, chatter or viewer");
  return role.value_or(Role::viewer);
}

// Managers handle chatters and viewers; only owners grant manager or owner.
void check_can_grant(const Access& who, Role role) {
  if (role >= Role::manager && who.role < Role::owner)
    throw ApiError(403, "forbidden", "only owners can grant the " + std::string(to_string(role)) + " role");
}

// Locks the workspace's owner rows so that two concurrent changes cannot
// both remove "the other" owner.
asio::awaitable<int64_t> owners_locked(db::Executor& tx, Uuid workspace_id) {
  auto rows = co_await tx.query(
      "SELECT user_id FROM auth.memberships WHERE workspace_id = $1 AND role = 'owner' FOR UPDATE", workspace_id);
  co_return static_cast<int64_t>(rows.size());
}

AuditEvent workspace_event(std::string name, const Access& who) {
  AuditEvent e;
  e.event = std::move(name);
  e.workspace_id = who.workspace_id;
  if (!who.principal.user_id.is_nil()) e.actor_user_id = who.principal.user_id;
  if (who.principal.is_api_key()) e.api_key_id = who.principal.api_key_id;
  return e;
}

}  // namespace

void register_workspace_routes(http::Router& router, const RouteDeps& deps) {
  const http::RouteOptions small{.body_limit = kBodyLimit};
  const RouteDeps* d = &deps;
  Guard& g = deps.guard;

  // ---- workspaces -----------------------------------------------------------
  router.post(
      "/api/v1/workspaces",
      guarded(g, Requirement{.workspace = false, .scope = std::nullopt},
              [d](http::Request& req, const Access& who) -> Pass {
                JsonBody body(req.body);
                const std::string name = body.string("name", kMaxNameBytes);
                body.check();
                const Uuid id = Uuid::v7();
                const SysTime now = d->clock.now();
                co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
                  auto mine = co_await tx.query("SELECT count(*) FROM auth.memberships WHERE user_id = $1",
                                                who.principal.user_id);
                  if (mine.front().get<int64_t>(0) >= kMaxMembershipsPerUser)
                    throw ApiError::conflict("you belong to 100 workspaces already; leave one first");
                  co_await tx.query("INSERT INTO auth.workspaces (id, name, created_at) VALUES ($1, $2, $3)", id,
                                    name, db::Timestamp(now));
                  co_await tx.query(
                      "INSERT INTO auth.memberships (workspace_id, user_id, role, created_at) "
                      "VALUES ($1, $2, 'owner', $3)",
                      id, who.principal.user_id, db::Timestamp(now));
                  AuditEvent e{.event = "workspace_created", .workspace_id = id, .user_id = who.principal.user_id};
                  co_await record_audit(tx, now, client_info(req), e);
                });
                co_return json_response(201, json::object{{"id", id.str()}, {"name", name}, {"role", "owner"}});
              }),
      small);

  router.get("/api/v1/workspaces/{workspace_id}",
             guarded(g, need(Role::viewer, scope_read), [d](http::Request&, const Access& who) -> Pass {
               auto rows = co_await d->db.query("SELECT name, created_at FROM auth.workspaces WHERE id = $1",
                                                who.workspace_id);
               if (rows.empty()) throw ApiError::not_found("workspace not found");
               co_return json_response(200, json::object{{"id", who.workspace_id.str()},
                                                         {"name", rows.front().get<std::string>(0)},
                                                         {"created_at", format_iso8601(rows.front().get<db::Timestamp>(1))},
                                                         {"role", to_string(who.role)}});
             }));

  router.patch("/api/v1/workspaces/{workspace_id}",
               guarded(g, users_only(Role::owner), [d](http::Request& req, const Access& who) -> Pass {
                 JsonBody body(req.body);
                 const std::string name = body.string("name", kMaxNameBytes);
                 body.check();
                 co_await d->db.query("UPDATE auth.workspaces SET name = $2 WHERE id = $1", who.workspace_id, name);
                 co_return json_response(200, json::object{{"id", who.workspace_id.str()}, {"name", name}});
               }),
               small);

  // ---- members --------------------------------------------------------------
  router.get("/api/v1/workspaces/{workspace_id}/members",
             guarded(g, need(Role::viewer, scope_read), [d](http::Request&, const Access& who) -> Pass {
               auto rows = co_await d->db.query(
                   "SELECT u.id, u.email, u.display_name, m.role, m.created_at FROM auth.memberships m "
                   "JOIN auth.users u ON u.id = m.user_id WHERE m.workspace_id = $1 ORDER BY m.created_at LIMIT 1000",
                   who.workspace_id);
               json::array items;
               for (const auto& r : rows)
                 items.push_back(json::object{{"user_id", r.get<Uuid>(0).str()},
                                              {"email", r.get<std::string>(1)},
                                              {"display_name", r.get<std::string>(2)},
                                              {"role", r.get<std::string>(3)},
                                              {"joined_at", format_iso8601(r.get<db::Timestamp>(4))}});
               co_return json_response(200, json::object{{"items", std::move(items)}});
             }));

  router.patch(
      "/api/v1/workspaces/{workspace_id}/members/{user_id}",
      guarded(g, users_only(Role::owner), [d](http::Request& req, const Access& who) -> Pass {
        const Uuid member = http::path_uuid(req, "user_id", "member");
        JsonBody body(req.body);
        const Role role = role_field(body);
        body.check();
        std::optional<std::string> before;
        co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
          const int64_t owners = co_await owners_locked(tx, who.workspace_id);
          auto rows = co_await tx.query(
              "SELECT role FROM auth.memberships WHERE workspace_id = $1 AND user_id = $2 FOR UPDATE",
              who.workspace_id, member);
          if (rows.empty()) co_return;
          before = rows.front().get<std::string>(0);
          if (*before == "owner" && role != Role::owner && owners <= 1)
            throw ApiError::conflict("a workspace keeps at least one owner");
          co_await tx.query("UPDATE auth.memberships SET role = $3 WHERE workspace_id = $1 AND user_id = $2",
                            who.workspace_id, member, std::string(to_string(role)));
          AuditEvent e = workspace_event("role_changed", who);
          e.user_id = member;
          e.details["from"] = *before;
          e.details["to"] = to_string(role);
          co_await record_audit(tx, d->clock.now(), client_info(req), e);
        });
        if (!before) throw ApiError::not_found("member not found");
        co_return json_response(200, json::object{{"user_id", member.str()}, {"role", to_string(role)}});
      }),
      small);

  // Owners remove anyone; every member may leave.
  router.del("/api/v1/workspaces/{workspace_id}/members/{user_id}",
             guarded(g, Requirement{.workspace = true, .role = Role::viewer, .scope = std::nullopt},
                     [d](http::Request& req, const Access& who) -> Pass {
                       const Uuid member = http::path_uuid(req, "user_id", "member");
                       if (member != who.principal.user_id && who.role < Role::owner)
                         throw ApiError(403, "forbidden", "only owners remove other members");
                       bool removed = false;
                       co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
                         const int64_t owners = co_await owners_locked(tx, who.workspace_id);
                         auto rows = co_await tx.query(
                             "DELETE FROM auth.memberships WHERE workspace_id = $1 AND user_id = $2 RETURNING role",
                             who.workspace_id, member);
                         if (rows.empty()) co_return;
                         if (rows.front().get<std::string>(0) == "owner" && owners <= 1)
                           throw ApiError::conflict("a workspace keeps at least one owner");
                         AuditEvent e = workspace_event("member_removed", who);
                         e.user_id = member;
                         co_await record_audit(tx, d->clock.now(), client_info(req), e);
                         removed = true;
                       });
                       if (!removed) throw ApiError::not_found("member not found");
                       co_return http::Response::no_content();
                     }));

  // ---- invitations ----------------------------------------------------------
  router.post(
      "/api/v1/workspaces/{workspace_id}/invitations",
      guarded(g, users_only(Role::manager), [d](http::Request& req, const Access& who) -> Pass {
        JsonBody body(req.body);
        const std::string email_text = body.string("email", 254);
        const Role role = role_field(body);
        auto email = normalize_email(email_text);
        if (!email_text.empty() && !email) body.problem("email", "is not an email address");
        body.check();
        check_can_grant(who, role);
        const Uuid id = Uuid::v7();
        const std::string token = new_token(kInvitePrefix);
        const SysTime now = d->clock.now();
        const SysTime expires_at = now + d->config.invite_ttl;
        co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
          auto pending = co_await tx.query(
              "SELECT count(*) FROM auth.invitations WHERE workspace_id = $1 AND accepted_at IS NULL "
              "AND revoked_at IS NULL AND expires_at > $2",
              who.workspace_id, db::Timestamp(now));
          if (pending.front().get<int64_t>(0) >= kMaxPendingInvitations)
            throw ApiError::conflict("too many pending invitations; revoke some first");
          co_await tx.query(
              "INSERT INTO auth.invitations (id, workspace_id, email_normalized, role, token_hash, invited_by, "
              "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
              id, who.workspace_id, *email, std::string(to_string(role)), token_hash(token),
              std::optional<Uuid>(who.principal.user_id), db::Timestamp(now), db::Timestamp(expires_at));
          auto ws = co_await tx.query("SELECT name FROM auth.workspaces WHERE id = $1", who.workspace_id);
          const std::string name = ws.empty() ? "a workspace" : ws.front().get<std::string>(0);
          std::string text = "You are invited to join \"" + name + "\" on Huntaze as " +
                             std::string(to_string(role)) + ".\n\nTo accept, sign in (or sign up with this address) "
                             "and open:\n\n" +
                             d->config.public_url + "/invitations/accept?token=" + token +
                             "\n\nThe invitation expires in " +
                             std::to_string(std::chrono::duration_cast<std::chrono::hours>(d->config.invite_ttl).count() / 24) +
                             " days.\n";
          auto job = email_job(*email, "Invitation to " + name + " on Huntaze", std::move(text));
          co_await d->queue.enqueue(tx, std::move(job));
          AuditEvent e = workspace_event("invitation_created", who);
          e.details["invitation_id"] = id.str();
          e.details["role"] = to_string(role);
          co_await record_audit(tx, now, client_info(req), e);
        });
        co_return json_response(201, json::object{{"id", id.str()},
                                                  {"email", *email},
                                                  {"role", to_string(role)},
                                                  {"expires_at", format_iso8601(expires_at)}});
      }),
      small);

  router.get("/api/v1/workspaces/{workspace_id}/invitations",
             guarded(g, users_only(Role::manager), [d](http::Request&, const Access& who) -> Pass {
               auto rows = co_await d->db.query(
                   "SELECT id, email_normalized, role, created_at, expires_at, accepted_at, revoked_at "
                   "FROM auth.invitations WHERE workspace_id = $1 ORDER BY created_at DESC LIMIT 500",
                   who.workspace_id);
               json::array items;
               for (const auto& r : rows)
                 items.push_back(json::object{{"id", r.get<Uuid>(0).str()},
                                              {"email", r.get<std::string>(1)},
                                              {"role", r.get<std::string>(2)},
                                              {"created_at", format_iso8601(r.get<db::Timestamp>(3))},
                                              {"expires_at", format_iso8601(r.get<db::Timestamp>(4))},
                                              {"accepted_at", http::time_or_null(r.get<std::optional<db::Timestamp>>(5))},
                                              {"revoked_at", http::time_or_null(r.get<std::optional<db::Timestamp>>(6))}});
               co_return json_response(200, json::object{{"items", std::move(items)}});
             }));

  router.del("/api/v1/workspaces/{workspace_id}/invitations/{invitation_id}",
             guarded(g, users_only(Role::manager), [d](http::Request& req, const Access& who) -> Pass {
               const Uuid id = http::path_uuid(req, "invitation_id", "invitation");
               auto res = co_await d->db.query(
                   "UPDATE auth.invitations SET revoked_at = $3 WHERE id = $1 AND workspace_id = $2 "
                   "AND accepted_at IS NULL AND revoked_at IS NULL",
                   id, who.workspace_id, db::Timestamp(d->clock.now()));
               if (res.affected() != 1) throw ApiError::not_found("invitation not found");
               co_return http::Response::no_content();
             }));

  // The invitee accepts as themselves: the invitation's address must be
  // their verified account address.
  router.post(
      "/api/v1/invitations/accept",
      guarded(g, Requirement{.workspace = false, .scope = std::nullopt},
              [d](http::Request& req, const Access& who) -> Pass {
                JsonBody body(req.body);
                const std::string token = body.string("token", 256);
                body.check();
                if (!well_formed_token(token, kInvitePrefix))
                  throw ApiError(400, "invalid_token", "the invitation is invalid, expired or already used");
                const SysTime now = d->clock.now();
                std::optional<std::pair<Uuid, std::string>> joined;
                std::string problem;
                co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
                  auto inv = co_await tx.query(
                      "SELECT i.id, i.workspace_id, i.role, i.email_normalized = u.email_normalized, "
                      "u.email_verified_at IS NOT NULL FROM auth.invitations i, auth.users u WHERE i.token_hash = $1 "
                      "AND u.id = $2 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $3 "
                      "FOR UPDATE OF i",
                      token_hash(token), who.principal.user_id, db::Timestamp(now));
                  if (inv.empty()) co_return;
                  const auto row = inv.front();
                  if (!row.get<bool>(3) || !row.get<bool>(4)) {
                    problem = "the invitation was sent to another address, or yours is not verified yet";
                    co_return;
                  }
                  const Uuid workspace_id = row.get<Uuid>(1);
                  const std::string role = row.get<std::string>(2);
                  auto mine = co_await tx.query("SELECT count(*) FROM auth.memberships WHERE user_id = $1",
                                                who.principal.user_id);
                  if (mine.front().get<int64_t>(0) >= kMaxMembershipsPerUser)
                    throw ApiError::conflict("you belong to 100 workspaces already; leave one first");
                  co_await tx.query("UPDATE auth.invitations SET accepted_at = $2, accepted_by = $3 WHERE id = $1",
                                    row.get<Uuid>(0), db::Timestamp(now), who.principal.user_id);
                  // Already a member: keeps the current role.
                  co_await tx.query(
                      "INSERT INTO auth.memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) "
                      "ON CONFLICT (workspace_id, user_id) DO NOTHING",
                      workspace_id, who.principal.user_id, role, db::Timestamp(now));
                  AuditEvent e{.event = "member_added", .workspace_id = workspace_id, .user_id = who.principal.user_id};
                  e.details["role"] = role;
                  e.details["invitation_id"] = row.get<Uuid>(0).str();
                  co_await record_audit(tx, now, client_info(req), e);
                  joined.emplace(workspace_id, role);
                });
                if (!problem.empty()) throw ApiError(403, "invitation_mismatch", problem);
                if (!joined) throw ApiError(400, "invalid_token", "the invitation is invalid, expired or already used");
                co_return json_response(200, json::object{{"workspace_id", joined->first.str()}, {"role", joined->second}});
              }),
      small);

  // ---- API keys -------------------------------------------------------------
  router.post(
      "/api/v1/workspaces/{workspace_id}/api-keys",
      guarded(g, users_only(Role::owner), [d](http::Request& req, const Access& who) -> Pass {
        JsonBody body(req.body);
        const std::string name = body.string("name", kMaxNameBytes);
        const auto scope_names = body.strings("scopes", 3, 16);
        std::vector<std::string> scopes;
        for (const auto& s : scope_names) {
          if (!parse_scope(s))
            body.problem("scopes", "'" + s + "' is not a scope (read, ingest, admin)");
          else if (std::find(scopes.begin(), scopes.end(), s) == scopes.end())
            scopes.push_back(s);
        }
        if (scopes.empty()) body.problem("scopes", "name at least one of read, ingest, admin");
        std::optional<db::Timestamp> expires_at;
        if (auto text = body.optional_string("expires_at", 64)) {
          auto t = parse_iso8601(*text);
          if (!t || *t <= d->clock.now()) body.problem("expires_at", "must be an ISO 8601 time in the future");
          else expires_at = db::Timestamp(*t);
        }
        body.check();
        const Uuid id = Uuid::v7();
        const std::string key = new_token(kApiKeyPrefix);
        const std::string prefix = key.substr(0, kApiKeyPrefix.size() + 8);
        const SysTime now = d->clock.now();
        co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
          auto live = co_await tx.query(
              "SELECT count(*) FROM auth.api_keys WHERE workspace_id = $1 AND revoked_at IS NULL", who.workspace_id);
          if (live.front().get<int64_t>(0) >= kMaxKeysPerWorkspace)
            throw ApiError::conflict("a workspace has at most 100 live API keys; revoke some first");
          co_await tx.query(
              "INSERT INTO auth.api_keys (id, workspace_id, name, prefix, key_hash, scopes, created_by, created_at, "
              "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
              id, who.workspace_id, name, prefix, token_hash(key), scopes, std::optional<Uuid>(who.principal.user_id),
              db::Timestamp(now), expires_at);
          AuditEvent e = workspace_event("api_key_created", who);
          e.api_key_id = id;
          e.details["name"] = name;
          json::array sc;
          for (const auto& s : scopes) sc.push_back(json::string(s));
          e.details["scopes"] = std::move(sc);
          co_await record_audit(tx, now, client_info(req), e);
        });
        json::array sc;
        for (const auto& s : scopes) sc.push_back(json::string(s));
        auto res = json_response(201, json::object{{"id", id.str()},
                                                   {"name", name},
                                                   {"key", key},
                                                   {"prefix", prefix},
                                                   {"scopes", std::move(sc)},
                                                   {"created_at", format_iso8601(now)},
                                                   {"expires_at", http::time_or_null(expires_at)}});
        res.headers.set("Cache-Control", "no-store");
        co_return res;
      }),
      small);

  router.get("/api/v1/workspaces/{workspace_id}/api-keys",
             guarded(g, users_only(Role::manager), [d](http::Request&, const Access& who) -> Pass {
               auto rows = co_await d->db.query(
                   "SELECT id, name, prefix, scopes, created_at, expires_at, last_used_at, revoked_at "
                   "FROM auth.api_keys WHERE workspace_id = $1 ORDER BY created_at DESC LIMIT 500",
                   who.workspace_id);
               json::array items;
               for (const auto& r : rows) {
                 json::array sc;
                 for (const auto& s : r.get<std::vector<std::string>>(3)) sc.push_back(json::string(s));
                 items.push_back(json::object{{"id", r.get<Uuid>(0).str()},
                                              {"name", r.get<std::string>(1)},
                                              {"prefix", r.get<std::string>(2)},
                                              {"scopes", std::move(sc)},
                                              {"created_at", format_iso8601(r.get<db::Timestamp>(4))},
                                              {"expires_at", http::time_or_null(r.get<std::optional<db::Timestamp>>(5))},
                                              {"last_used_at", http::time_or_null(r.get<std::optional<db::Timestamp>>(6))},
                                              {"revoked_at", http::time_or_null(r.get<std::optional<db::Timestamp>>(7))}});
               }
               co_return json_response(200, json::object{{"items", std::move(items)}});
             }));

  router.del("/api/v1/workspaces/{workspace_id}/api-keys/{key_id}",
             guarded(g, users_only(Role::owner), [d](http::Request& req, const Access& who) -> Pass {
               const Uuid id = http::path_uuid(req, "key_id", "API key");
               bool revoked = false;
               co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
                 auto res = co_await tx.query(
                     "UPDATE auth.api_keys SET revoked_at = $3 WHERE id = $1 AND workspace_id = $2 "
                     "AND revoked_at IS NULL",
                     id, who.workspace_id, db::Timestamp(d->clock.now()));
                 if (res.affected() != 1) co_return;
                 AuditEvent e = workspace_event("api_key_revoked", who);
                 e.api_key_id = id;
                 co_await record_audit(tx, d->clock.now(), client_info(req), e);
                 revoked = true;
               });
               if (!revoked) throw ApiError::not_found("API key not found");
               co_return http::Response::no_content();
             }));

  // ---- audit ----------------------------------------------------------------
  router.get("/api/v1/workspaces/{workspace_id}/audit",
             guarded(g, users_only(Role::owner), [d](http::Request& req, const Access& who) -> Pass {
               const PageParams params = page_params(req);
               auto page = co_await list_audit(d->db, who.workspace_id, std::nullopt, params.cursor, params.limit);
               co_return json_response(200, audit_page_json(std::move(page)));
             }));
}

}  // namespace huntaze::auth
