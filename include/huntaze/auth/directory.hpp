// Read-only questions other modules may ask about workspaces, answered by
// the auth module (the owner of auth.*): billing walks every workspace.
//
// Thread-safety: free functions; the database decides.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::auth {

// Workspaces created before `before`, in id order after `after` (a keyset
// page), at most `limit`.
boost::asio::awaitable<std::vector<Uuid>> workspaces_created_before(db::Executor& db, SysTime before,
                                                                    std::optional<Uuid> after, int limit);

}  // namespace huntaze::auth
