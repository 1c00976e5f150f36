#include "storage/s3_config.hpp"

#include <stdexcept>
#include <string>

#include "storage/s3_url.hpp"

namespace huntaze::storage {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw std::invalid_argument("storage.s3: " + message);
}

// Region and access key end up in the credential scope and the URL; S3's own
// are [a-z0-9-] and [A-Z0-9], compatible servers' a little wider.
bool token(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool ip_literal(const std::string& authority) {
  if (authority.starts_with('[')) return true;
  const std::string host = authority.substr(0, authority.find(':'));
  return host.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

void validate(const S3Config& c) {
  const auto origin = parse_s3_origin(c.endpoint);
  // The refused value is not echoed: an endpoint written with user info
  // (https://KEY:SECRET@host) would put the secret in the start-up error.
  if (!origin) fail("endpoint must be http(s)://host[:port], without user info or a path");
  if (!c.public_endpoint.empty() && !parse_s3_origin(c.public_endpoint))
    fail("public_endpoint must be empty or http(s)://host[:port], without user info or a path");
  if (!token(c.region)) fail("region must be 1-128 of [A-Za-z0-9._-] (e.g. eu-west-1)");
  if (!valid_bucket_name(c.bucket))
    fail("bucket '" + c.bucket +
         "' is not a valid S3 bucket name (3-63 of [a-z0-9.-], starting and ending with a "
         "letter or digit)");
  if (!c.path_style) {
    if (ip_literal(origin->authority)) fail("path_style: false needs an endpoint with a host name, not an address");
    if (c.bucket.find('.') != std::string::npos && origin->scheme == "https")
      fail("path_style: false with https needs a bucket name without '.' (TLS certificates do not cover it)");
  }
  if (!token(c.access_key)) fail("access_key must be 1-128 of [A-Za-z0-9._-]");
  if (c.secret_key.empty()) fail("secret_key must not be empty");
  if (c.part_size < kS3MinPartSize || c.part_size > kS3MaxPartSize)
    fail("part_size must be 5 MiB to 256 MiB, got " + std::to_string(c.part_size) + " bytes");
  // A single PUT holds the whole file in memory: never more than a part.
  if (c.multipart_threshold < 1 || c.multipart_threshold > c.part_size)
    fail("multipart_threshold must be 1 byte to part_size (one PUT is held in memory whole), got " +
         std::to_string(c.multipart_threshold) + " bytes");
  if (c.timeout < std::chrono::seconds(1)) fail("timeout must be at least 1s");
}

}  // namespace huntaze::storage
