// /api/v1/auth/oidc/*: sign-in through OpenID Connect providers (browser only).
//
//   GET providers            the configured providers, for the web app's buttons
//   GET {provider}/start     303 to the provider, with the flow's state cookie
//   GET {provider}/callback  the provider's redirect back: on success the
//                            session cookies and 303 to the return_to path on
//                            the web app; otherwise 303 to <public_url>/login
//                            with ?oidc_error=<reason> (what the user sees is
//                            the web app's page, not a JSON body)
#include <boost/json.hpp>

#include "auth/cookies.hpp"
#include "auth/guard.hpp"
#include "auth/oidc_login.hpp"
#include "auth/rate_limit_http.hpp"
#include "auth/routes.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

http::Response see_other(const std::string& location) {
  http::Response res;
  res.status = 303;
  res.headers.set("Location", location);
  res.headers.set("Cache-Control", "no-store");
  return res;
}

OidcLogin& provider_or_404(const RouteDeps* d, const http::Request& req) {
  if (!d->oidc.has(req.param("provider")))
    throw ApiError(404, "not_found", "no identity provider of that name is configured");
  return d->oidc;
}

// What the web app is told; the precise reason stays in logs and metrics.
std::string user_facing_reason(const std::string& reason) {
  if (reason == "provider_unavailable" || reason == "email_not_verified" || reason == "no_email" ||
      reason == "invalid_state" || reason == "access_denied" || reason == "account_exists")
    return reason;
  return "sign_in_failed";
}

}  // namespace

void register_oidc_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;

  router.get("/api/v1/auth/oidc/providers", [d](http::Request&) -> asio::awaitable<http::Response> {
    json::array list;
    for (const auto* p : d->oidc.providers())
      list.push_back(json::object{{"name", p->name},
                                  {"display_name", p->display_name},
                                  {"start_url", "/api/v1/auth/oidc/" + p->name + "/start"}});
    co_return json_response(200, json::object{{"providers", std::move(list)}});
  });

  router.get("/api/v1/auth/oidc/{provider}/start", [d](http::Request& req) -> asio::awaitable<http::Response> {
    OidcLogin& oidc = provider_or_404(d, req);
    // Each start writes a row: the per-address login rule bounds them.
    std::vector<RateKey> keys{{&d->limits.login_ip, ip_subject(req.remote_address)}};
    co_await enforce(d->limiter, std::move(keys));
    const std::string provider(req.param("provider"));
    OidcRedirect redirect;
    try {
      redirect = co_await oidc.begin(provider, req.query_param("return_to").value_or("/"));
    } catch (const OidcError&) {
      throw ApiError(503, "provider_unavailable", "the identity provider cannot be reached; try again later");
    }
    http::Response res = see_other(redirect.location);
    set_oidc_state_cookie(res, redirect.state, d->config.oidc.flow_ttl, d->config.cookies);
    co_return res;
  });

  router.get("/api/v1/auth/oidc/{provider}/callback", [d](http::Request& req) -> asio::awaitable<http::Response> {
    OidcLogin& oidc = provider_or_404(d, req);
    std::vector<RateKey> keys{{&d->limits.login_ip, ip_subject(req.remote_address)}};
    co_await enforce(d->limiter, std::move(keys));
    const std::string provider(req.param("provider"));
    const std::string failure_page = d->config.public_url + "/login?oidc_error=";
    std::string reason;
    const auto browser_state = find_cookie(req, kOidcCookie);
    if (req.query_param("error")) {
      // The user said no, or the provider refused (RFC 6749 §4.1.2.1).
      const std::string state = req.query_param("state").value_or("");
      co_await oidc.refused(provider, state, browser_state.value_or(""));
      reason = "access_denied";
    }
    std::optional<OidcSignedIn> signed_in;
    if (reason.empty()) {
      try {
        signed_in = co_await oidc.finish(provider, req.query_param("state").value_or(""),
                                         browser_state.value_or(""), req.query_param("code").value_or(""),
                                         client_info(req));
      } catch (const OidcError& e) {
        reason = e.reason();
      }
    }
    http::Response res =
        see_other(signed_in ? d->config.public_url + signed_in->return_to : failure_page + user_facing_reason(reason));
    clear_oidc_state_cookie(res, d->config.cookies);
    if (signed_in) set_session_cookies(res, signed_in->tokens, d->config.cookies, d->clock.now());
    co_return res;
  });
}

}  // namespace huntaze::auth
