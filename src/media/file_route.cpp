// GET /api/v1/files/{key}?expires=…&sig=… : a blob of the local store,
// reached through a signed link (no session: a <video> tag or an <img> can
// use it), with Range so browsers can seek in videos.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "huntaze/core/error.hpp"
#include "huntaze/http/byte_range.hpp"
#include "huntaze/http/json_api.hpp"
#include "media/routes.hpp"
#include "storage/local_blob_store.hpp"

namespace huntaze::media {

namespace asio = boost::asio;

namespace {

// Bytes read from disk (on the pool) per piece written to the client.
constexpr size_t kPiece = 256 * 1024;

std::string_view type_of(std::string_view key) {
  const size_t dot = key.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : key.substr(dot + 1);
  if (ext == "mp4") return "video/mp4";
  if (ext == "mov") return "video/quicktime";
  if (ext == "webm") return "video/webm";
  if (ext == "mkv") return "video/x-matroska";
  if (ext == "jpg") return "image/jpeg";
  return "application/octet-stream";
}

// An open file shared by the producer that streams it.
struct OpenFile {
  int fd = -1;
  uint64_t size = 0;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void register_file_route(http::Router& router, storage::LocalBlobStore& store, Compute& compute, const Clock& clock) {
  storage::LocalBlobStore* s = &store;
  Compute* c = &compute;
  const Clock* k = &clock;
  router.get("/api/v1/files/{key}", [s, c, k](http::Request& req) -> asio::awaitable<http::Response> {
    const std::string key(req.param("key"));
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(k->now().time_since_epoch()).count();
    switch (s->check_link(key, req.query_param("expires").value_or(""), req.query_param("sig").value_or(""), now)) {
      case storage::LinkCheck::ok:
        break;
      case storage::LinkCheck::expired:
        throw ApiError(403, "link_expired", "the link has expired; ask for a new one");
      default:
        throw ApiError(403, "invalid_link", "the link is not valid");
    }
    const std::filesystem::path path = s->path_of(key);
    auto open_it = [&path]() -> std::shared_ptr<OpenFile> {
      auto f = std::make_shared<OpenFile>();
      f->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat st {};
      if (f->fd < 0 || ::fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
      f->size = static_cast<uint64_t>(st.st_size);
      return f;
    };
    std::shared_ptr<OpenFile> file = co_await c->run(open_it);
    if (!file) throw ApiError::not_found("the file no longer exists");

    const http::RangeRequest range = http::parse_range(req.headers.get("Range"), file->size);
    if (range.answer == http::RangeAnswer::unsatisfiable) {
      http::Response res =
          http::error_response(416, "range_not_satisfiable", "the range is outside the file", req.request_id);
      res.headers.set("Content-Range", "bytes */" + std::to_string(file->size));
      co_return res;
    }
    const bool partial = range.answer == http::RangeAnswer::partial;
    const uint64_t first = partial ? range.range.first : 0;
    const uint64_t length = partial ? range.range.length() : file->size;
    http::Response res = http::Response::streamed(
        partial ? 206 : 200, std::string(type_of(key)),
        [file, c, first, length](http::BodyWriter& out) -> asio::awaitable<void> {
          std::string piece;
          for (uint64_t done = 0; done < length;) {
            const size_t want = static_cast<size_t>(std::min<uint64_t>(kPiece, length - done));
            const uint64_t offset = first + done;
            auto read_piece = [&piece, &file, want, offset]() {
              piece.resize(want);
              const ssize_t n = ::pread(file->fd, piece.data(), want, static_cast<off_t>(offset));
              piece.resize(n > 0 ? static_cast<size_t>(n) : 0);
            };
            co_await c->run(read_piece);
            // The file shrank under us: end the response short, which the
            // server turns into a closed connection (never padding).
            if (piece.empty()) co_return;
            co_await out.write(piece);
            done += piece.size();
          }
        });
    res.stream_length = length;
    res.headers.set("Accept-Ranges", "bytes");
    if (partial)
      res.headers.set("Content-Range", "bytes " + std::to_string(range.range.first) + "-" +
                                           std::to_string(range.range.last) + "/" + std::to_string(file->size));
    const std::string name = key.substr(key.rfind('/') + 1);
    res.headers.set("Content-Disposition", "inline; filename=\"" + name + "\"");
    res.headers.set("Cache-Control", "private, max-age=300");
    co_return res;
  });
}

}  // namespace huntaze::media
