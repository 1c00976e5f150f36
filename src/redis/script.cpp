#include "huntaze/core/digest.hpp"
#include "huntaze/redis/redis.hpp"

namespace huntaze::redis {

// Redis names scripts by the lower-case hex SHA-1 of their source.
Script::Script(std::string source) : source_(std::move(source)), sha1_(hex_digest(DigestKind::sha1, source_)) {}

}  // namespace huntaze::redis
