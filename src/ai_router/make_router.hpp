// Builds the AiRouter from its parts (the composition root calls this).
#pragma once

#include <memory>

#include "ai_router/router_config.hpp"
#include "huntaze/ai_router/catalog.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/http/client.hpp"

namespace huntaze::ai_router {

class Budgets;
class ResponseCache;
class UsageLog;
class TemplateSource;

// Everything referenced must outlive the router. Optional parts may be null:
// no cache (every request goes upstream), no usage log, built-in templates.
struct RouterDeps {
  http::HttpClient& client;
  const Clock& clock;
  metrics::Registry& metrics;
  ResponseCache* cache = nullptr;
  UsageLog* usage = nullptr;
  TemplateSource* templates = nullptr;
  Budgets* budgets = nullptr;  // no workspace budgets or rate limits when null
};

class Router : public AiRouter {
 public:
  // Swaps the catalog and settings (SIGHUP): requests in flight finish with
  // the old ones; deployments keep their circuit breakers by name.
  // Thread-safe.
  virtual void reload(Catalog catalog, RouterConfig config) = 0;
};

std::unique_ptr<Router> make_router(RouterDeps deps, Catalog catalog, RouterConfig config);

}  // namespace huntaze::ai_router
