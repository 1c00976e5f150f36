#include "ai_router/prompt_samples.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "huntaze/jobs/batched_delete.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;

namespace {

// "data:image/jpeg;base64,... (123456 bytes)" would be the whole image; keep
// what tells a reviewer what was sent.
std::string describe_image(const std::string& url) {
  if (url.starts_with("data:")) {
    const auto comma = url.find(',');
    const std::string head = url.substr(0, std::min<size_t>(comma == std::string::npos ? url.size() : comma, 64));
    return head + " (" + std::to_string(url.size()) + " bytes)";
  }
  return url.substr(0, 512);
}

}  // namespace

std::string sample_request_json(const AiRequest& request) {
  boost::json::object out;
  out["task"] = request.task;
  boost::json::array messages;
  for (const auto& m : request.messages) {
    boost::json::object message;
    message["role"] = m.role;
    message["content"] = m.content;
    if (!m.image_urls.empty()) {
      boost::json::array images;
      for (const auto& url : m.image_urls) images.emplace_back(describe_image(url));
      message["images"] = std::move(images);
    }
    messages.emplace_back(std::move(message));
  }
  out["messages"] = std::move(messages);
  const auto& p = request.params;
  if (p.temperature) out["temperature"] = *p.temperature;
  if (p.top_p) out["top_p"] = *p.top_p;
  if (p.max_tokens) out["max_tokens"] = *p.max_tokens;
  if (p.seed) out["seed"] = *p.seed;
  if (!p.stop.empty()) {
    boost::json::array stop;
    for (const auto& s : p.stop) stop.emplace_back(s);
    out["stop"] = std::move(stop);
  }
  if (p.json) out["json"] = true;
  return boost::json::serialize(out);
}

asio::awaitable<int64_t> prune_prompt_samples(db::Database& db, SysTime now, std::chrono::hours retention,
                                              jobs::JobContext* job, int64_t batch) {
  static constexpr const char* kDelete = R"(
DELETE FROM ai.prompt_samples
 WHERE id IN (SELECT id FROM ai.prompt_samples WHERE at < $1 ORDER BY at LIMIT $2))";
  db::Params params{db::Timestamp(now - retention)};
  co_return co_await jobs::delete_in_batches(db, kDelete, std::move(params), batch, job);
}

}  // namespace huntaze::ai_router
