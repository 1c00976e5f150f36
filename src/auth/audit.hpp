// The security audit trail (auth.audit_log): append-only rows written in the
// same transaction as the change they record, so that an event is logged if
// and only if it happened.
//
// Thread-safety: free functions; the executor decides.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::auth {

// Where a request came from, for sessions and the audit trail.
struct ClientInfo {
  std::string ip;
  std::string user_agent;  // cut to 256 bytes of valid UTF-8
  std::string request_id;
};

struct AuditEvent {
  std::string event;  // snake_case: login_succeeded, api_key_created, ...
  std::optional<Uuid> workspace_id;
  std::optional<Uuid> user_id;        // whose account
  std::optional<Uuid> actor_user_id;  // who acted, when not the user
  std::optional<Uuid> api_key_id;
  boost::json::object details;
};

boost::asio::awaitable<void> record_audit(db::Executor& ex, SysTime at, const ClientInfo& client,
                                          const AuditEvent& event);

struct AuditPage {
  boost::json::array items;
  std::optional<int64_t> next_cursor;  // pass as before_id for the next page
};

// Newest first; exactly one of workspace_id / user_id is set.
boost::asio::awaitable<AuditPage> list_audit(db::Executor& ex, std::optional<Uuid> workspace_id,
                                             std::optional<Uuid> user_id, std::optional<int64_t> before_id,
                                             int limit);

}  // namespace huntaze::auth
