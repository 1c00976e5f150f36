#include "huntaze/jobs/job.hpp"

#include <array>

namespace huntaze::jobs {

namespace {
constexpr std::array<std::pair<JobState, std::string_view>, 7> kStates{{
    {JobState::available, "available"},
    {JobState::scheduled, "scheduled"},
    {JobState::running, "running"},
    {JobState::retryable, "retryable"},
    {JobState::completed, "completed"},
    {JobState::cancelled, "cancelled"},
    {JobState::discarded, "discarded"},
}};
}  // namespace

std::string_view to_string(JobState state) noexcept {
  for (const auto& [s, name] : kStates)
    if (s == state) return name;
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view text) noexcept {
  for (const auto& [s, name] : kStates)
    if (name == text) return s;
  return std::nullopt;
}

}  // namespace huntaze::jobs
