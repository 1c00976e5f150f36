// Process-level metrics sampled at scrape time: RSS, CPU time, open file
// descriptors, start time, and huntaze_build_info.
#pragma once

#include <string>

#include "huntaze/core/metrics.hpp"

namespace huntaze::app {

void register_process_metrics(metrics::Registry& registry, const std::string& version);

}  // namespace huntaze::app
