#include "ai_router/usage_query.hpp"

#include <stdexcept>

#include "huntaze/core/uuid.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;

namespace {

// One statement per kind of workspace filter rather than one with
// `($3 IS NULL OR ...)`: each is planned for its own index use, (at) for
// everything, (workspace_id, at) for one workspace or the platform.
// $1 from, $2 to, $3 workspace (uuid) where there is one.
#define USAGE_SELECT                                                                                        \
  "SELECT to_char(day, 'YYYY-MM-DD'), task, model, count(*), count(*) FILTER (WHERE cache_hit), "          \
  "sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cost_micros)::bigint, "                      \
  "count(*) FILTER (WHERE outcome NOT IN ('ok', 'cache_hit')) "                                            \
  "FROM (SELECT (at AT TIME ZONE 'UTC')::date AS day, task, model, cache_hit, input_tokens, output_tokens, " \
  "cost_micros, outcome FROM ai.usage WHERE at >= $1 AND at < $2"
#define USAGE_GROUP ") u GROUP BY day, task, model ORDER BY day, task, model"

constexpr const char* kUsageAll = USAGE_SELECT USAGE_GROUP;
constexpr const char* kUsagePlatform = USAGE_SELECT " AND workspace_id IS NULL" USAGE_GROUP;
constexpr const char* kUsageWorkspace = USAGE_SELECT " AND workspace_id = $3" USAGE_GROUP;

#undef USAGE_SELECT
#undef USAGE_GROUP

#define SPEND_SELECT "SELECT coalesce(sum(cost_micros), 0)::bigint FROM ai.usage WHERE at >= $1 AND at < $2"
constexpr const char* kSpendAll = SPEND_SELECT;
constexpr const char* kSpendPlatform = SPEND_SELECT " AND workspace_id IS NULL";
constexpr const char* kSpendWorkspace = SPEND_SELECT " AND workspace_id = $3";
#undef SPEND_SELECT

// Every workspace's spend and the platform's own (workspace_id NULL) in one
// scan of the range.
constexpr const char* kSpendByWorkspace =
    "SELECT workspace_id::text, sum(cost_micros)::bigint FROM ai.usage WHERE at >= $1 AND at < $2 "
    "GROUP BY workspace_id";

Uuid workspace_id(const std::string& text) {
  auto id = Uuid::parse(text);
  if (!id) throw std::invalid_argument("usage filter: workspace is not a UUID");
  return *id;
}

}  // namespace

asio::awaitable<std::vector<UsageRow>> query_usage(db::Executor& db, const UsageFilter& filter) {
  const db::Timestamp from = filter.from, to = filter.to;
  db::Result res;
  if (!filter.workspace) {
    res = co_await db.query(kUsageAll, from, to);
  } else if (filter.workspace->empty()) {
    res = co_await db.query(kUsagePlatform, from, to);
  } else {
    const Uuid id = workspace_id(*filter.workspace);
    res = co_await db.query(kUsageWorkspace, from, to, id);
  }
  std::vector<UsageRow> rows;
  rows.reserve(res.size());
  for (const auto& row : res) {
    UsageRow r;
    r.day = row.get<std::string>(0);
    r.task = row.get<std::string>(1);
    r.model = row.get<std::string>(2);
    r.calls = row.get<int64_t>(3);
    r.cache_hits = row.get<int64_t>(4);
    r.input_tokens = row.get<int64_t>(5);
    r.output_tokens = row.get<int64_t>(6);
    r.cost_micros = row.get<int64_t>(7);
    r.errors = row.get<int64_t>(8);
    rows.push_back(std::move(r));
  }
  co_return rows;
}

asio::awaitable<int64_t> spend_micros(db::Executor& db, std::optional<std::string> workspace, SysTime from,
                                      SysTime to) {
  const db::Timestamp f = from, t = to;
  db::Result res;
  if (!workspace) {
    res = co_await db.query(kSpendAll, f, t);
  } else if (workspace->empty()) {
    res = co_await db.query(kSpendPlatform, f, t);
  } else {
    const Uuid id = workspace_id(*workspace);
    res = co_await db.query(kSpendWorkspace, f, t, id);
  }
  co_return res.front().get<int64_t>(0);
}

asio::awaitable<SpendByWorkspace> spend_by_workspace(db::Executor& db, SysTime from, SysTime to) {
  const db::Timestamp f = from, t = to;
  db::Result res = co_await db.query(kSpendByWorkspace, f, t);
  SpendByWorkspace out;
  out.workspaces.reserve(res.size());
  for (const auto& row : res) {
    const auto workspace = row.get<std::optional<std::string>>(0);
    const int64_t spend = row.get<int64_t>(1);
    out.total += spend;
    if (workspace) out.workspaces.emplace_back(*workspace, spend);
  }
  co_return out;
}

}  // namespace huntaze::ai_router
