// Blob storage: where uploaded videos and the images made from them live.
//
//   co_await store.put_file(key, spooled_upload, "video/mp4");
//   auto copy = co_await store.local_copy(key);     // a readable file for FFmpeg
//   std::string url = store.download_url(key, expires, "clip.mp4");
//
// Two backends implement it: the local file system (the default, under one
// root directory; src/storage/local_blob_store.hpp) and S3-compatible object
// storage (SigV4 over the shared HttpClient; src/storage/s3_blob_store.hpp).
// Keys are storage::valid_key() names (blob_key.hpp); every method refuses
// any other with std::invalid_argument before touching storage.
//
// Thread-safety: every method may be called from any coroutine on any thread,
// concurrently. Blocking file work runs on the compute pool, never on the
// caller's I/O thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace huntaze::storage {

// The backend could not be reached or refused an operation (network error,
// 5xx, full disk). Worth retrying later; a job fails its attempt with it.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The key names no blob.
class BlobNotFound : public StorageError {
 public:
  using StorageError::StorageError;
};

struct BlobInfo {
  uint64_t size = 0;
};

// A readable local file holding a blob's bytes. For the local backend it is
// the stored file itself; for S3 a temporary download that this object
// deletes when it is destroyed. Move-only.
class LocalCopy {
 public:
  LocalCopy() = default;
  LocalCopy(std::filesystem::path path, bool temporary) : path_(std::move(path)), temporary_(temporary) {}
  LocalCopy(LocalCopy&& other) noexcept : path_(std::move(other.path_)), temporary_(other.temporary_) {
    other.temporary_ = false;
  }
  LocalCopy& operator=(LocalCopy&& other) noexcept {
    if (this != &other) {
      discard();
      path_ = std::move(other.path_);
      temporary_ = other.temporary_;
      other.temporary_ = false;
    }
    return *this;
  }
  LocalCopy(const LocalCopy&) = delete;
  LocalCopy& operator=(const LocalCopy&) = delete;
  ~LocalCopy() { discard(); }

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void discard() noexcept {
    if (temporary_) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
    temporary_ = false;
  }
  std::filesystem::path path_;
  bool temporary_ = false;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // "local" or "s3": for logs, metrics and the API.
  virtual std::string_view backend() const noexcept = 0;

  // Stores the finished file `source` under `key` (replacing any blob there)
  // and takes it: on success `source` no longer exists (local: renamed into
  // place when on the same file system; S3: uploaded, in parts when large,
  // then deleted). On failure `source` is left for the caller to remove.
  virtual boost::asio::awaitable<void> put_file(std::string key, std::filesystem::path source,
                                                std::string content_type) = 0;

  // Stores a small object held in memory (a grid, a poster, a JSON file).
  virtual boost::asio::awaitable<void> put_bytes(std::string key, std::string bytes, std::string content_type) = 0;

  // The blob's bytes as a local file to read. Throws BlobNotFound.
  virtual boost::asio::awaitable<LocalCopy> local_copy(std::string key) = 0;

  // The blob's size, or nullopt when the key names nothing.
  virtual boost::asio::awaitable<std::optional<BlobInfo>> stat(std::string key) = 0;

  // Deletes the blob; deleting an absent key succeeds (so retries are safe).
  virtual boost::asio::awaitable<void> remove(std::string key) = 0;

  // A URL a browser can GET the blob from until `expires`, without a session:
  // the local backend's is served by this binary (/api/v1/files/…, an HMAC in
  // the query, Range supported); S3's is a presigned GET. `download_name`,
  // when not empty, asks for Content-Disposition: attachment with that name.
  virtual std::string download_url(std::string_view key, std::chrono::system_clock::time_point expires,
                                   std::string_view download_name) const = 0;

  // A presigned PUT URL for uploading straight to storage, or nullopt when
  // the backend has none (local: uploads go through POST /api/v1/media).
  virtual std::optional<std::string> upload_url(std::string_view /*key*/,
                                                std::chrono::system_clock::time_point /*expires*/,
                                                std::string_view /*content_type*/) const {
    return std::nullopt;
  }
};

}  // namespace huntaze::storage
