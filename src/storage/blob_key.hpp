// Blob keys: the names blobs are stored under, in every backend.
//
// A key is 1 to 512 bytes of '/'-separated segments, each 1 to 128 of
// [A-Za-z0-9._-] and neither "." nor "..": no absolute paths, no empty or
// parent segments, nothing a file system or an S3 URL reads differently.
// So a key joined to the local store's root can never leave it.
//
// Thread-safety: pure functions.
#pragma once

#include <filesystem>
#include <string_view>

namespace huntaze::storage {

constexpr size_t kMaxKeyBytes = 512;
constexpr size_t kMaxKeySegmentBytes = 128;

bool valid_key(std::string_view key) noexcept;

// root / key. Throws std::invalid_argument for a key that is not valid_key().
std::filesystem::path path_under(const std::filesystem::path& root, std::string_view key);

}  // namespace huntaze::storage
