// Shared by the ai_router_*_test.cpp files: the real router and the real
// libcurl client against the fake OpenAI server on loopback, with a catalog
// of deployments pointing at it.
#pragma once

#include <catch2/catch.hpp>

#include "ai_router/make_router.hpp"
#include "ai_router/router_config.hpp"
#include "http/curl_client.hpp"
#include "huntaze/ai_router/catalog.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "support/fake_openai.hpp"
#include "support/io_threads.hpp"

namespace huntaze::test::ait {

using namespace std::chrono_literals;

// A deployment at the fake server, Azure AI Foundry style by default.
inline ai_router::Deployment deployment(const FakeOpenAi& fake, const std::string& name, const std::string& alias,
                                        const std::string& path = "/models/chat/completions") {
  ai_router::Deployment d;
  d.name = name;
  d.alias = alias;
  d.provider = ai_router::Provider::openai;
  d.endpoint = fake.url(path);
  d.api_version = "2024-05-01-preview";
  d.auth = ai_router::Auth::api_key;
  d.key = Secret("key-" + name);
  d.model = "model-" + name;
  d.price_in = 1.14;
  d.price_out = 4.56;
  d.capabilities = ai_router::kText | ai_router::kJson;
  d.timeout = 5s;
  return d;
}

inline ai_router::Deployment templates_deployment() {
  ai_router::Deployment t;
  t.name = t.alias = t.model = "templates";
  t.provider = ai_router::Provider::templates;
  t.auth = ai_router::Auth::none;
  return t;
}

// Fast retries, a breaker that trips after 3 failures in a row.
inline ai_router::RouterConfig fast_config() {
  ai_router::RouterConfig c = ai_router::default_router_config();
  c.retries = 2;
  c.backoff_base = 1ms;
  c.backoff_max = 5ms;
  c.breaker.consecutive_failures = 3;
  c.breaker.min_calls = 1000;
  c.breaker.cooldown = 1h;
  return c;
}

inline ai_router::AiRequest ask(std::string task, std::string text = "hello") {
  ai_router::AiRequest r;
  r.task = std::move(task);
  r.messages = {{"system", "You are helpful."}, {"user", std::move(text)}};
  r.deadline = 10s;
  return r;
}

// Members are destroyed in reverse: router, client, I/O threads, then the
// fake server and the registry the others report to.
struct RouterFixture {
  RouterFixture() = default;

  // Builds the router; call after filling `catalog` and `config`.
  ai_router::Router& start(ai_router::ResponseCache* cache = nullptr, ai_router::UsageLog* usage = nullptr,
                           ai_router::Budgets* budgets = nullptr) {
    client = http::make_curl_client(io.executor(), http::HttpClientConfig{}, registry);
    ai_router::RouterDeps deps{*client, clock, registry, cache, usage, nullptr, budgets};
    router = ai_router::make_router(deps, catalog, config);
    return *router;
  }

  ai_router::Completion complete(ai_router::AiRequest r) { return io.block(router->complete(std::move(r))); }

  // complete() expected to fail: the AiError's kind.
  ai_router::AiError::Kind failure(ai_router::AiRequest r) {
    try {
      complete(std::move(r));
    } catch (const ai_router::AiError& e) {
      return e.kind();
    }
    FAIL("the request succeeded");
    return ai_router::AiError::Kind::bad_request;
  }

  double counter(const std::string& name, std::vector<std::string> labels, const std::vector<std::string>& values) {
    return registry.counter(name, "", std::move(labels)).with(values).value();
  }

  metrics::Registry registry;
  FakeOpenAi fake{2};
  SystemClock clock;
  IoThreads io{2};
  std::unique_ptr<http::HttpClient> client;
  ai_router::Catalog catalog;
  ai_router::RouterConfig config = fast_config();
  std::unique_ptr<ai_router::Router> router;
};

}  // namespace huntaze::test::ait
