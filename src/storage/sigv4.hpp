// AWS Signature Version 4 for S3: the Authorization header of a request and
// presigned query URLs.
//
//   sigv4::Request r{.method = "GET", .path = "/bucket/clip.mp4"};
//   r.headers = {{"host", "s3.eu-west-1.amazonaws.com"}, {"range", "bytes=0-9"}};
//   sigv4::add_auth_headers(r, now, hex_sha256_of_body);  // x-amz-date, x-amz-content-sha256
//   send r.headers plus {"authorization", sigv4::authorization(r, credentials, now)}
//
// Paths and query parameters are given raw (unencoded): the canonical request
// and the URL the caller sends must encode them the same way, so the caller
// takes the encoded forms from uri_encode() and canonical_query().
// The service is always "s3": S3 encodes each path segment once (other AWS
// services encode twice), which is what canonical_uri() does.
//
// Thread-safety: pure functions; the time is a parameter.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huntaze::storage::sigv4 {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string_view access_key;
  std::string_view secret_key;
  std::string_view region;
};

// Hex SHA-256 of no bytes, and what a presigned URL signs instead of a hash.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct Request {
  std::string method;
  std::string path = "/";  // raw, starting with '/'
  Params query;            // raw names and values, in any order
  Params headers;          // the headers to sign, any case, in any order; must include host
  std::string payload_hash = std::string(kEmptyPayloadHash);
};
// S3 refuses presigned URLs valid for longer than a week.
inline constexpr int64_t kMaxPresignSeconds = 604800;

// "20130524T000000Z" (UTC, whole seconds).
std::string amz_date(std::chrono::system_clock::time_point t);

// AWS's UriEncode: A-Z a-z 0-9 - . _ ~ as they are, every other byte %XX
// with upper-case hex; '/' kept as it is unless encode_slash.
std::string uri_encode(std::string_view text, bool encode_slash = true);

// The path with each segment encoded (S3: once).
std::string canonical_uri(std::string_view path);
// Name-sorted "name=value" pairs, both encoded, joined by '&' ("name=" for
// an empty value). Also the query string to send.
std::string canonical_query(const Params& query);
// "20130524/us-east-1/s3/aws4_request"
std::string credential_scope(std::string_view date8, std::string_view region);

// The six lines AWS hashes: method, URI, query, headers (lower-cased names,
// sorted, values trimmed with inner runs of spaces folded, repeated names
// joined by ','), the signed header names, the payload hash.
std::string canonical_request(const Request& request);
// "host;range;x-amz-content-sha256;x-amz-date"
std::string signed_headers(const Request& request);
std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request);
// HMAC chain date -> region -> "s3" -> "aws4_request" over "AWS4" + secret; raw bytes.
std::string signing_key(std::string_view secret_key, std::string_view date8, std::string_view region);

// Adds x-amz-date (from `now`) and x-amz-content-sha256 (payload_hash, also
// stored in request.payload_hash) to request.headers.
void add_auth_headers(Request& request, std::chrono::system_clock::time_point now, std::string_view payload_hash);

// The Authorization header value for `request`, whose headers already hold
// x-amz-date for the same `now` (add_auth_headers).
std::string authorization(const Request& request, const Credentials& credentials,
                          std::chrono::system_clock::time_point now);

// The query string (without '?') of a presigned URL for `request`: its own
// query (e.g. response-content-disposition) plus X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and
// finally X-Amz-Signature. request.headers name what the holder of the URL
// must send (at least host); the payload is UNSIGNED-PAYLOAD. Throws
// std::invalid_argument unless 1 <= expires_seconds <= kMaxPresignSeconds.
std::string presign_query(const Request& request, const Credentials& credentials,
                          std::chrono::system_clock::time_point now, int64_t expires_seconds);

}  // namespace huntaze::storage::sigv4
