// The content module's HTTP API (documented in docs/openapi.yaml):
//
//   ingest_routes.cpp   POST /api/v1/ingest/{fans|messages|subscriptions|transactions}
//                       POST /api/v1/ingest/webhook/{workspace_id}/{kind}   signed, for server-side connectors
//                       POST /api/v1/ingest/webhook-secret                  issue or rotate that secret
//   fan_routes.cpp      GET /api/v1/fans, GET|PATCH /api/v1/fans/{fan_id}
//                       GET|POST /api/v1/conversations/{fan_id}/messages
//   suggestion_routes.cpp  POST /api/v1/conversations/{fan_id}/suggestions   (SSE with Accept: text/event-stream)
//                       POST /api/v1/suggestions/{suggestion_id}/feedback, GET /api/v1/suggestions/stats
//   offer_routes.cpp    GET|POST /api/v1/offers, GET|PATCH /api/v1/offers/{offer_id}, POST …/{offer_id}/cancel
//   post_routes.cpp     GET|POST /api/v1/posts, GET|PATCH /api/v1/posts/{post_id}, POST …/cancel, …/published
//                       POST /api/v1/posts/caption-ideas, GET /api/v1/posts/ideas
//   billing_routes.cpp  GET /api/v1/billing, GET /api/v1/billing/invoices[/{invoice_id}]
//                       POST /api/v1/billing/stripe/webhook   (Stripe-Signature)
//   persona_routes.cpp  GET|PUT /api/v1/persona
//                       GET|POST /api/v1/saved-replies, PATCH|DELETE /api/v1/saved-replies/{reply_id}
//
// Roles: viewers read; chatters ingest, send and annotate fans; managers
// edit the persona, saved replies and the webhook secret. API keys need the
// `read` scope to read and `ingest` to ingest.
#pragma once

#include "content/billing.hpp"
#include "content/content_config.hpp"
#include "content/idempotency.hpp"
#include "content/ingestion.hpp"
#include "content/message_partitions.hpp"
#include "content/offers.hpp"
#include "content/posts.hpp"
#include "content/suggestions.hpp"
#include "huntaze/auth/access.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::content {

struct RouteDeps {
  db::Database& db;
  Compute& compute;
  const Clock& clock;
  auth::Guard& guard;
  Ingestion& ingestion;
  IdempotencyKeys& idempotency;
  MessagePartitions& partitions;
  Suggestions& suggestions;
  Offers& offers;
  Posts& posts;
  Billing& billing;
  ai_router::AiRouter& router;
  const ContentConfig& config;
};

void register_ingest_routes(http::Router& router, const RouteDeps& deps);
void register_fan_routes(http::Router& router, const RouteDeps& deps);
void register_persona_routes(http::Router& router, const RouteDeps& deps);
void register_suggestion_routes(http::Router& router, const RouteDeps& deps);
void register_offer_routes(http::Router& router, const RouteDeps& deps);
void register_post_routes(http::Router& router, const RouteDeps& deps);
void register_billing_routes(http::Router& router, const RouteDeps& deps);

}  // namespace huntaze::content
