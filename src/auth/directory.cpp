#include "huntaze/auth/directory.hpp"

namespace huntaze::auth {

boost::asio::awaitable<std::vector<Uuid>> workspaces_created_before(db::Executor& db, SysTime before,
                                                                    std::optional<Uuid> after, int limit) {
  const db::Timestamp at(before);
  const int64_t n = limit;
  std::optional<db::Result> rows;
  if (after)
    rows.emplace(co_await db.query(
        "SELECT id FROM auth.workspaces WHERE created_at < $1 AND id > $2 ORDER BY id LIMIT $3", at, *after, n));
  else
    rows.emplace(co_await db.query("SELECT id FROM auth.workspaces WHERE created_at < $1 ORDER BY id LIMIT $2", at, n));
  std::vector<Uuid> out;
  for (const auto& r : *rows) out.push_back(r.get<Uuid>(0));
  co_return out;
}

}  // namespace huntaze::auth
