// Where an S3 object lives: the origin parsed from the configured endpoint,
// the host and path of an object in path or virtual-hosted style, and the
// Content-Disposition a presigned download asks S3 to answer with.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace huntaze::storage {

struct S3Origin {
  std::string scheme;  // "http" or "https"
  // host[:port] as clients send it in Host: the port only when it is not the
  // scheme's default (so what is signed is what curl and browsers send).
  std::string authority;
};

// "http(s)://host[:port]" with an optional trailing '/', host a DNS name,
// IPv4 address or [IPv6] literal; nullopt for anything else (paths, queries,
// user info, other schemes).
std::optional<S3Origin> parse_s3_origin(std::string_view url);

// S3's bucket naming rules: 3-63 of [a-z0-9.-], starting and ending with a
// letter or digit, no "..", not an IPv4 address.
bool valid_bucket_name(std::string_view name);

struct S3Location {
  std::string host;  // the Host header to sign
  std::string path;  // raw: "/bucket/key" (path style) or "/key"
  std::string url;   // scheme://host + the encoded path, without a query
};

S3Location s3_location(const S3Origin& origin, std::string_view bucket, std::string_view key, bool path_style);

// `attachment; filename="…"` for a download name: the quoted name keeps
// printable ASCII except '"' and '\\' (each becomes '_'), and a name with
// other bytes also gets filename*=UTF-8''<percent-encoded> (RFC 6266), so no
// name can break out of the header or the quotes.
std::string attachment_disposition(std::string_view name);

}  // namespace huntaze::storage
