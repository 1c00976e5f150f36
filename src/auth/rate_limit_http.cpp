#include "auth/rate_limit_http.hpp"

#include "auth/guard.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <exception>
#include <memory>
#include <vector>

namespace huntaze::auth {

namespace {

int64_t ceil_seconds(std::chrono::milliseconds d) {
  return d.count() <= 0 ? 0 : (d.count() + 999) / 1000;
}

http::Response error_to_response(const ApiError& e, const http::Request& req) {
  return http::error_response(e, req.request_id);
}

// The handler's answer, with rate-limit refusals and client errors thrown
// below turned into responses (so that their headers can be set here).
asio::awaitable<http::Response> run_next(http::Request& req, const http::Next& next) {
  http::Response res;
  try {
    res = co_await next(req);
  } catch (const RateLimitedError& e) {
    res = error_to_response(e, req);
    apply_rate_headers(res, e.decision());
  } catch (const ApiError& e) {
    if (e.status() >= 500) throw;  // errors() logs those
    res = error_to_response(e, req);
  }
  co_return res;
}

http::Response refusal(const RateDecision& decision, const http::Request& req) {
  http::Response refused = error_to_response(too_many_requests(decision), req);
  apply_rate_headers(refused, decision);
  return refused;
}

// A session token that verifies (Bearer JWT or the access cookie, read as
// the guard reads them): requests the guard can count together with their
// user. Anything else is counted before the handler: a junk token must not
// let a client over its limit run unguarded handlers first. API keys are not
// deferred: checking one costs a database lookup, which the address limit
// must keep guarding.
bool carries_session_token(const http::Request& req, const SessionTokenCheck& verifies) {
  if (!verifies) return false;
  const auto presented = presented_token(req);
  if (!presented || presented->malformed || presented->api_key()) return false;
  return !presented->token.empty() && verifies(presented->token);
}

asio::awaitable<http::Response> limit_by_ip(RateLimiter& limiter, std::shared_ptr<const RateRule> rule,
                                            std::shared_ptr<const SessionTokenCheck> verifies, http::Request& req,
                                            const http::Next& next) {
  auto check_address = [&]() -> asio::awaitable<RateDecision> {
    std::vector<RateKey> keys;
    keys.push_back(RateKey{rule.get(), ip_subject(req.remote_address)});
    co_return co_await limiter.check(std::move(keys));
  };
  if (rule->enabled() && carries_session_token(req, *verifies)) {
    req.address_limit_deferred = true;
    http::Response res;
    std::exception_ptr failure;  // rethrown after counting: a 5xx is no way around the limit
    try {
      res = co_await run_next(req, next);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!req.address_limit_deferred) {  // the guard counted it
      if (failure) std::rethrow_exception(failure);
      co_return res;
    }
    // No guard took it (a public route, or a guard that refused before
    // counting): count it now. Over the limit, the client learns nothing but
    // the refusal.
    const RateDecision decision = co_await check_address();
    if (!decision.allowed) co_return refusal(decision, req);
    if (failure) std::rethrow_exception(failure);
    if (res.status != 429 && !res.headers.has("RateLimit-Limit")) apply_rate_headers(res, decision);
    co_return res;
  }
  const RateDecision decision = co_await check_address();
  if (!decision.allowed) co_return refusal(decision, req);
  http::Response res = co_await run_next(req, next);
  if (res.status != 429 && !res.headers.has("RateLimit-Limit")) apply_rate_headers(res, decision);
  co_return res;
}

}  // namespace

void apply_rate_headers(http::Response& response, const RateDecision& decision) {
  if (decision.limit <= 0) return;
  response.headers.set("RateLimit-Limit", std::to_string(decision.limit));
  response.headers.set("RateLimit-Remaining", std::to_string(std::max<int64_t>(0, decision.remaining)));
  response.headers.set("RateLimit-Reset", std::to_string(ceil_seconds(decision.reset)));
  if (!decision.allowed)
    response.headers.set("Retry-After", std::to_string(std::max<int64_t>(1, ceil_seconds(decision.retry_after))));
}

ApiError too_many_requests(const RateDecision& decision) {
  const int64_t seconds = std::max<int64_t>(1, ceil_seconds(decision.retry_after));
  ApiError error(429, "rate_limited", "too many requests; retry in " + std::to_string(seconds) + " s");
  error.with_retry_after(static_cast<int>(std::min<int64_t>(seconds, 1'000'000'000)));
  return error;
}

std::string ip_subject(std::string_view address) {
  boost::system::error_code ec;
  const auto parsed = boost::asio::ip::make_address(std::string(address), ec);
  if (ec) return std::string(address);
  if (parsed.is_v4()) return parsed.to_v4().to_string();
  const auto v6 = parsed.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

http::Middleware ip_rate_limit(RateLimiter& limiter, RateRule rule, std::vector<std::string> exempt_paths,
                               SessionTokenCheck session_token) {
  auto shared = std::make_shared<const RateRule>(std::move(rule));
  auto verifies = std::make_shared<const SessionTokenCheck>(std::move(session_token));
  // Not a coroutine itself: the coroutine gets its own copies of what it
  // needs, so nothing depends on this closure's lifetime.
  return [&limiter, shared, verifies, exempt = std::move(exempt_paths)](
             http::Request& req, const http::Next& next) -> asio::awaitable<http::Response> {
    if (std::find(exempt.begin(), exempt.end(), req.path) != exempt.end()) return next(req);
    return limit_by_ip(limiter, shared, verifies, req, next);
  };
}

}  // namespace huntaze::auth
