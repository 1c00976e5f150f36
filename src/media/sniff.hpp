// What an upload is, read from its first bytes (never from the file name or
// the client's Content-Type): the ISO base media file format (MP4, MOV)
// starts with a box whose type is ftyp (or, in old QuickTime files, moov,
// mdat, free, skip or wide); Matroska and WebM start with the EBML magic
// 1A 45 DF A3 and name their DocType in the header that follows.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace huntaze::media {

struct Sniffed {
  std::string container;     // mp4 | mov | webm | matroska
  std::string content_type;  // video/mp4 | video/quicktime | video/webm | video/x-matroska
  std::string extension;     // mp4 | mov | webm | mkv
};

// How many leading bytes sniff() wants (fewer only when the file is shorter).
constexpr size_t kSniffBytes = 4096;

// nullopt when the bytes are none of the accepted video containers.
std::optional<Sniffed> sniff(std::string_view head);

}  // namespace huntaze::media
