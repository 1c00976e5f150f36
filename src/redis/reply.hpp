// Conversions between hiredis' C types and the public Reply/Command types.
#pragma once

#include <cstddef>
#include <vector>

#include "huntaze/redis/redis.hpp"

struct redisReply;

namespace huntaze::redis::detail {

// A deep, binary-safe copy: hiredis frees its reply when the callback returns.
Reply to_reply(const redisReply& reply);

// The (argv, lengths) pair redisAsyncCommandArgv wants; views into `command`,
// which must outlive it.
class Argv {
 public:
  explicit Argv(const Command& command);
  int argc() const noexcept { return static_cast<int>(argv_.size()); }
  const char** argv() noexcept { return argv_.data(); }
  const size_t* lengths() const noexcept { return lengths_.data(); }

 private:
  std::vector<const char*> argv_;
  std::vector<size_t> lengths_;
};

}  // namespace huntaze::redis::detail
