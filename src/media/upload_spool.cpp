#include "media/upload_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/core/log.hpp"

namespace huntaze::media {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Bytes gathered on the I/O thread before one hop to the pool hashes and
// writes them: large enough that hops are rare, small enough to be cheap.
constexpr size_t kBatch = 1 << 20;

// The open spool file; closes (and, unless kept, deletes) it on every path.
class SpoolFile {
 public:
  explicit SpoolFile(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    path_ = dir / ("upload-" + to_hex(crypto::random_bytes(12)));
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      log::error("cannot create an upload spool file", {{"dir", dir.string()}, {"error", std::strerror(errno)}});
      throw ApiError::unavailable("storage_unavailable", "the upload could not be stored; try again later");
    }
  }
  ~SpoolFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) {
      std::error_code ignored;
      fs::remove(path_, ignored);
    }
  }
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  // Blocking: call on the pool.
  void write(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        fail(errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  void sync_and_close() {
    if (::fsync(fd_) != 0) fail(errno);
    ::close(fd_);
    fd_ = -1;
  }
  fs::path keep() {
    kept_ = true;
    return path_;
  }

 private:
  [[noreturn]] void fail(int err) {
    log::error("cannot write an upload spool file", {{"file", path_.string()}, {"error", std::strerror(err)}});
    throw ApiError::unavailable("storage_unavailable", "the upload could not be stored; try again later");
  }
  fs::path path_;
  int fd_ = -1;
  bool kept_ = false;
};

}  // namespace

SpooledUpload::SpooledUpload(SpooledUpload&& other) noexcept
    : file_(std::move(other.file_)),
      size_(other.size_),
      sha256_(std::move(other.sha256_)),
      kind_(std::move(other.kind_)) {
  other.file_.clear();
}

SpooledUpload& SpooledUpload::operator=(SpooledUpload&& other) noexcept {
  if (this != &other) {
    std::error_code ignored;
    if (!file_.empty()) fs::remove(file_, ignored);
    file_ = std::move(other.file_);
    other.file_.clear();
    size_ = other.size_;
    sha256_ = std::move(other.sha256_);
    kind_ = std::move(other.kind_);
  }
  return *this;
}

SpooledUpload::~SpooledUpload() {
  if (!file_.empty()) {
    std::error_code ignored;
    fs::remove(file_, ignored);
  }
}

asio::awaitable<SpooledUpload> spool_upload(http::BodyReader& body, const fs::path& spool_dir, uint64_t max_bytes,
                                            Compute& compute) {
  if (auto length = body.content_length(); length && *length > max_bytes)
    throw ApiError(413, "body_too_large", "the file exceeds " + std::to_string(max_bytes) + " bytes");
  SpoolFile file(spool_dir);
  StreamingDigest digest(DigestKind::sha256);
  std::optional<Sniffed> kind;
  std::string batch;
  batch.reserve(kBatch);
  uint64_t total = 0;

  // Hashes and writes the batch on the pool; the first batch is sniffed
  // first, so a file that is no video is refused before anything is written.
  auto flush = [&]() -> asio::awaitable<void> {
    if (!kind) {
      kind = sniff(std::string_view(batch).substr(0, kSniffBytes));
      if (!kind)
        throw ApiError(415, "unsupported_media_type",
                       "the file is not a video in an accepted container (MP4, MOV, WebM, Matroska)");
    }
    co_await compute.run([&] {
      digest.update(batch);
      file.write(batch);
    });
    batch.clear();
  };

  for (;;) {
    const std::string_view piece = co_await body.read();
    if (piece.empty()) break;
    total += piece.size();
    if (total > max_bytes)
      throw ApiError(413, "body_too_large", "the file exceeds " + std::to_string(max_bytes) + " bytes");
    batch.append(piece);
    if (batch.size() >= kBatch) co_await flush();
  }
  if (total == 0) throw ApiError::bad_request("the upload is empty", {{"body", "empty"}});
  if (!batch.empty()) co_await flush();
  co_await compute.run([&] { file.sync_and_close(); });
  fs::path path = file.keep();
  co_return SpooledUpload(std::move(path), total, digest.finish(), std::move(*kind));
}

}  // namespace huntaze::media
