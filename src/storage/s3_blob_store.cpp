#include "storage/s3_blob_store.hpp"

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"
#include "huntaze/core/log.hpp"
#include "storage/blob_key.hpp"
#include "storage/s3_xml.hpp"

namespace huntaze::storage {

namespace asio = boost::asio;
using Kind = http::HttpClientError::Kind;

// One S3 request, kept whole so that each attempt can be signed afresh.
struct S3BlobStore::Call {
  std::string method;
  std::string key;
  sigv4::Params query;
  sigv4::Params headers;  // signed besides host, x-amz-date, x-amz-content-sha256
  std::string body;
  std::string payload_hash = std::string(sigv4::kEmptyPayloadHash);
  size_t max_response_bytes = 1 << 20;
  // CompleteMultipartUpload: S3 answers 200 at once and may report a failure
  // in the body later, so the body decides, and it may be quiet for minutes.
  bool error_in_body = false;
};

namespace {

constexpr size_t kMaxParts = 10000;
constexpr size_t kMaxObjectBytes = size_t{5} << 40;  // S3's limit: 5 TiB
constexpr std::string_view kDefaultContentType = "application/octet-stream";

std::string hex_sha256(std::string_view data) {
  return hex_digest(DigestKind::sha256, data);
}

std::string errno_text(int err) {
  return std::strerror(err);
}

// The whole of `len` bytes at `offset`, or StorageError (a short read means
// the file changed under us).
std::string read_range(const std::filesystem::path& path, uint64_t offset, size_t len) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw StorageError("cannot open " + path.string() + ": " + errno_text(errno));
  std::string buf(len, '\0');
  const bool ok = fseeko(f, static_cast<off_t>(offset), SEEK_SET) == 0 && std::fread(buf.data(), 1, len, f) == len;
  const int err = errno;
  std::fclose(f);
  if (!ok) throw StorageError("cannot read " + path.string() + " (did it change?): " + errno_text(err));
  return buf;
}

// A download in progress: deleted unless release()d.
class TempFile {
 public:
  explicit TempFile(std::filesystem::path path) : path_(std::move(path)) {
    // "x": fail rather than reuse a file someone else made there.
    file_ = std::fopen(path_.c_str(), "wbx");
    if (!file_) throw StorageError("cannot create " + path_.string() + ": " + errno_text(errno));
  }
  ~TempFile() {
    if (file_) std::fclose(file_);
    if (!released_) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
      throw StorageError("cannot write " + path_.string() + ": " + errno_text(errno));
  }
  void close() {
    std::FILE* f = std::exchange(file_, nullptr);
    if (std::fclose(f) != 0) throw StorageError("cannot write " + path_.string() + ": " + errno_text(errno));
  }
  std::filesystem::path release() {
    released_ = true;
    return path_;
  }

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  bool released_ = false;
};

void require_key(std::string_view key) {
  if (!valid_key(key)) throw std::invalid_argument("invalid blob key");
}

bool two_hundred(int status) {
  return status >= 200 && status < 300;
}

// What S3 (or a proxy before it) says may pass if asked again.
bool transient(const http::ClientResponse& r, bool error_in_body) {
  if (r.status >= 500 || r.status == 429) return true;
  if (r.status == 400 || (error_in_body && r.status == 200)) {
    const auto error = parse_s3_error(r.body);
    if (!error) return false;
    if (r.status == 200) return true;
    return error->code == "SlowDown" || error->code == "RequestTimeout";
  }
  return false;
}

bool transient(Kind kind) {
  return kind == Kind::connect || kind == Kind::timeout || kind == Kind::protocol;
}

// An ETag as S3 sends it: a quoted token ("\"9b2cf5…\""), one line.
bool plausible_etag(std::string_view etag) {
  if (etag.size() < 3 || etag.size() > 1024 || etag.front() != '"' || etag.back() != '"') return false;
  for (char c : etag)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return true;
}

// "bytes 0-9/1234" -> {0, 9, 1234}.
struct ContentRange {
  uint64_t first = 0, last = 0, total = 0;
};
std::optional<ContentRange> parse_content_range(std::string_view v) {
  if (!v.starts_with("bytes ")) return std::nullopt;
  v.remove_prefix(6);
  ContentRange r;
  auto number = [&v](uint64_t& out, char stop) {
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc()) return false;
    v.remove_prefix(static_cast<size_t>(end - v.data()));
    if (stop == '\0') return v.empty();
    if (v.empty() || v.front() != stop) return false;
    v.remove_prefix(1);
    return true;
  };
  if (!number(r.first, '-') || !number(r.last, '/') || !number(r.total, '\0') || r.last < r.first || r.last >= r.total)
    return std::nullopt;
  return r;
}

std::optional<uint64_t> parse_size(std::string_view v) {
  uint64_t out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

std::string range_header(uint64_t first, uint64_t last) {
  return "bytes=" + std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace

S3BlobStore::S3BlobStore(S3Config config, http::HttpClient& http, Compute& compute)
    : config_(std::move(config)), http_(http), compute_(compute) {
  validate(config_);
  origin_ = *parse_s3_origin(config_.endpoint);
  public_origin_ = config_.public_endpoint.empty() ? origin_ : *parse_s3_origin(config_.public_endpoint);
}

std::string S3BlobStore::redact(std::string text) const {
  // S3 never echoes the secret, but a misbehaving server or proxy could:
  // error messages go to logs and job records.
  static constexpr std::string_view kMark = "<redacted>";
  const std::string& secret = config_.secret_key.reveal();
  if (secret.empty()) return text;
  // The search goes on after the mark: a secret that occurs in the mark
  // itself would otherwise be found again forever.
  for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kMark.size()))
    text.replace(at, secret.size(), kMark);
  return text;
}

http::ClientRequest S3BlobStore::signed_request(const Call& call) const {
  const S3Location loc = s3_location(origin_, config_.bucket, call.key, config_.path_style);
  sigv4::Request r;
  r.method = call.method;
  r.path = loc.path;
  r.query = call.query;
  r.headers.emplace_back("host", loc.host);
  for (const auto& h : call.headers) r.headers.push_back(h);
  const auto now = std::chrono::system_clock::now();
  sigv4::add_auth_headers(r, now, call.payload_hash);
  const sigv4::Credentials credentials{config_.access_key, config_.secret_key.reveal(), config_.region};

  http::ClientRequest req;
  req.method = call.method;
  req.url = loc.url;
  if (!call.query.empty()) req.url += "?" + sigv4::canonical_query(call.query);
  // curl derives Host from the URL exactly as s3_location spelled it.
  for (auto& h : r.headers)
    if (h.first != "host") req.headers.push_back(h);
  req.headers.emplace_back("authorization", sigv4::authorization(r, credentials, now));
  req.body = call.body;
  req.total_timeout = config_.timeout;
  req.max_response_bytes = call.max_response_bytes;
  if (call.error_in_body) req.idle_timeout = std::chrono::milliseconds(0);
  return req;
}

void S3BlobStore::fail(const Call& call, const http::ClientResponse& response) const {
  std::string message = "S3 " + call.method + " " + call.key + ": HTTP " + std::to_string(response.status);
  if (const auto error = parse_s3_error(response.body)) {
    if (!error->code.empty()) message += " " + error->code;
    if (!error->message.empty()) message += ": " + error->message;
  }
  throw StorageError(redact(std::move(message)));
}

asio::awaitable<http::ClientResponse> S3BlobStore::send(const Call& call) {
  for (int attempt = 1;; ++attempt) {
    http::ClientRequest request = signed_request(call);
    std::optional<http::ClientResponse> response;
    std::string failure;
    bool retry = false;
    try {
      response = co_await http_.send(std::move(request));
    } catch (const http::HttpClientError& e) {
      if (e.kind() == Kind::cancelled) throw;
      failure = e.what();
      retry = transient(e.kind());
    }
    if (response) {
      retry = transient(*response, call.error_in_body);
      // The last attempt's answer goes to the caller, who reports it.
      if (!retry || attempt == kAttempts) co_return std::move(*response);
      failure = "HTTP " + std::to_string(response->status);
    } else if (!retry || attempt == kAttempts) {
      throw StorageError(redact("S3 " + call.method + " " + call.key + ": " + failure));
    }
    log::warn("s3 request failed, retrying",
              {{"method", call.method}, {"key", call.key}, {"attempt", attempt}, {"error", redact(failure)}});
    // 200 ms, then 800 ms: enough for a blip or a SlowDown, short enough
    // that a job gives up on a dead endpoint within seconds.
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(200) * (1 << (2 * (attempt - 1))));
    co_await timer.async_wait(asio::use_awaitable);
  }
}

S3BlobStore::Call S3BlobStore::head_call(const std::string& key) {
  Call head;
  head.method = "HEAD";
  head.key = key;
  // curl checks the limit against Content-Length even where no body follows.
  head.max_response_bytes = kMaxObjectBytes;
  return head;
}

asio::awaitable<void> S3BlobStore::put_bytes(std::string key, std::string bytes, std::string content_type) {
  require_key(key);
  Call call;
  call.method = "PUT";
  call.key = std::move(key);
  call.headers.emplace_back("content-type", content_type.empty() ? std::string(kDefaultContentType) : content_type);
  auto hash = [&bytes] { return hex_sha256(bytes); };
  call.payload_hash = co_await compute_.run_if(bytes.size() > Compute::kInlineBytes, hash);
  call.body = std::move(bytes);
  const http::ClientResponse response = co_await send(call);
  if (!two_hundred(response.status)) fail(call, response);
}

asio::awaitable<void> S3BlobStore::put_file(std::string key, std::filesystem::path source, std::string content_type) {
  require_key(key);
  if (content_type.empty()) content_type = kDefaultContentType;
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(source, ec);
  if (ec) throw StorageError("S3 put_file " + key + ": cannot read " + source.string() + ": " + ec.message());

  if (size < config_.multipart_threshold) {
    Call call;
    call.method = "PUT";
    call.key = key;
    call.headers.emplace_back("content-type", content_type);
    auto read = [&source, size] {
      std::string body = read_range(source, 0, static_cast<size_t>(size));
      std::string hash = hex_sha256(body);
      return std::make_pair(std::move(body), std::move(hash));
    };
    auto piece = co_await compute_.run(read);
    call.body = std::move(piece.first);
    call.payload_hash = std::move(piece.second);
    const http::ClientResponse response = co_await send(call);
    if (!two_hundred(response.status)) fail(call, response);
  } else {
    co_await put_multipart(key, source, size, content_type);
  }

  // Stored: the source is ours to delete. Failing to is not a failed upload.
  auto unlink = [&source] {
    std::error_code err;
    std::filesystem::remove(source, err);
    return err;
  };
  const std::error_code removed = co_await compute_.run(unlink);
  if (removed) log::warn("s3 upload stored but its source file remains", {{"key", key}, {"error", removed.message()}});
}

asio::awaitable<void> S3BlobStore::put_multipart(const std::string& key, const std::filesystem::path& source,
                                                 uint64_t size, const std::string& content_type) {
  // S3 takes at most 10,000 parts: a file past part_size * 10,000 goes in
  // larger parts (rounded up to whole MiB).
  uint64_t part_size = config_.part_size;
  if (size > part_size * kMaxParts) {
    constexpr uint64_t kMiB = 1 << 20;
    part_size = ((size + kMaxParts - 1) / kMaxParts + kMiB - 1) / kMiB * kMiB;
    if (part_size > kS3MaxPartSize) throw StorageError("S3 put_file " + key + ": file too large for S3");
  }

  Call create;
  create.method = "POST";
  create.key = key;
  create.query.emplace_back("uploads", "");
  create.headers.emplace_back("content-type", content_type);
  const http::ClientResponse created = co_await send(create);
  if (created.status != 200) fail(create, created);
  const std::string upload_id = xml_element_text(created.body, "UploadId").value_or("");
  if (upload_id.empty()) throw StorageError("S3 POST " + key + ": no UploadId in the CreateMultipartUpload answer");

  std::exception_ptr failure;
  try {
    std::vector<std::pair<int, std::string>> parts;
    int number = 1;
    for (uint64_t offset = 0; offset < size; offset += part_size, ++number) {
      const size_t len = static_cast<size_t>(std::min<uint64_t>(part_size, size - offset));
      auto read = [&source, offset, len] {
        std::string body = read_range(source, offset, len);
        std::string hash = hex_sha256(body);
        return std::make_pair(std::move(body), std::move(hash));
      };
      auto piece = co_await compute_.run(read);
      Call part;
      part.method = "PUT";
      part.key = key;
      part.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
      part.body = std::move(piece.first);
      part.payload_hash = std::move(piece.second);
      const http::ClientResponse uploaded = co_await send(part);
      if (uploaded.status != 200) fail(part, uploaded);
      std::string etag = uploaded.header("etag");
      if (!plausible_etag(etag))
        throw StorageError("S3 PUT " + key + ": part " + std::to_string(number) + " answered without a valid ETag");
      parts.emplace_back(number, std::move(etag));
    }

    Call complete;
    complete.method = "POST";
    complete.key = key;
    complete.query.emplace_back("uploadId", upload_id);
    complete.headers.emplace_back("content-type", "application/xml");
    complete.body = complete_multipart_xml(parts);
    complete.payload_hash = hex_sha256(complete.body);
    complete.error_in_body = true;
    const http::ClientResponse completed = co_await send(complete);
    if (completed.status != 200 || parse_s3_error(completed.body) ||
        !xml_element_text(completed.body, "CompleteMultipartUploadResult"))
      fail(complete, completed);
  } catch (...) {
    failure = std::current_exception();
  }
  if (!failure) co_return;

  // Without an abort the parts stay billed until a lifecycle rule removes them.
  Call abort;
  abort.method = "DELETE";
  abort.key = key;
  abort.query.emplace_back("uploadId", upload_id);
  std::string abort_failure;
  try {
    const http::ClientResponse aborted = co_await send(abort);
    if (!two_hundred(aborted.status) && aborted.status != 404) abort_failure = "HTTP " + std::to_string(aborted.status);
  } catch (const std::exception& e) {
    abort_failure = e.what();
  }
  if (!abort_failure.empty())
    log::warn("s3 multipart upload not aborted", {{"key", key}, {"error", redact(abort_failure)}});
  std::rethrow_exception(failure);
}

asio::awaitable<LocalCopy> S3BlobStore::local_copy(std::string key) {
  require_key(key);
  // Size and version first: an empty object has no range to ask for (S3
  // answers 416, some servers worse), and every piece must come from the
  // version measured here.
  Call head = head_call(key);
  const http::ClientResponse headed = co_await send(head);
  if (headed.status == 404) throw BlobNotFound("S3 HEAD " + key + ": no such blob");
  if (headed.status != 200) fail(head, headed);
  const auto total = parse_size(headed.header("content-length"));
  if (!total) throw StorageError("S3 HEAD " + key + ": no Content-Length in the answer");
  const std::string etag = headed.header("etag");

  std::filesystem::path dir = config_.temp_dir;
  if (dir.empty()) dir = std::filesystem::temp_directory_path();
  const std::filesystem::path path = dir / ("huntaze-s3-" + to_hex(crypto::random_bytes(12)) + ".download");
  auto create = [&path] { return std::make_unique<TempFile>(path); };
  std::unique_ptr<TempFile> file = co_await compute_.run(create);

  for (uint64_t offset = 0; offset < *total;) {
    const uint64_t len = std::min<uint64_t>(config_.part_size, *total - offset);
    const bool whole = offset == 0 && len == *total;
    Call get;
    get.method = "GET";
    get.key = key;
    if (!whole) get.headers.emplace_back("range", range_header(offset, offset + len - 1));
    if (!etag.empty()) get.headers.emplace_back("if-match", etag);
    // Room for an error body when the piece is tiny.
    get.max_response_bytes = static_cast<size_t>(len) + (64 << 10);
    http::ClientResponse response = co_await send(get);

    if (response.status == 404) throw BlobNotFound("S3 GET " + key + ": no such blob");
    if (response.status == 412) throw StorageError("S3 GET " + key + ": the blob changed while it was downloading");
    if (response.status != (whole ? 200 : 206)) fail(get, response);
    if (!whole) {
      const auto range = parse_content_range(response.header("content-range"));
      if (!range || range->first != offset || range->total != *total)
        throw StorageError("S3 GET " + key + ": the answer to a ranged GET does not match the range asked for");
    }
    if (response.body.size() != len)
      throw StorageError("S3 GET " + key + ": got " + std::to_string(response.body.size()) + " bytes of " +
                         std::to_string(len) + " (did the blob change?)");
    auto write = [&file, &response] { file->write(response.body); };
    co_await compute_.run(write);
    offset += len;
  }
  auto close = [&file] { file->close(); };
  co_await compute_.run(close);
  co_return LocalCopy(file->release(), /*temporary=*/true);
}

asio::awaitable<std::optional<BlobInfo>> S3BlobStore::stat(std::string key) {
  require_key(key);
  Call head = head_call(key);
  const http::ClientResponse response = co_await send(head);
  if (response.status == 404) co_return std::nullopt;
  if (response.status != 200) fail(head, response);
  const auto size = parse_size(response.header("content-length"));
  if (!size) throw StorageError("S3 HEAD " + head.key + ": no Content-Length in the answer");
  co_return BlobInfo{*size};
}

asio::awaitable<void> S3BlobStore::remove(std::string key) {
  require_key(key);
  Call del;
  del.method = "DELETE";
  del.key = std::move(key);
  const http::ClientResponse response = co_await send(del);
  // S3 answers 204 for an absent key too; other servers say 404.
  if (!two_hundred(response.status) && response.status != 404) fail(del, response);
}

std::string S3BlobStore::presign(std::string_view method, std::string_view key, sigv4::Params query,
                                 sigv4::Params extra_headers, std::chrono::system_clock::time_point expires) const {
  require_key(key);
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  // At least a second (a link already expired would still be well-formed),
  // at most the week S3 allows.
  const int64_t seconds =
      std::clamp<int64_t>(std::chrono::ceil<std::chrono::seconds>(expires - now).count(), 1, sigv4::kMaxPresignSeconds);
  const S3Location loc = s3_location(public_origin_, config_.bucket, key, config_.path_style);
  sigv4::Request r;
  r.method = std::string(method);
  r.path = loc.path;
  r.query = std::move(query);
  r.headers.emplace_back("host", loc.host);
  for (auto& h : extra_headers) r.headers.push_back(std::move(h));
  const sigv4::Credentials credentials{config_.access_key, config_.secret_key.reveal(), config_.region};
  return loc.url + "?" + sigv4::presign_query(r, credentials, now, seconds);
}

std::string S3BlobStore::download_url(std::string_view key, std::chrono::system_clock::time_point expires,
                                      std::string_view download_name) const {
  sigv4::Params query;
  if (!download_name.empty()) query.emplace_back("response-content-disposition", attachment_disposition(download_name));
  return presign("GET", key, std::move(query), {}, expires);
}

std::optional<std::string> S3BlobStore::upload_url(std::string_view key, std::chrono::system_clock::time_point expires,
                                                   std::string_view content_type) const {
  // Signed, so the uploader must send exactly this Content-Type.
  if (content_type.empty() || content_type.size() > 255) throw std::invalid_argument("invalid content type");
  for (char c : content_type)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) throw std::invalid_argument("invalid content type");
  sigv4::Params headers = {{"content-type", std::string(content_type)}};
  return presign("PUT", key, {}, std::move(headers), expires);
}

}  // namespace huntaze::storage
