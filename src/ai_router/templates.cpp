#include "ai_router/templates.hpp"

#include <functional>
#include <map>

namespace huntaze::ai_router {

const std::vector<std::string>& builtin_replies(std::string_view task) {
  static const std::map<std::string, std::vector<std::string>, std::less<>> replies{
      {"generate",
       {"Thank you so much for your message! I'll get back to you properly very soon.",
        "Hey! So glad you reached out. Give me a little moment and I'll reply properly.",
        "Aww, thanks for writing to me! I'm a bit busy right now but I'll answer you soon.",
        "Love hearing from you! I'll be back with a proper answer shortly."}},
      {"creative",
       {"New post coming soon, stay tuned!", "Something special is on its way this week.",
        "Thank you for all the love. More to come!"}},
  };
  static const std::vector<std::string> none;
  auto it = replies.find(task);
  return it == replies.end() ? none : it->second;
}

std::string pick_reply(const AiRequest& request, const std::vector<std::string>& replies) {
  if (replies.empty()) return {};
  std::string last_user;
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it)
    if (it->role == "user") {
      last_user = it->content;
      break;
    }
  const size_t h = std::hash<std::string>{}(request.workspace + '\n' + last_user);
  return replies[h % replies.size()];
}

}  // namespace huntaze::ai_router
