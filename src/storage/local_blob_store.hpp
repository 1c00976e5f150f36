// The local file-system backend of BlobStore: each key is a file under one
// root directory (blob_key.hpp guarantees no key escapes it). Writes go to a
// temporary name, are flushed to disk and renamed into place, so a crash
// leaves either the old blob or the new one, never half of one. Download
// links are signed with an HMAC (signed_url.hpp) and served by this binary
// (GET /api/v1/files/{key}, the media module's file route).
//
// Ownership: owns nothing but its settings; the files belong to the root.
// Thread-safety: safe from any coroutine; file work runs on the compute pool.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "huntaze/core/compute.hpp"
#include "huntaze/core/secret.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "storage/blob_key.hpp"
#include "storage/signed_url.hpp"

namespace huntaze::storage {

class LocalBlobStore final : public BlobStore {
 public:
  // Creates `root` when missing. `link_base` is what download URLs start with
  // (an origin such as https://api.example.com, or "" for a path-only URL).
  LocalBlobStore(std::filesystem::path root, Compute& compute, Secret link_key, std::string link_base);

  std::string_view backend() const noexcept override { return "local"; }
  boost::asio::awaitable<void> put_file(std::string key, std::filesystem::path source,
                                        std::string content_type) override;
  boost::asio::awaitable<void> put_bytes(std::string key, std::string bytes, std::string content_type) override;
  boost::asio::awaitable<LocalCopy> local_copy(std::string key) override;
  boost::asio::awaitable<std::optional<BlobInfo>> stat(std::string key) override;
  boost::asio::awaitable<void> remove(std::string key) override;
  // Local links carry no download name: the file route names the file after
  // its key's last segment.
  std::string download_url(std::string_view key, std::chrono::system_clock::time_point expires,
                           std::string_view download_name) const override;

  // For the file route: the link's verdict and, when ok, the file to serve.
  LinkCheck check_link(std::string_view key, std::string_view expires, std::string_view sig, int64_t now_unix) const;
  std::filesystem::path path_of(std::string_view key) const { return path_under(root_, key); }

 private:
  std::filesystem::path root_;
  Compute& compute_;
  Secret link_key_;
  std::string link_base_;
};

}  // namespace huntaze::storage
