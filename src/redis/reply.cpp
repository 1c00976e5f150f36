#include "redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace huntaze::redis::detail {

Reply to_reply(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) out.elements.push_back(to_reply(*r.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

Argv::Argv(const Command& command) {
  argv_.reserve(command.size());
  lengths_.reserve(command.size());
  for (const auto& arg : command) {
    argv_.push_back(arg.data());
    lengths_.push_back(arg.size());
  }
}

}  // namespace huntaze::redis::detail
