// The vision analysis of a video: the keyframe grid (one image), the
// transcript and the probed metadata go to the `vision` task, which must
// answer with one JSON object; validate_analysis() keeps only what matches
// the schema below, so the stored analysis is always well-formed:
//
//   {"description": "...",                    1-2000 bytes of UTF-8
//    "tags": ["beach", ...],                  0-20, lower case, 1-40 bytes each
//    "captions": ["...", ...],                1-5, 1-300 bytes each
//    "quality_issues": ["dark", ...],         subset of kQualityIssues
//    "content_rating": "general"}             general | suggestive | explicit
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/ai_router/router.hpp"
#include "media/probe.hpp"

namespace huntaze::media {

inline const std::vector<std::string_view> kQualityIssues{"dark",       "blurry", "shaky",       "vertical",
                                                          "horizontal", "noisy",  "overexposed", "low_resolution",
                                                          "no_subject", "cropped"};

// The model's answer did not fit the schema.
class AnalysisInvalid : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VisionInput {
  const VideoInfo& info;
  const std::string& grid_jpeg;
  const std::vector<double>& cell_seconds;  // the grid's cells, in reading order
  const std::optional<std::string>& transcript;
};

// The `vision` request: a system prompt with the schema, one user message
// with the metadata, the transcript (cut to a few thousand characters) and
// the grid as a data: URL. JSON output, low temperature.
ai_router::AiRequest vision_request(const VisionInput& input);

// The validated analysis as serialized JSON. Tolerates a ```json fence and
// text around the object; drops unknown keys and unknown quality issues;
// throws AnalysisInvalid when a required field is missing or wrong.
std::string validate_analysis(std::string_view answer);

}  // namespace huntaze::media
