// Receiving an upload: the request body is streamed into a spool file (never
// held whole in memory), hashed with SHA-256 on the way, sniffed from its
// first bytes and bounded in size. The spool file is then handed to the
// BlobStore (put_file takes it) or deleted.
//
// Ownership: SpooledUpload owns its file until release(); destroying it
// unreleased deletes the file, so no failure path leaves one behind.
// Thread-safety: one coroutine per upload; hashing and writing run on the
// compute pool a megabyte at a time.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <filesystem>
#include <string>

#include "huntaze/core/compute.hpp"
#include "huntaze/http/message.hpp"
#include "media/sniff.hpp"

namespace huntaze::media {

class SpooledUpload {
 public:
  SpooledUpload() = default;
  SpooledUpload(std::filesystem::path file, uint64_t size, std::string sha256, Sniffed kind)
      : file_(std::move(file)), size_(size), sha256_(std::move(sha256)), kind_(std::move(kind)) {}
  SpooledUpload(SpooledUpload&& other) noexcept;
  SpooledUpload& operator=(SpooledUpload&& other) noexcept;
  SpooledUpload(const SpooledUpload&) = delete;
  SpooledUpload& operator=(const SpooledUpload&) = delete;
  ~SpooledUpload();

  const std::filesystem::path& file() const noexcept { return file_; }
  uint64_t size() const noexcept { return size_; }
  const std::string& sha256() const noexcept { return sha256_; }  // raw 32 bytes
  const Sniffed& kind() const noexcept { return kind_; }
  // The caller has moved the file elsewhere (or will): no longer deleted here.
  void release() noexcept { file_.clear(); }

 private:
  std::filesystem::path file_;
  uint64_t size_ = 0;
  std::string sha256_;
  Sniffed kind_;
};

// Reads the whole body into a new file under `spool_dir` (created when
// missing), synced to disk before it returns. Throws ApiError: 400
// empty_upload, 413 body_too_large past `max_bytes`, 415
// unsupported_media_type when the first bytes are no accepted video
// container; plus what BodyReader::read throws.
boost::asio::awaitable<SpooledUpload> spool_upload(http::BodyReader& body, const std::filesystem::path& spool_dir,
                                                   uint64_t max_bytes, Compute& compute);

}  // namespace huntaze::media
