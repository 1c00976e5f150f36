// Who is calling and what they may do: the seam every module's routes use.
//
//   router.get("/api/v1/fans", auth::guarded(guard, {.role = auth::Role::chatter},
//       [&](http::Request& req, const auth::Access& who) -> asio::awaitable<http::Response> {
//         co_await db.query("SELECT ... WHERE creator_id = $1", who.workspace_id);
//       }));
//
// A caller is a user (access token as `Authorization: Bearer` or in the
// session cookie) or an API key of one workspace. For users the workspace is
// the route's `{workspace_id}` parameter, else the `X-Huntaze-Workspace`
// header, else their only workspace. Not being a member of it is a 404 (the
// workspace's existence is not revealed); a member whose role is too low gets
// 403. API keys act in their own workspace with their scopes; `admin` implies
// the others.
//
// Thread-safety: Guard implementations are safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "huntaze/core/uuid.hpp"
#include "huntaze/http/message.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::auth {

// Ordered: each role can do what the roles below it can.
enum class Role : uint8_t { viewer = 0, chatter = 1, manager = 2, owner = 3 };
std::string_view to_string(Role role) noexcept;
std::optional<Role> parse_role(std::string_view text) noexcept;

// API key scopes, a bit set.
enum Scope : uint8_t { scope_read = 1, scope_ingest = 2, scope_admin = 4 };
using Scopes = uint8_t;
std::optional<Scope> parse_scope(std::string_view text) noexcept;
std::string_view to_string(Scope scope) noexcept;

struct Principal {
  Uuid user_id;     // nil for API keys
  Uuid session_id;  // the session of a user's access token
  Uuid api_key_id;  // nil for users
  Scopes scopes = 0;  // API keys only
  bool via_cookie = false;
  bool is_api_key() const noexcept { return !api_key_id.is_nil(); }
};

struct Access {
  Principal principal;
  Uuid workspace_id;  // nil when the requirement needs no workspace
  Role role = Role::viewer;  // the user's role; API keys: owner with admin scope, else viewer
  // The caller's rate limit after this request, for the RateLimit-* headers
  // guarded() adds to the response (limit 0: none applied).
  int64_t rate_limit = 0;
  int64_t rate_remaining = 0;
  int64_t rate_reset_seconds = 0;
};

struct Requirement {
  // Needs a workspace and at least this role in it.
  bool workspace = true;
  Role role = Role::viewer;
  // What an API key needs; nullopt: users only (account and session routes).
  std::optional<Scope> scope = scope_read;
  // Operators only: an owner of a platform-admin workspace, or an `admin`
  // API key of one (the job and cron admin API). Implies no workspace.
  bool platform_admin = false;
};

// The usual requirement of a workspace route: `role` and up in the
// workspace; an API key needs `scope`.
inline Requirement need(Role role, std::optional<Scope> scope = scope_read) {
  return Requirement{.workspace = true, .role = role, .scope = scope};
}

class Guard {
 public:
  virtual ~Guard() = default;
  // Authenticates the request and checks the requirement. Throws ApiError:
  // 401 unauthenticated / invalid_token, 403 forbidden / csrf_failed, 404
  // (not a member), 429 rate_limited.
  virtual boost::asio::awaitable<Access> require(http::Request& req, const Requirement& need) = 0;
};

using GuardedHandler = std::function<boost::asio::awaitable<http::Response>(http::Request&, const Access&)>;

// A route handler that runs `handler` only for callers that meet `need`,
// and adds the caller's RateLimit-* headers to its answer.
http::Handler guarded(Guard& guard, Requirement need, GuardedHandler handler);

// The same for handlers written without auth (another module's plain
// routes): the resolved workspace is passed on as X-Huntaze-Workspace.
http::Handler guarded(Guard& guard, Requirement need, http::Handler handler);

}  // namespace huntaze::auth
