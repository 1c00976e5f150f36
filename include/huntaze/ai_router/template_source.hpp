// Where the `templates` provider finds a workspace's own canned replies: the
// content module serves its saved replies through this, so the offline
// fallback answers in the creator's words rather than generic ones.
//
// Thread-safety: implementations are called from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

namespace huntaze::ai_router {

class TemplateSource {
 public:
  virtual ~TemplateSource() = default;
  // The workspace's saved replies usable for `task` (may be empty).
  virtual boost::asio::awaitable<std::vector<std::string>> replies(const std::string& workspace,
                                                                   const std::string& task) = 0;
};

}  // namespace huntaze::ai_router
