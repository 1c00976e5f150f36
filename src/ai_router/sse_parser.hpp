// Incremental parser for server-sent events (the WHATWG "text/event-stream"
// format) as OpenAI-compatible providers stream chat completions: chunks cut
// anywhere, LF/CR/CRLF line ends, several `data:` lines joined by "\n",
// comments (":") and other fields ignored.
//
// Thread-compatibility: one parser per stream.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace huntaze::ai_router {

class SseParser {
 public:
  // A line longer than this (an upstream gone mad) is an error, not memory.
  explicit SseParser(size_t max_line = 4 << 20) : max_line_(max_line) {}

  // Feeds bytes; appends the data of every event completed by them to `out`.
  // Throws std::length_error when a line exceeds max_line.
  void feed(std::string_view bytes, std::vector<std::string>& out);
  // Whether any event was ever completed (an error body is not SSE).
  bool saw_event() const { return saw_event_; }

 private:
  void line(std::string_view text, std::vector<std::string>& out);

  size_t max_line_;
  std::string partial_;     // an unfinished line
  bool skip_lf_ = false;    // the last byte was CR: a following LF ends nothing
  std::string data_;        // the event being built
  bool has_data_ = false;
  bool saw_event_ = false;
};

}  // namespace huntaze::ai_router
