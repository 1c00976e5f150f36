// The model catalog: which deployments exist, what they cost and can do, and
// which aliases each task tries in order (the `ai:` configuration section).
//
//   ai:
//     deployments:
//       deepseek-v3-eastus:
//         alias: deepseek-v3               # routes name aliases; several deployments may share one
//         provider: openai                 # openai | openai_audio | templates
//         endpoint: https://x.services.ai.azure.com/models/chat/completions
//         api_version: 2024-05-01-preview  # appended as ?api-version= (Azure)
//         auth: api-key                    # api-key (Azure) | bearer | none
//         key: ${file:/run/secrets/azure_ai_key}
//         model: DeepSeek-V3
//         price_in: 1.14                   # USD per million input tokens
//         price_out: 4.56                  # USD per million output tokens
//         capabilities: [text, json]
//     routes:
//       generate: [deepseek-v3, llama-3.3-70b, templates]
//
// Prices: USD per million tokens is numerically micro-dollars per token, so
// a call's cost in micro-dollars is tokens_in * price_in + tokens_out * price_out.
// Thread-safety: value types; a Catalog is immutable once parsed (reloads
// build a new one).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::ai_router {

enum class Provider { openai, openai_audio, templates };
enum class Auth { api_key, bearer, none };

// Bit flags of what a deployment can do.
enum Capability : unsigned { kText = 1, kVision = 2, kAudio = 4, kReasoning = 8, kJson = 16 };

struct Deployment {
  std::string name;   // unique; appears in metrics and the usage log
  std::string alias;  // what routes refer to
  Provider provider = Provider::openai;
  std::string endpoint;
  std::string api_version;
  Auth auth = Auth::bearer;
  Secret key;
  std::string model;
  int weight = 1;
  int rpm = 0;  // requests per minute, 0 = unlimited
  int tpm = 0;  // tokens per minute, 0 = unlimited
  int max_concurrency = 64;
  int context_window = 128'000;
  int max_output = 4096;
  double price_in = 0;   // USD per 1M input tokens
  double price_out = 0;  // USD per 1M output tokens
  unsigned capabilities = kText;
  std::chrono::milliseconds timeout{60'000};

  // The URL requests go to (endpoint plus api-version when set).
  std::string url() const;
  // Micro-dollars for a call with these token counts (rounded to nearest).
  int64_t cost_micros(int64_t tokens_in, int64_t tokens_out) const;
  bool can(Capability c) const { return (capabilities & c) != 0; }
  // A deployment that needs a key and has none is skipped by routing.
  bool usable() const;
};

struct Catalog {
  std::vector<Deployment> deployments;
  // Task -> aliases in the order they are tried.
  std::map<std::string, std::vector<std::string>> routes;

  std::vector<const Deployment*> deployments_for(const std::string& alias) const;
};

// The routes the product ships with (see the ai_router issue): generate,
// reason, vision, classify, creative, transcribe.
std::map<std::string, std::vector<std::string>> default_routes();

// Parses `ai.deployments` and `ai.routes`. Defaults: the product's routes and
// only the offline `templates` deployment, so the binary answers without any
// key. Throws config::ConfigError for unknown providers, a route naming an
// alias no deployment has, duplicate names, bad URLs or prices.
Catalog parse_catalog(config::Node ai);

}  // namespace huntaze::ai_router
