// Reasoning models (DeepSeek-R1 and its hosts) return their chain of thought
// either in a separate `reasoning_content` field or inline, as
// "<think>...</think>" at the start of the content. Callers always get the
// two apart: content is the answer, reasoning is the rest.
//
// ThinkSplitter does it for a stream whose chunks may cut a tag anywhere.
// Thread-compatibility: one splitter per stream.
#pragma once

#include <string>
#include <string_view>

namespace huntaze::ai_router {

struct Split {
  std::string reasoning;
  std::string content;
};

class ThinkSplitter {
 public:
  // Feeds the next piece of content; returns what can be told apart so far.
  Split feed(std::string_view chunk);
  // The stream ended: whatever was held back. An unclosed <think> leaves
  // everything in reasoning (the answer was cut off).
  Split finish();

 private:
  enum class Mode { start, thinking, answer };
  Split drain(bool final);
  Mode mode_ = Mode::start;
  bool skip_space_ = false;  // between </think> and the answer's first character
  std::string pending_;
};

// The whole-text form: splits a complete message.
Split split_reasoning(std::string_view content);

}  // namespace huntaze::ai_router
