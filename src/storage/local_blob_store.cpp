#include "storage/local_blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"
#include "huntaze/http/message.hpp"
#include "storage/blob_key.hpp"

namespace huntaze::storage {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what, const fs::path& path, int err) {
  throw StorageError(what + " " + path.filename().string() + ": " + std::strerror(err));
}

void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail("cannot sync directory", dir, err);
}

void make_parent(const fs::path& target) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) fail("cannot create directory for", target, ec.value());
}

// A name beside `target` that no other writer picks.
fs::path temporary_beside(const fs::path& target) {
  return target.parent_path() / ("." + target.filename().string() + "." + to_hex(crypto::random_bytes(6)) + ".tmp");
}

// Copies across file systems (the spool on another disk than the root).
void copy_durably(const fs::path& source, const fs::path& target) {
  const fs::path temp = temporary_beside(target);
  std::error_code ec;
  fs::copy_file(source, temp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(temp, ec);
    fail("cannot copy into", target, ec.value());
  }
  sync_file(temp);
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    fs::remove(temp, ec);
    fail("cannot rename into", target, err);
  }
}

}  // namespace

void sync_file(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", file, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail("cannot sync", file, err);
}

void write_file_atomically(const fs::path& target, std::string_view bytes) {
  make_parent(target);
  const fs::path temp = temporary_beside(target);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) fail("cannot create", temp, errno);
  size_t done = 0;
  int err = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(temp.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    fail("cannot write", target, err);
  }
  sync_directory(target.parent_path());
}

LocalBlobStore::LocalBlobStore(fs::path root, Compute& compute, Secret link_key, std::string link_base)
    : root_(std::move(root)), compute_(compute), link_key_(std::move(link_key)), link_base_(std::move(link_base)) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) throw StorageError("cannot create the storage root " + root_.string() + ": " + ec.message());
  root_ = fs::canonical(root_);
  while (!link_base_.empty() && link_base_.back() == '/') link_base_.pop_back();
}

asio::awaitable<void> LocalBlobStore::put_file(std::string key, fs::path source, std::string) {
  const fs::path target = path_under(root_, key);
  co_await compute_.run([&] {
    make_parent(target);
    if (::rename(source.c_str(), target.c_str()) == 0) {
      sync_directory(target.parent_path());
      return;
    }
    if (errno != EXDEV) fail("cannot move into", target, errno);
    copy_durably(source, target);
    sync_directory(target.parent_path());
    std::error_code ignored;
    fs::remove(source, ignored);
  });
}

asio::awaitable<void> LocalBlobStore::put_bytes(std::string key, std::string bytes, std::string) {
  const fs::path target = path_under(root_, key);
  co_await compute_.run([&] { write_file_atomically(target, bytes); });
}

asio::awaitable<LocalCopy> LocalBlobStore::local_copy(std::string key) {
  const fs::path path = path_under(root_, key);
  const bool found = co_await compute_.run([&] {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
  });
  if (!found) throw BlobNotFound("no blob " + key);
  co_return LocalCopy(path, false);
}

asio::awaitable<std::optional<BlobInfo>> LocalBlobStore::stat(std::string key) {
  const fs::path path = path_under(root_, key);
  co_return co_await compute_.run([&]() -> std::optional<BlobInfo> {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) return std::nullopt;
      fail("cannot read", path, ec.value());
    }
    return BlobInfo{.size = size};
  });
}

asio::awaitable<void> LocalBlobStore::remove(std::string key) {
  const fs::path path = path_under(root_, key);
  co_await compute_.run([&] {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) fail("cannot delete", path, ec.value());
    // Empty folders left behind go too (never the root itself).
    for (fs::path dir = path.parent_path(); dir != root_ && dir.string().size() > root_.string().size();
         dir = dir.parent_path()) {
      if (!fs::is_empty(dir, ec) || ec || !fs::remove(dir, ec)) break;
    }
  });
}

std::string LocalBlobStore::download_url(std::string_view key, std::chrono::system_clock::time_point expires,
                                         std::string_view) const {
  if (!valid_key(key)) throw std::invalid_argument("invalid blob key");
  const int64_t at = std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
  return link_base_ + "/api/v1/files/" + http::percent_encode(key) + "?" + sign_download(link_key_.reveal(), key, at);
}

LinkCheck LocalBlobStore::check_link(std::string_view key, std::string_view expires, std::string_view sig,
                                     int64_t now_unix) const {
  if (!valid_key(key)) return LinkCheck::malformed;
  return check_download(link_key_.reveal(), key, expires, sig, now_unix);
}

}  // namespace huntaze::storage
