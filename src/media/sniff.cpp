#include "media/sniff.hpp"

#include <array>
#include <cstdint>

namespace huntaze::media {

namespace {

uint32_t be32(std::string_view s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint32_t(uint8_t(s[at + 3]));
}

std::optional<Sniffed> iso_bmff(std::string_view head) {
  if (head.size() < 12) return std::nullopt;
  const uint32_t size = be32(head, 0);
  const std::string_view type = head.substr(4, 4);
  // A box is at least its 8-byte header (1 means a 64-bit size follows).
  if (size != 1 && size < 8) return std::nullopt;
  if (type == "ftyp") {
    if (size != 1 && size < 16) return std::nullopt;  // major brand + minor version at least
    if (head.substr(8, 4) == "qt  ") return Sniffed{"mov", "video/quicktime", "mov"};
    return Sniffed{"mp4", "video/mp4", "mp4"};
  }
  static constexpr std::array<std::string_view, 5> old_quicktime{"moov", "mdat", "free", "skip", "wide"};
  for (auto t : old_quicktime)
    if (type == t) return Sniffed{"mov", "video/quicktime", "mov"};
  return std::nullopt;
}

std::optional<Sniffed> matroska(std::string_view head) {
  if (head.size() < 4 || head.substr(0, 4) != std::string_view("\x1A\x45\xDF\xA3", 4)) return std::nullopt;
  // The DocType element (ID 42 82) holds "webm" or "matroska" within the
  // EBML header, a few dozen bytes in.
  const std::string_view header = head.substr(0, std::min<size_t>(head.size(), 64));
  const size_t at = header.find(std::string_view("\x42\x82", 2));
  if (at != std::string_view::npos && header.substr(at).find("webm") != std::string_view::npos)
    return Sniffed{"webm", "video/webm", "webm"};
  return Sniffed{"matroska", "video/x-matroska", "mkv"};
}

}  // namespace

std::optional<Sniffed> sniff(std::string_view head) {
  if (auto s = iso_bmff(head)) return s;
  return matroska(head);
}

}  // namespace huntaze::media
