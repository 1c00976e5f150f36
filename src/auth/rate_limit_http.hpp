// Rate limits at the HTTP edge: the RateLimit-* headers (IETF httpapi
// ratelimit-headers draft, delta-seconds), the 429 error, and a middleware
// that limits every request per client address.
//
// Thread-safety: pure functions; the middleware is immutable once built.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/rate_limiter.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/http/message.hpp"
#include "huntaze/http/middleware.hpp"

namespace huntaze::auth {

// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (whole seconds,
// rounded up) of the decision's most restrictive rule, plus Retry-After
// (whole seconds, at least 1) on a refusal. Sets nothing when no rule was
// checked (limit 0). Replaces headers of the same names.
void apply_rate_headers(http::Response& response, const RateDecision& decision);

// 429 rate_limited with Retry-After: the wait in whole seconds, at least 1.
ApiError too_many_requests(const RateDecision& decision);

// The same error keeping its decision: thrown from a handler below
// ip_rate_limit(), its 429 gets the RateLimit-* headers of the rule that
// refused (a plain too_many_requests() gets only Retry-After).
class RateLimitedError : public ApiError {
 public:
  explicit RateLimitedError(const RateDecision& decision)
      : ApiError(too_many_requests(decision)), decision_(decision) {}
  const RateDecision& decision() const noexcept { return decision_; }

 private:
  RateDecision decision_;
};

// The subject a client address is limited by: an IPv4 address as is (also
// when written IPv4-mapped, ::ffff:a.b.c.d), an IPv6 address by its /64
// (one host usually owns a whole /64, so single addresses would be free to
// rotate), anything unparsable (empty, a Unix socket) as is.
std::string ip_subject(std::string_view address);

// Whether an access token (a Bearer value or the access cookie) verifies.
// Cheap (an HMAC), and free of I/O: it runs before every request it applies to.
using SessionTokenCheck = std::function<bool(std::string_view token)>;

// Limits every request by ip_subject(Request::remote_address) under `rule`.
// A refused request is answered 429 (the body of too_many_requests(), as the
// errors() middleware would write it) without calling the rest of the chain.
// Other answers get this rule's headers too, except when an inner limit (per
// user, per route) already set RateLimit-* (it is the more specific) and on
// a 429 from further in (this rule did not refuse it; a RateLimitedError
// brings its own headers). An ApiError below 500 from the rest of the chain
// is turned into its response here so that it can carry headers; anything
// else propagates to errors().
// Requests for one of `exempt_paths` (exact paths) pass unlimited and
// uncounted: meant for a liveness probe that does no I/O and must not wait
// on Redis.
// A request whose session token `session_token` accepts (an API key never
// is) is counted later instead, by the guard together with its user
// (Request::address_limit_deferred), or after the handler when no guard
// took it. Every other request, junk tokens included, is counted before the
// handler runs. Without `session_token` nothing is deferred.
// `limiter` must outlive the middleware. Place it after request_id() (the
// 429 body carries the request id).
http::Middleware ip_rate_limit(RateLimiter& limiter, RateRule rule, std::vector<std::string> exempt_paths = {},
                               SessionTokenCheck session_token = {});

}  // namespace huntaze::auth
