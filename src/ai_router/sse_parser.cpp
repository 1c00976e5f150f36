#include "ai_router/sse_parser.hpp"

namespace huntaze::ai_router {

void SseParser::feed(std::string_view bytes, std::vector<std::string>& out) {
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') {
        start = i + 1;
        continue;
      }
    }
    if (c != '\n' && c != '\r') continue;
    if (partial_.empty()) {
      line(bytes.substr(start, i - start), out);
    } else {
      partial_.append(bytes.substr(start, i - start));
      line(partial_, out);
      partial_.clear();
    }
    skip_lf_ = c == '\r';
    start = i + 1;
  }
  partial_.append(bytes.substr(start));
  if (partial_.size() > max_line_) throw std::length_error("server-sent event line too long");
}

void SseParser::line(std::string_view text, std::vector<std::string>& out) {
  if (text.empty()) {  // the blank line that dispatches an event
    if (has_data_) {
      out.push_back(std::move(data_));
      saw_event_ = true;
    }
    data_.clear();
    has_data_ = false;
    return;
  }
  if (text.front() == ':') return;  // comment (keep-alive pings)
  const size_t colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  if (field != "data") return;  // event, id, retry: not used by chat streams
  std::string_view value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (has_data_) data_ += '\n';
  data_.append(value);
  has_data_ = true;
  if (data_.size() > max_line_) throw std::length_error("server-sent event too long");
}

}  // namespace huntaze::ai_router
