#include "content/money.hpp"

namespace huntaze::content {

std::string dollars(int64_t cents) {
  const bool negative = cents < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(cents) : static_cast<uint64_t>(cents);
  std::string frac = std::to_string(magnitude % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return (negative ? "-$" : "$") + std::to_string(magnitude / 100) + "." + frac;
}

}  // namespace huntaze::content
