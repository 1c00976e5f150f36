// What other modules ask the content module about a workspace's plan
// (content.billing): media checks uploads against the storage quota and the
// monthly video allowance, and reports what it stored and processed for
// the monthly invoice.
//
// Thread-safety: implementations are safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::content {

struct PlanLimits {
  std::string plan;
  std::string status;  // active | past_due | canceled
  uint64_t storage_bytes = 0;
  int64_t videos_per_month = 0;
  bool usable() const { return status != "canceled"; }
};

class PlanLimitSource {
 public:
  virtual ~PlanLimitSource() = default;
  virtual boost::asio::awaitable<PlanLimits> limits(Uuid workspace) = 0;
};

// What a workspace stored and processed, for its invoice.
struct MediaUsage {
  uint64_t storage_bytes = 0;  // at the end of the period
  int64_t videos = 0;          // processed in the period
};

// Implemented by the media module; billing asks it for each invoice.
class MediaUsageSource {
 public:
  virtual ~MediaUsageSource() = default;
  virtual boost::asio::awaitable<MediaUsage> usage(Uuid workspace, SysTime from, SysTime to) = 0;
};

}  // namespace huntaze::content
