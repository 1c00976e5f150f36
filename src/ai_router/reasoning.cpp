#include "ai_router/reasoning.hpp"

#include <algorithm>

namespace huntaze::ai_router {

namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Length of the longest suffix of `text` that is a proper prefix of `tag`:
// those bytes may be the start of a tag cut by the chunk boundary.
size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
  for (size_t n = std::min(text.size(), tag.size() - 1); n > 0; --n)
    if (text.substr(text.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

}  // namespace

Split ThinkSplitter::feed(std::string_view chunk) {
  pending_.append(chunk);
  return drain(false);
}

Split ThinkSplitter::finish() {
  return drain(true);
}

Split ThinkSplitter::drain(bool final) {
  Split out;
  for (;;) {
    if (mode_ == Mode::start) {
      // Leading whitespace is allowed before the opening tag.
      size_t first = 0;
      while (first < pending_.size() && is_space(pending_[first])) ++first;
      std::string_view rest = std::string_view(pending_).substr(first);
      if (rest.starts_with(kOpen)) {
        pending_.erase(0, first + kOpen.size());
        mode_ = Mode::thinking;
        continue;
      }
      if (!final && kOpen.starts_with(rest)) return out;  // could still become "<think>"
      mode_ = Mode::answer;
      continue;
    }
    if (mode_ == Mode::thinking) {
      auto close = pending_.find(kClose);
      if (close != std::string::npos) {
        out.reasoning.append(pending_, 0, close);
        pending_.erase(0, close + kClose.size());
        // The answer usually starts after a blank line; that is layout, not content.
        skip_space_ = true;
        mode_ = Mode::answer;
        continue;
      }
      size_t hold = final ? 0 : partial_tag_suffix(pending_, kClose);
      out.reasoning.append(pending_, 0, pending_.size() - hold);
      pending_.erase(0, pending_.size() - hold);
      return out;
    }
    // answer
    if (skip_space_) {
      size_t first = 0;
      while (first < pending_.size() && is_space(pending_[first])) ++first;
      pending_.erase(0, first);
      if (pending_.empty()) return out;
      skip_space_ = false;
    }
    out.content.append(pending_);
    pending_.clear();
    return out;
  }
}

Split split_reasoning(std::string_view content) {
  ThinkSplitter splitter;
  Split all = splitter.feed(content);
  Split tail = splitter.finish();
  all.reasoning += tail.reasoning;
  all.content += tail.content;
  return all;
}

}  // namespace huntaze::ai_router
