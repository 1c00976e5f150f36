#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/json_fields.hpp"
#include "content/routes.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;
constexpr size_t kSmallBody = 16 * 1024;
constexpr int64_t kMaxPrice = 100'000'000;

// The fields of a POST (all required but description and the kind's
// optional numbers) or a PATCH (all optional).
OfferFields offer_fields(const http::Request& req, bool creating) {
  const json::object body = parse_object(req.body);
  std::vector<ErrorDetail> problems;
  Fields f(body, problems);
  const Need need = creating ? Need::required : Need::optional;
  OfferFields o;
  o.title = f.text("title", 200, need);
  o.description = f.text("description", 2000, Need::optional, true);
  o.kind = f.word("kind", {"discount", "bundle", "ppv"}, need);
  o.price_cents = f.integer("price_cents", 0, kMaxPrice, Need::optional);
  if (auto pct = f.integer("discount_percent", 1, 100, Need::optional)) o.discount_percent = static_cast<int32_t>(*pct);
  o.starts_at = f.time("starts_at", need);
  o.ends_at = f.time("ends_at", need);
  if (o.title && o.title->empty()) f.problem("title", "must not be empty");
  if (f.failed()) throw ApiError::bad_request("the offer is not valid", std::move(problems));
  return o;
}

}  // namespace

void register_offer_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  auth::Guard& g = deps.guard;
  const http::RouteOptions small{.body_limit = kSmallBody};

  router.get("/api/v1/offers",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               const auto status = word_query(req, "status", {"scheduled", "active", "expired", "canceled"});
               const int limit = page_limit(req);
               const auto cursor = page_cursor(req, 2);
               auto page = co_await d->offers.list(who.workspace_id, status, limit, cursor);
               co_return json_response(200, page);
             }));

  router.post("/api/v1/offers",
              auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const OfferFields fields = offer_fields(req, true);
                              IdempotencyKeys::Handler work = [&]() -> Pass {
                                auto offer = co_await d->offers.create(who.workspace_id, who.principal.user_id, fields);
                                co_return json_response(201, offer);
                              };
                              co_return co_await d->idempotency.run(who.workspace_id, req, work);
                            }),
              small);

  router.get("/api/v1/offers/{offer_id}",
             auth::guarded(g, need(auth::Role::viewer), [d](http::Request& req, const auth::Access& who) -> Pass {
               const Uuid id = path_uuid(req, "offer_id", "offer");
               auto offer = co_await d->offers.get(who.workspace_id, id);
               if (!offer) throw ApiError::not_found("offer not found");
               co_return json_response(200, *offer);
             }));

  router.patch("/api/v1/offers/{offer_id}",
               auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                             [d](http::Request& req, const auth::Access& who) -> Pass {
                               const Uuid id = path_uuid(req, "offer_id", "offer");
                               const OfferFields fields = offer_fields(req, false);
                               auto offer = co_await d->offers.update(who.workspace_id, id, fields);
                               co_return json_response(200, offer);
                             }),
               small);

  router.post("/api/v1/offers/{offer_id}/cancel",
              auth::guarded(g, need(auth::Role::manager, auth::scope_admin),
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const Uuid id = path_uuid(req, "offer_id", "offer");
                              auto offer = co_await d->offers.cancel(who.workspace_id, id);
                              co_return json_response(200, offer);
                            }),
              small);
}

}  // namespace huntaze::content
