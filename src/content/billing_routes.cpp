#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/billing.hpp"
#include "content/routes.hpp"
#include "content/signed_payload.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;
constexpr size_t kStripeBody = 512 * 1024;  // Stripe events are a few kilobytes

}  // namespace

void register_billing_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  auth::Guard& g = deps.guard;

  router.get("/api/v1/billing",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request&, const auth::Access& who) -> Pass {
               auto summary = co_await d->billing.summary(who.workspace_id);
               co_return json_response(200, summary);
             }));

  router.get("/api/v1/billing/invoices",
             auth::guarded(g, need(auth::Role::manager, auth::scope_admin), [d](http::Request& req, const auth::Access& who) -> Pass {
               const int limit = page_limit(req);
               const auto cursor = page_cursor(req, 2);
               auto page = co_await d->billing.invoices(who.workspace_id, limit, cursor);
               co_return json_response(200, page);
             }));

  router.get("/api/v1/billing/invoices/{invoice_id}",
             auth::guarded(g, need(auth::Role::manager, auth::scope_admin), [d](http::Request& req, const auth::Access& who) -> Pass {
               const Uuid id = path_uuid(req, "invoice_id", "invoice");
               auto invoice = co_await d->billing.invoice(who.workspace_id, id);
               if (!invoice) throw ApiError::not_found("invoice not found");
               co_return json_response(200, *invoice);
             }));

  // Stripe calls this; it signs each delivery (Stripe-Signature, the scheme
  // of signed_payload.hpp) with the endpoint's secret. A non-2xx answer
  // makes Stripe retry, so only a bad signature or a body that is no event
  // is refused; every event we have no use for is acknowledged.
  router.post("/api/v1/billing/stripe/webhook",
              [d](http::Request& req) -> Pass {
                const auto& secret = d->config.billing.stripe_webhook_secret;
                if (secret.empty())
                  throw ApiError::unavailable("stripe_not_configured",
                                              "the Stripe webhook is off (content.billing.stripe_webhook_secret)");
                const auto header = req.headers.get("stripe-signature");
                const auto check = header ? verify_payload(*header, secret.reveal(), req.body, d->clock.now(),
                                                           d->config.billing.stripe_tolerance)
                                          : SignatureCheck::malformed;
                if (check != SignatureCheck::ok)
                  throw ApiError(400, "invalid_signature",
                                 "the Stripe-Signature header does not sign this body (" +
                                     std::string(to_string(check)) + ")");
                const StripeOutcome outcome = co_await d->billing.stripe_event(req.body);
                co_return json_response(200, json::object{{"received", true},
                                                          {"duplicate", outcome.duplicate},
                                                          {"outcome", outcome.outcome}});
              },
              {.body_limit = kStripeBody});
}

}  // namespace huntaze::content
