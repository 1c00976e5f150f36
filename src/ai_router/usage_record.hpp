// One upstream call (or cache hit) as the usage log stores it: a compact row,
// no prompt or answer bodies unless the call was sampled (prompt_samples.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "huntaze/core/clock.hpp"

namespace huntaze::ai_router {

struct UsageRecord {
  SysTime at;                // when the request finished
  std::string workspace;     // uuid text, "" for the platform (stored as NULL)
  std::string task;          // the route or alias asked for
  std::string deployment;    // "" when nothing answered
  std::string model;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cost_micros = 0;
  std::chrono::microseconds latency{0};
  std::chrono::microseconds time_to_first_token{0};
  bool cache_hit = false;
  int attempts = 0;
  std::string outcome;  // ok | cache_hit | one of AiError::Kind's names
  std::string request_id;

  // Only for a sampled call (UsageLog::sample() said yes): what was asked and
  // answered, stored in ai.prompt_samples with this row.
  struct Sample {
    std::string request;   // sample_request_json()
    std::string response;  // the answer's text
  };
  std::shared_ptr<const Sample> sample;
};

}  // namespace huntaze::ai_router
