// Composition of middleware around the router, and the innermost step that
// dispatches to the matched route.
#include <boost/asio/awaitable.hpp>

#include "huntaze/core/strings.hpp"
#include "huntaze/http/middleware.hpp"

namespace huntaze::http {

namespace {

asio::awaitable<Response> dispatch(const Router* router, Request& req) {
  auto m = router->match(req.method, req.path);
  if (m.bad_path) co_return error_response(400, "invalid_path", "malformed percent-escape in path", req.request_id);
  if (!m.route) {
    if (m.allowed.empty()) co_return error_response(404, "not_found", "no route for this path", req.request_id);
    Response res = error_response(405, "method_not_allowed", "method not allowed for this path", req.request_id);
    res.headers.set("Allow", join(m.allowed));
    co_return res;
  }
  req.route = m.route->pattern;
  req.path_params = std::move(m.params);
  co_return co_await m.route->handler(req);
}

}  // namespace

Handler build_pipeline(std::vector<Middleware> chain, const Router& router) {
  Handler next = [router = &router](Request& req) { return dispatch(router, req); };
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    // `inner` lives in this closure for as long as the pipeline does, so the
    // middleware coroutine may keep the reference it is given.
    next = [mw = *it, inner = Next(std::move(next))](Request& req) { return mw(req, inner); };
  }
  return next;
}

}  // namespace huntaze::http
