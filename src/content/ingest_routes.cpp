#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/routes.hpp"
#include "content/signed_payload.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

using Pass = asio::awaitable<http::Response>;

IngestKind kind_param(const http::Request& req) {
  auto kind = parse_ingest_kind(req.param("kind"));
  if (!kind) throw ApiError::not_found("no such ingestion kind; use fans, messages, subscriptions or transactions");
  return *kind;
}

ApiError bad_signature(std::string_view why) {
  return ApiError(401, "invalid_signature",
                  "the Huntaze-Signature header does not sign this body (" + std::string(why) + ")");
}

}  // namespace

void register_ingest_routes(http::Router& router, const RouteDeps& deps) {
  const RouteDeps* d = &deps;
  const http::RouteOptions batch{.body_limit = deps.config.ingest.body_limit};

  router.post("/api/v1/ingest/{kind}",
              auth::guarded(deps.guard, auth::Requirement{.role = auth::Role::chatter, .scope = auth::scope_ingest},
                            [d](http::Request& req, const auth::Access& who) -> Pass {
                              const IngestKind kind = kind_param(req);
                              IdempotencyKeys::Handler work = [&]() -> Pass {
                                co_return co_await d->ingestion.ingest(who.workspace_id, kind, req.body);
                              };
                              co_return co_await d->idempotency.run(who.workspace_id, req, work);
                            }),
              batch);

  // Server-side connectors sign instead of holding a user's token or an API
  // key: Huntaze-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">
  // under the workspace's webhook secret. Every refusal looks the same
  // whether or not the workspace exists.
  router.post("/api/v1/ingest/webhook/{workspace_id}/{kind}",
              [d](http::Request& req) -> Pass {
                if (d->config.ingest.webhook_key.empty())
                  throw ApiError::unavailable("webhook_not_configured",
                                              "signed-webhook ingestion is off (content.ingest.webhook_key)");
                const IngestKind kind = kind_param(req);
                const auto header = req.headers.get("huntaze-signature");
                if (!header) throw bad_signature("missing");
                const auto workspace = Uuid::parse(req.param("workspace_id"));
                if (!workspace) throw bad_signature("mismatch");
                auto rows = co_await d->db.query(
                    "SELECT generation FROM content.webhook_keys WHERE creator_id = $1", *workspace);
                if (rows.empty()) throw bad_signature("mismatch");
                const std::string secret =
                    webhook_secret(d->config.ingest.webhook_key, *workspace, rows.front().get<int32_t>(0));
                // An HMAC over a body of megabytes: the compute pool's work, not an I/O thread's.
                auto verify = [&] {
                  return verify_payload(*header, secret, req.body, d->clock.now(), d->config.ingest.webhook_tolerance);
                };
                const SignatureCheck check =
                    co_await d->compute.run_if(req.body.size() > Compute::kInlineBytes, verify);
                if (check != SignatureCheck::ok) throw bad_signature(to_string(check));
                IdempotencyKeys::Handler work = [&]() -> Pass {
                  co_return co_await d->ingestion.ingest(*workspace, kind, req.body);
                };
                co_return co_await d->idempotency.run(*workspace, req, work);
              },
              batch);

  // Issues the workspace's webhook secret, or replaces it: the old one stops
  // working at once. The secret is shown only in this answer.
  router.post("/api/v1/ingest/webhook-secret",
              auth::guarded(deps.guard, auth::Requirement{.role = auth::Role::manager, .scope = auth::scope_admin},
                            [d](http::Request&, const auth::Access& who) -> Pass {
                              if (d->config.ingest.webhook_key.empty())
                                throw ApiError::unavailable("webhook_not_configured",
                                                            "signed-webhook ingestion is off (content.ingest.webhook_key)");
                              const db::Timestamp now(d->clock.now());
                              auto rows = co_await d->db.query(
                                  "INSERT INTO content.webhook_keys (creator_id, generation, rotated_at) "
                                  "VALUES ($1, 1, $2) ON CONFLICT (creator_id) DO UPDATE "
                                  "SET generation = content.webhook_keys.generation + 1, rotated_at = $2 "
                                  "RETURNING generation",
                                  who.workspace_id, now);
                              const int32_t generation = rows.front().get<int32_t>(0);
                              json::object answer{
                                  {"secret", webhook_secret(d->config.ingest.webhook_key, who.workspace_id, generation)},
                                  {"generation", generation},
                                  {"path", "/api/v1/ingest/webhook/" + who.workspace_id.str() + "/{kind}"},
                                  {"signature_header", "Huntaze-Signature"}};
                              co_return json_response(201, answer);
                            }));
}

}  // namespace huntaze::content
