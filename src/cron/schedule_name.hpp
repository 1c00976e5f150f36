// The rule for schedule names, shared by Cron::add() and the config parser.
#pragma once

#include <string_view>

namespace huntaze::cron {

inline constexpr const char* kScheduleNameRule = "1 to 100 characters of a-z, 0-9, '.', '_' and '-'";

// Names end up in job unique keys and log fields, so they stay short and plain.
inline bool valid_schedule_name(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace huntaze::cron
