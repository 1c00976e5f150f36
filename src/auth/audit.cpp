#include "auth/audit.hpp"

#include <boost/json.hpp>

#include "huntaze/core/time_format.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<void> record_audit(db::Executor& ex, SysTime at, const ClientInfo& client, const AuditEvent& event) {
  db::Json details{json::serialize(event.details)};
  co_await ex.query(
      "INSERT INTO auth.audit_log (at, event, workspace_id, user_id, actor_user_id, api_key_id, ip, request_id, "
      "details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      db::Timestamp(at), event.event, event.workspace_id, event.user_id, event.actor_user_id, event.api_key_id,
      client.ip, client.request_id, std::move(details));
}

asio::awaitable<AuditPage> list_audit(db::Executor& ex, std::optional<Uuid> workspace_id, std::optional<Uuid> user_id,
                                      std::optional<int64_t> before_id, int limit) {
  // One statement per filter so that each uses its partial index.
  const char* sql = workspace_id
                        ? "SELECT id, at, event, workspace_id, user_id, actor_user_id, api_key_id, ip, request_id, "
                          "details::text FROM auth.audit_log WHERE workspace_id = $1 AND id < $2 "
                          "ORDER BY id DESC LIMIT $3"
                        : "SELECT id, at, event, workspace_id, user_id, actor_user_id, api_key_id, ip, request_id, "
                          "details::text FROM auth.audit_log WHERE user_id = $1 AND id < $2 "
                          "ORDER BY id DESC LIMIT $3";
  const Uuid subject = workspace_id ? *workspace_id : user_id.value_or(Uuid{});
  const int64_t before = before_id.value_or(INT64_MAX);
  auto rows = co_await ex.query(sql, subject, before, static_cast<int64_t>(limit) + 1);
  AuditPage page;
  auto opt_id = [](const std::optional<Uuid>& id) -> json::value {
    return id ? json::value(id->str()) : json::value(nullptr);
  };
  size_t n = 0;
  for (const auto& row : rows) {
    if (n++ == static_cast<size_t>(limit)) {
      page.next_cursor = page.items.back().as_object().at("id").as_int64();
      break;
    }
    boost::system::error_code ec;
    json::value details = json::parse(row.get<std::string>(9), ec);
    page.items.push_back(json::object{{"id", row.get<int64_t>(0)},
                                      {"at", format_iso8601(row.get<db::Timestamp>(1))},
                                      {"event", row.get<std::string>(2)},
                                      {"workspace_id", opt_id(row.get<std::optional<Uuid>>(3))},
                                      {"user_id", opt_id(row.get<std::optional<Uuid>>(4))},
                                      {"actor_user_id", opt_id(row.get<std::optional<Uuid>>(5))},
                                      {"api_key_id", opt_id(row.get<std::optional<Uuid>>(6))},
                                      {"ip", row.get<std::string>(7)},
                                      {"request_id", row.get<std::string>(8)},
                                      {"details", ec ? json::value(json::object{}) : std::move(details)}});
  }
  co_return page;
}

}  // namespace huntaze::auth
