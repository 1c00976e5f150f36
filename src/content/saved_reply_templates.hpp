// The content module's side of the `templates` provider: a workspace's
// saved replies, for the offline fallback of the writing tasks.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include "huntaze/ai_router/template_source.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::content {

class SavedReplyTemplates final : public ai_router::TemplateSource {
 public:
  explicit SavedReplyTemplates(db::Database& db) : db_(db) {}
  // The workspace's saved replies (oldest first, at most 100) for the
  // `generate` task (they are replies to fans); nothing for other tasks
  // (captions are no chat replies; classify has no canned answer).
  boost::asio::awaitable<std::vector<std::string>> replies(const std::string& workspace,
                                                           const std::string& task) override;

 private:
  db::Database& db_;
};

}  // namespace huntaze::content
