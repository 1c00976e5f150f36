// Prompt sampling: with ai.usage.sample_rate > 0, that fraction of answered
// (not cached) calls keep their request and answer in ai.prompt_samples
// (sql/0005_ai_prompt_samples.sql), written with the usage rows; the daily
// `ai.prompt_samples_prune` job deletes them after ai.usage.sample_retention.
// Off by default: the bodies are fan conversations.
//
// Thread-safety: free functions.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string>

#include "huntaze/ai_router/router.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::ai_router {

inline constexpr size_t kMaxSampleRequestBytes = 64 * 1024;
inline constexpr size_t kMaxSampleResponseBytes = 16 * 1024;
inline constexpr const char* kPromptSamplesPruneKind = "ai.prompt_samples_prune";

// The request as a compact JSON document: messages (images as their URL
// scheme and size only: data: URLs are whole files) and output parameters.
// Not cut: UsageLog::record() cuts it to kMaxSampleRequestBytes.
std::string sample_request_json(const AiRequest& request);

// Deletes samples older than now - retention, in batches of `batch` rows so
// that no single statement holds locks for long, with a heartbeat (a
// cancellation point) between batches when run as a job. Returns how many
// were deleted.
boost::asio::awaitable<int64_t> prune_prompt_samples(db::Database& db, SysTime now, std::chrono::hours retention,
                                                     jobs::JobContext* job = nullptr, int64_t batch = 10'000);

}  // namespace huntaze::ai_router
