#include "storage/sigv4.hpp"

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"
#include "huntaze/core/strings.hpp"
#include "huntaze/http/message.hpp"

namespace huntaze::storage::sigv4 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// Trimmed, with each run of spaces inside folded to one (AWS's Trimall).
std::string trim_all(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\t') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  return out;
}

// Lower-cased names, sorted; values of a repeated name joined by ',' in the
// order given.
std::vector<std::pair<std::string, std::string>> canonical_headers(const Params& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : headers) {
    std::string lower = ascii_lower(trim(name));
    std::string v = trim_all(value);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& h) { return h.first == lower; });
    if (it == out.end()) {
      out.emplace_back(std::move(lower), std::move(v));
    } else {
      it->second += ',';
      it->second += v;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string header_names(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& h : headers) {
    if (!out.empty()) out += ';';
    out += h.first;
  }
  return out;
}

std::string signature(const Request& request, const Credentials& credentials, std::string_view date) {
  const std::string_view date8 = date.substr(0, 8);
  const std::string scope = credential_scope(date8, credentials.region);
  const std::string to_sign = string_to_sign(date, scope, canonical_request(request));
  return to_hex(crypto::hmac_sha256(signing_key(credentials.secret_key, date8, credentials.region), to_sign));
}

}  // namespace

std::string amz_date(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

std::string uri_encode(std::string_view text, bool encode_slash) {
  // AWS's UriEncode is RFC 3986's: http::percent_encode, with '/' kept in
  // paths.
  if (encode_slash) return http::percent_encode(text);
  std::string out;
  for (size_t from = 0;;) {
    const size_t slash = text.find('/', from);
    out += http::percent_encode(text.substr(from, slash == std::string_view::npos ? slash : slash - from));
    if (slash == std::string_view::npos) return out;
    out += '/';
    from = slash + 1;
  }
}

std::string canonical_uri(std::string_view path) {
  if (path.empty()) return "/";
  return uri_encode(path, /*encode_slash=*/false);
}

std::string canonical_query(const Params& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name), uri_encode(value));
  // By encoded name, then value: byte order, as AWS sorts.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string credential_scope(std::string_view date8, std::string_view region) {
  std::string out;
  out.append(date8).append("/").append(region).append("/s3/aws4_request");
  return out;
}

std::string signed_headers(const Request& request) {
  return header_names(canonical_headers(request.headers));
}

std::string canonical_request(const Request& request) {
  const auto headers = canonical_headers(request.headers);
  std::string out;
  out.append(request.method).append("\n");
  out.append(canonical_uri(request.path)).append("\n");
  out.append(canonical_query(request.query)).append("\n");
  for (const auto& [name, value] : headers) out.append(name).append(":").append(value).append("\n");
  out.append("\n");
  out.append(header_names(headers)).append("\n");
  out.append(request.payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  std::string out;
  out.append(kAlgorithm).append("\n");
  out.append(amz_date).append("\n");
  out.append(scope).append("\n");
  out.append(hex_digest(DigestKind::sha256, canonical_request));
  return out;
}

std::string signing_key(std::string_view secret_key, std::string_view date8, std::string_view region) {
  std::string seed = "AWS4";
  seed.append(secret_key);
  const std::string k_date = crypto::hmac_sha256(seed, date8);
  const std::string k_region = crypto::hmac_sha256(k_date, region);
  const std::string k_service = crypto::hmac_sha256(k_region, "s3");
  return crypto::hmac_sha256(k_service, "aws4_request");
}

void add_auth_headers(Request& request, std::chrono::system_clock::time_point now, std::string_view payload_hash) {
  request.payload_hash = std::string(payload_hash);
  request.headers.emplace_back("x-amz-date", amz_date(now));
  request.headers.emplace_back("x-amz-content-sha256", std::string(payload_hash));
}

std::string authorization(const Request& request, const Credentials& credentials,
                          std::chrono::system_clock::time_point now) {
  const std::string date = amz_date(now);
  std::string out(kAlgorithm);
  out.append(" Credential=").append(credentials.access_key).append("/");
  out.append(credential_scope(std::string_view(date).substr(0, 8), credentials.region));
  out.append(",SignedHeaders=").append(signed_headers(request));
  out.append(",Signature=").append(signature(request, credentials, date));
  return out;
}

std::string presign_query(const Request& request, const Credentials& credentials,
                          std::chrono::system_clock::time_point now, int64_t expires_seconds) {
  if (expires_seconds < 1 || expires_seconds > kMaxPresignSeconds)
    throw std::invalid_argument("presigned URL lifetime must be 1 to 604800 seconds");
  const std::string date = amz_date(now);
  Request signing = request;
  signing.payload_hash = std::string(kUnsignedPayload);
  signing.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  std::string credential(credentials.access_key);
  credential.append("/").append(credential_scope(std::string_view(date).substr(0, 8), credentials.region));
  signing.query.emplace_back("X-Amz-Credential", std::move(credential));
  signing.query.emplace_back("X-Amz-Date", date);
  signing.query.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  signing.query.emplace_back("X-Amz-SignedHeaders", signed_headers(request));
  std::string out = canonical_query(signing.query);
  // The signature covers every other parameter, so it comes last, unsigned.
  out.append("&X-Amz-Signature=").append(signature(signing, credentials, date));
  return out;
}

}  // namespace huntaze::storage::sigv4
