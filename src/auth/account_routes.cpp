#include <boost/json.hpp>
#include <charconv>

#include "auth/cookies.hpp"
#include "auth/guard.hpp"
#include "auth/json_body.hpp"
#include "auth/rate_limit_http.hpp"
#include "auth/routes.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr size_t kAuthBodyLimit = 16 * 1024;
constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxTokenField = 256;
constexpr size_t kMaxPasswordBytes = kMaxPasswordLength * 4;

const Requirement kSignedIn{.workspace = false, .scope = std::nullopt};

// The session answer in the mode the client asked for: tokens in the body
// (API clients), or cookies plus the CSRF token (browsers).
http::Response session_response(int status, const TokenPair& tokens, bool cookie_mode, const AuthConfig& config,
                                SysTime now) {
  const auto expires_in = std::chrono::duration_cast<std::chrono::seconds>(tokens.access_expires_at - now).count();
  json::object body{{"user_id", tokens.user_id.str()},
                    {"session_id", tokens.session_id.str()},
                    {"expires_in", expires_in},
                    {"refresh_expires_at", format_iso8601(tokens.refresh_expires_at)}};
  http::Response cookies;  // collects the Set-Cookie headers
  if (cookie_mode) {
    body["csrf_token"] = set_session_cookies(cookies, tokens, config.cookies, now);
  } else {
    body["token_type"] = "Bearer";
    body["access_token"] = tokens.access_token;
    body["refresh_token"] = tokens.refresh_token;
  }
  http::Response res = json_response(status, body);
  for (const auto& [name, value] : cookies.headers.items()) res.headers.add(name, value);
  res.headers.set("Cache-Control", "no-store");
  return res;
}

bool wants_cookies(JsonBody& body) {
  auto mode = body.optional_string("mode", 16);
  if (mode && *mode != "cookie" && *mode != "token") body.problem("mode", "must be 'token' or 'cookie'");
  return mode && *mode == "cookie";
}

http::Response accepted(std::string_view message) {
  return json_response(202, json::object{{"status", "accepted"}, {"message", message}});
}

}  // namespace

http::Response json_response(int status, const json::object& body) {
  return http::Response::json_text(status, json::serialize(body));
}

PageParams page_params(const http::Request& req) {
  PageParams p;
  if (auto c = req.query_param("cursor")) {
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(c->data(), c->data() + c->size(), v);
    if (ec != std::errc() || end != c->data() + c->size() || v <= 0)
      throw ApiError(400, "invalid_cursor", "cursor must be a next_cursor from an earlier page");
    p.cursor = v;
  }
  if (auto l = req.query_param("limit")) {
    int v = 0;
    const auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
    if (ec != std::errc() || end != l->data() + l->size() || v < 1 || v > 200)
      throw ApiError::bad_request("limit must be a number from 1 to 200");
    p.limit = v;
  }
  return p;
}

json::object audit_page_json(AuditPage page) {
  json::object out{{"items", std::move(page.items)}};
  out["next_cursor"] = page.next_cursor ? json::value(std::to_string(*page.next_cursor)) : json::value(nullptr);
  return out;
}

asio::awaitable<void> enforce(RateLimiter& limiter, std::vector<RateKey> keys) {
  const RateDecision decision = co_await limiter.check(std::move(keys));
  if (!decision.allowed) throw RateLimitedError(decision);
}

void register_account_routes(http::Router& router, const RouteDeps& deps) {
  const http::RouteOptions small{.body_limit = kAuthBodyLimit};
  const RouteDeps* d = &deps;

  router.post(
      "/api/v1/auth/signup",
      [d](http::Request& req) -> asio::awaitable<http::Response> {
        JsonBody body(req.body);
        SignUp s;
        s.email = body.string("email", kMaxEmailBytes);
        s.password = body.string("password", kMaxPasswordBytes, true, true);
        s.display_name = body.optional_string("display_name", kMaxNameBytes).value_or("");
        s.workspace_name = body.optional_string("workspace_name", kMaxNameBytes).value_or("");
        body.check();
        std::vector<RateKey> keys{{&d->limits.signup_ip, ip_subject(req.remote_address)}};
        co_await enforce(d->limiter, std::move(keys));
        co_await d->accounts.sign_up(std::move(s), client_info(req));
        co_return accepted("check your inbox for a link to confirm the address");
      },
      small);

  router.post(
      "/api/v1/auth/verify-email",
      [d](http::Request& req) -> asio::awaitable<http::Response> {
        JsonBody body(req.body);
        const std::string token = body.string("token", kMaxTokenField);
        body.check();
        std::vector<RateKey> keys{{&d->limits.reset_ip, ip_subject(req.remote_address)}};
        co_await enforce(d->limiter, std::move(keys));
        co_await d->accounts.verify_email(token, client_info(req));
        co_return json_response(200, json::object{{"status", "verified"}});
      },
      small);

  router.post(
      "/api/v1/auth/login",
      [d](http::Request& req) -> asio::awaitable<http::Response> {
        JsonBody body(req.body);
        const std::string email = body.string("email", kMaxEmailBytes);
        const std::string password = body.string("password", kMaxPasswordBytes, true, true);
        const bool cookie_mode = wants_cookies(body);
        body.check();
        // Per account and per address; an unparseable email still counts
        // against the address.
        const std::string account = normalize_email(email).value_or(email);
        std::vector<RateKey> keys{{&d->limits.login_account, account},
                                  {&d->limits.login_ip, ip_subject(req.remote_address)}};
        co_await enforce(d->limiter, std::move(keys));
        const TokenPair tokens = co_await d->accounts.log_in(email, password, client_info(req));
        co_return session_response(200, tokens, cookie_mode, d->config, d->clock.now());
      },
      small);

  router.post(
      "/api/v1/auth/refresh",
      [d](http::Request& req) -> asio::awaitable<http::Response> {
        JsonBody body(req.body);
        std::string token = body.optional_string("refresh_token", kMaxTokenField).value_or("");
        bool cookie_mode = false;
        if (token.empty()) {
          if (auto cookie = find_cookie(req, kRefreshCookie)) {
            check_csrf(req, d->config.cookies);
            token = std::string(*cookie);
            cookie_mode = true;
          }
        }
        body.check();
        if (token.empty()) throw ApiError(401, "unauthenticated", "send refresh_token, or the session cookie");
        std::vector<RateKey> keys{{&d->limits.ip, ip_subject(req.remote_address)}};
        co_await enforce(d->limiter, std::move(keys));
        const TokenPair tokens = co_await d->sessions.refresh(token, client_info(req));
        co_return session_response(200, tokens, cookie_mode, d->config, d->clock.now());
      },
      small);

  router.post(
      "/api/v1/auth/logout",
      guarded(deps.guard, kSignedIn,
              [d](http::Request& req, const Access& who) -> asio::awaitable<http::Response> {
                co_await d->sessions.revoke(who.principal.user_id, who.principal.session_id, "logout",
                                            client_info(req));
                auto res = http::Response::no_content();
                if (who.principal.via_cookie) clear_session_cookies(res, d->config.cookies);
                co_return res;
              }),
      small);

  router.post(
      "/api/v1/auth/logout-all",
      guarded(deps.guard, kSignedIn,
              [d](http::Request& req, const Access& who) -> asio::awaitable<http::Response> {
                const ClientInfo client = client_info(req);
                std::vector<Uuid> ended;
                co_await d->db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
                  ended = co_await d->sessions.revoke_all(tx, who.principal.user_id, "logout_all");
                  AuditEvent event{.event = "logged_out_everywhere", .user_id = who.principal.user_id};
                  event.details["sessions_ended"] = static_cast<int64_t>(ended.size());
                  co_await record_audit(tx, d->clock.now(), client, event);
                });
                co_await d->sessions.deny(std::move(ended));
                auto res = http::Response::no_content();
                if (who.principal.via_cookie) clear_session_cookies(res, d->config.cookies);
                co_return res;
              }),
      small);

  router.post(
      "/api/v1/auth/password/forgot",
      [d](http::Request& req) -> asio::awaitable<http::Response> {
        JsonBody body(req.body);
        const std::string email = body.string("email", kMaxEmailBytes);
        body.check();
        const std::string account = normalize_email(email).value_or(email);
        std::vector<RateKey> keys{{&d->limits.reset_account, account},
                                  {&d->limits.reset_ip, ip_subject(req.remote_address)}};
        co_await enforce(d->limiter, std::move(keys));
        co_await d->accounts.request_password_reset(email, client_info(req));
        co_return accepted("if the address has an account, a reset link is on its way");
      },
      small);

  router.post(
      "/api/v1/auth/password/reset",
      [d](http::Request& req) -> asio::awaitable<http::Response> {
        JsonBody body(req.body);
        const std::string token = body.string("token", kMaxTokenField);
        const std::string password = body.string("password", kMaxPasswordBytes, true, true);
        body.check();
        std::vector<RateKey> keys{{&d->limits.reset_ip, ip_subject(req.remote_address)}};
        co_await enforce(d->limiter, std::move(keys));
        co_await d->accounts.reset_password(token, password, client_info(req));
        co_return http::Response::no_content();
      },
      small);

  router.post(
      "/api/v1/auth/password/change",
      guarded(deps.guard, kSignedIn,
              [d](http::Request& req, const Access& who) -> asio::awaitable<http::Response> {
                JsonBody body(req.body);
                const std::string current = body.string("current_password", kMaxPasswordBytes, true, true);
                const std::string replacement = body.string("new_password", kMaxPasswordBytes, true, true);
                body.check();
                std::vector<RateKey> keys{{&d->limits.login_account, who.principal.user_id.str()}};
                co_await enforce(d->limiter, std::move(keys));
                co_await d->accounts.change_password(who.principal.user_id, who.principal.session_id, current,
                                                     replacement, client_info(req));
                co_return http::Response::no_content();
              }),
      small);

  router.get("/api/v1/me", guarded(deps.guard, kSignedIn,
                                   [d](http::Request&, const Access& who) -> asio::awaitable<http::Response> {
                                     std::string body = co_await d->accounts.me_json(who.principal.user_id);
                                     co_return http::Response::json_text(200, std::move(body));
                                   }));

  router.get("/api/v1/me/sessions",
             guarded(deps.guard, kSignedIn, [d](http::Request&, const Access& who) -> asio::awaitable<http::Response> {
               auto items = co_await d->sessions.list(who.principal.user_id, who.principal.session_id);
               co_return json_response(200, json::object{{"items", std::move(items)}});
             }));

  router.del("/api/v1/me/sessions/{session_id}",
             guarded(deps.guard, kSignedIn,
                     [d](http::Request& req, const Access& who) -> asio::awaitable<http::Response> {
                       auto id = Uuid::parse(req.param("session_id"));
                       if (!id) throw ApiError::not_found("session not found");
                       const bool revoked =
                           co_await d->sessions.revoke(who.principal.user_id, *id, "revoked", client_info(req));
                       if (!revoked) throw ApiError::not_found("session not found");
                       co_return http::Response::no_content();
                     }));

  router.get("/api/v1/me/audit",
             guarded(deps.guard, kSignedIn,
                     [d](http::Request& req, const Access& who) -> asio::awaitable<http::Response> {
                       const PageParams params = page_params(req);
                       auto page = co_await list_audit(d->db, std::nullopt, who.principal.user_id, params.cursor, params.limit);
                       co_return json_response(200, audit_page_json(std::move(page)));
                     }));
}

}  // namespace huntaze::auth
