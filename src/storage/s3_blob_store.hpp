// The BlobStore on S3-compatible object storage (AWS S3, MinIO, R2, …):
// SigV4-signed requests (sigv4.hpp) sent through the shared HttpClient.
//
//   S3BlobStore store(config, http_client, compute);   // config validate()d here
//   co_await store.put_file("media/ab/clip.mp4", "/tmp/upload-123", "video/mp4");
//
// Large files go up in parts (CreateMultipartUpload, UploadPart, Complete;
// Abort on any failure) and come down in ranged GETs, so one transfer holds at
// most part_size bytes in memory; reading and writing those pieces, and
// hashing them, runs on the compute pool. Failed requests are retried twice
// with backoff when S3 says so (5xx, SlowDown) or the connection failed;
// other failures throw StorageError with S3's <Code> and <Message> (never the
// secret key), 404 on a read throws BlobNotFound.
//
// Thread-safety: every method may be called concurrently from any thread; the
// object holds only its configuration. The HttpClient and Compute must
// outlive it.
#pragma once

#include "huntaze/core/compute.hpp"
#include "huntaze/http/client.hpp"
#include "huntaze/storage/blob_store.hpp"
#include "storage/s3_config.hpp"
#include "storage/s3_url.hpp"
#include "storage/sigv4.hpp"

namespace huntaze::storage {

class S3BlobStore final : public BlobStore {
 public:
  // Throws std::invalid_argument for a config validate() refuses.
  S3BlobStore(S3Config config, http::HttpClient& http, Compute& compute);

  std::string_view backend() const noexcept override { return "s3"; }

  boost::asio::awaitable<void> put_file(std::string key, std::filesystem::path source,
                                        std::string content_type) override;
  boost::asio::awaitable<void> put_bytes(std::string key, std::string bytes, std::string content_type) override;
  boost::asio::awaitable<LocalCopy> local_copy(std::string key) override;
  boost::asio::awaitable<std::optional<BlobInfo>> stat(std::string key) override;
  boost::asio::awaitable<void> remove(std::string key) override;

  std::string download_url(std::string_view key, std::chrono::system_clock::time_point expires,
                           std::string_view download_name) const override;
  std::optional<std::string> upload_url(std::string_view key, std::chrono::system_clock::time_point expires,
                                        std::string_view content_type) const override;

  // Attempts per request: the first and two retries.
  static constexpr int kAttempts = 3;

 private:
  struct Call;
  static Call head_call(const std::string& key);
  boost::asio::awaitable<http::ClientResponse> send(const Call& call);
  http::ClientRequest signed_request(const Call& call) const;
  [[noreturn]] void fail(const Call& call, const http::ClientResponse& response) const;

  boost::asio::awaitable<void> put_multipart(const std::string& key, const std::filesystem::path& source, uint64_t size,
                                             const std::string& content_type);
  std::string presign(std::string_view method, std::string_view key, sigv4::Params query, sigv4::Params extra_headers,
                      std::chrono::system_clock::time_point expires) const;
  std::string redact(std::string text) const;

  S3Config config_;
  S3Origin origin_;
  S3Origin public_origin_;
  http::HttpClient& http_;
  Compute& compute_;
};

}  // namespace huntaze::storage
