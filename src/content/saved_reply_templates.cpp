#include "content/saved_reply_templates.hpp"

#include "huntaze/core/uuid.hpp"

namespace huntaze::content {

boost::asio::awaitable<std::vector<std::string>> SavedReplyTemplates::replies(const std::string& workspace,
                                                                              const std::string& task) {
  std::vector<std::string> out;
  const auto id = Uuid::parse(workspace);
  if (!id || task != "generate") co_return out;
  auto rows = co_await db_.query(
      "SELECT body FROM content.saved_replies WHERE creator_id = $1 ORDER BY created_at, id LIMIT 100", *id);
  for (const auto& r : rows) out.push_back(r.get<std::string>(0));
  co_return out;
}

}  // namespace huntaze::content
