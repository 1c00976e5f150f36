// Configuration of the S3-compatible blob store (storage.s3 in the YAML file;
// parsed elsewhere into this struct, then checked with validate()).
//
// Thread-safety: a plain value.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "huntaze/core/secret.hpp"

namespace huntaze::storage {

struct S3Config {
  // Where this binary sends requests: "https://s3.eu-west-1.amazonaws.com",
  // "http://127.0.0.1:9000". Scheme and host[:port] only (no path).
  std::string endpoint;
  // The origin browsers use for presigned URLs when it differs from
  // `endpoint` (a storage server reached through another name); "" = endpoint.
  std::string public_endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  std::string access_key;
  Secret secret_key;
  // true: https://host/bucket/key (MinIO and most S3-compatible servers);
  // false: https://bucket.host/key (AWS's virtual-hosted style).
  bool path_style = true;
  // Multipart piece size, and the size of each ranged GET of local_copy:
  // what one transfer holds in memory (twice, while a retry keeps a copy):
  // 5 MiB to 256 MiB.
  size_t part_size = 16 << 20;
  // Files of at least this size are uploaded in parts; smaller ones in one
  // PUT (held in memory whole): at most part_size.
  size_t multipart_threshold = 16 << 20;
  // The limit for one request (one part, one range): generous, a part of
  // part_size bytes must fit through a slow link.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Where local_copy downloads to; "" = the system's temporary directory.
  std::string temp_dir;
};

inline constexpr size_t kS3MinPartSize = size_t{5} << 20;
// S3 allows 5 GiB parts; ours stay far below, since a part (and one retry's
// copy of it) is held in memory.
inline constexpr size_t kS3MaxPartSize = size_t{256} << 20;

// Throws std::invalid_argument naming the field and the rule for: an endpoint
// that is not http(s)://host[:port] (public_endpoint likewise when set), an
// empty region or access key, a region or access key with characters S3
// would not accept, a bucket name S3 would refuse, an empty secret key,
// part_size outside 5 MiB..256 MiB, multipart_threshold above part_size, a timeout below one second. Never shows the secret key.
void validate(const S3Config& config);

}  // namespace huntaze::storage
