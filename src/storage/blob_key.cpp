#include "storage/blob_key.hpp"

#include <stdexcept>
#include <string>

namespace huntaze::storage {
namespace {

bool valid_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool valid_segment(std::string_view segment) noexcept {
  if (segment.empty() || segment.size() > kMaxKeySegmentBytes || segment == "." || segment == "..") return false;
  for (char c : segment) {
    if (!valid_char(c)) return false;
  }
  return true;
}

}  // namespace

bool valid_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  size_t start = 0;
  for (;;) {
    const size_t slash = key.find('/', start);
    const std::string_view segment = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (!valid_segment(segment)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::filesystem::path path_under(const std::filesystem::path& root, std::string_view key) {
  if (!valid_key(key)) throw std::invalid_argument("invalid blob key");
  return root / std::string(key);
}

}  // namespace huntaze::storage
