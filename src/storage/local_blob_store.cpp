#include "storage/local_blob_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

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

// fsync(2) of a file by name: 0, or the errno.
int fsync_path(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? 0 : err;
}

void sync_file(const fs::path& file) {
  if (const int err = fsync_path(file)) fail("cannot sync", file, err);
}

// Creates the folders above `target` that are missing, and syncs the parent
// of each one made, so a new folder survives a crash as its file does.
void make_parent(const fs::path& target) {
  std::vector<fs::path> missing;
  for (fs::path dir = target.parent_path(); !dir.empty() && !fs::exists(dir); dir = dir.parent_path())
    missing.push_back(dir);
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    std::error_code ec;
    fs::create_directory(*it, ec);
    if (ec) fail("cannot create directory for", target, ec.value());
    sync_directory(it->parent_path());
  }
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
  int err = ec ? ec.value() : 0;
  const char* what = "cannot copy into";
  if (err == 0 && (err = fsync_path(temp)) != 0) what = "cannot sync a copy for";
  if (err == 0 && ::rename(temp.c_str(), target.c_str()) != 0) {
    err = errno;
    what = "cannot rename into";
  }
  if (err != 0) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    fail(what, target, err);
  }
}

// rename(2), made once more when a concurrent remove() took the empty
// folder between make_parent and the rename.
int rename_into(const fs::path& source, const fs::path& target) {
  if (::rename(source.c_str(), target.c_str()) == 0) return 0;
  if (errno != ENOENT || !fs::exists(source)) return errno;
  make_parent(target);
  return ::rename(source.c_str(), target.c_str()) == 0 ? 0 : errno;
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

}  // namespace

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
    // The upload's bytes reach the disk before its name does.
    sync_file(source);
    make_parent(target);
    const int err = rename_into(source, target);
    if (err == 0) {
      sync_directory(target.parent_path());
      return;
    }
    if (err != EXDEV) fail("cannot move into", target, err);
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
    const auto status = fs::status(path, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) fail("cannot read", path, ec.value());
    // A key that names a folder (the parent of other keys) is no blob.
    if (!fs::is_regular_file(status)) return std::nullopt;
    const auto size = fs::file_size(path, ec);
    if (ec) fail("cannot read", path, ec.value());
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
