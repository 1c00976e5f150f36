// Money as the content module handles it: integer cents, and AI costs in
// micro-dollars (as the router's usage log records them).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace huntaze::content {

inline constexpr int64_t kMicrosPerCent = 10'000;

// Cents for micro-dollars, rounded up: a started cent is a cent.
inline int64_t cents_up(int64_t micros) { return micros <= 0 ? 0 : (micros + kMicrosPerCent - 1) / kMicrosPerCent; }

// "$12.50", "-$1.99"
std::string dollars(int64_t cents);

}  // namespace huntaze::content
