#include "ai_router/usage_partitions.hpp"

#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "ai_router/prompt_samples.hpp"
#include "ai_router/usage_log.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
using std::chrono::year_month;

namespace {

constexpr const char* kLockName = "ai.usage_partitions";
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
// Creating or dropping a partition takes an ACCESS EXCLUSIVE lock on
// ai.usage. Queued behind a long report, that request would in turn block
// every insert queued behind it; better to give up and try again later.
constexpr const char* kLockTimeout = "SET LOCAL lock_timeout = '5s'";
constexpr const char* kPartitions = R"(
SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'ai.usage'::regclass)";

// Years we format as four digits; anything else is no month of ours.
bool formattable(year_month m) {
  return m.ok() && static_cast<int>(m.year()) >= 1970 && static_cast<int>(m.year()) <= 9998;
}

std::string partition_name(year_month m) { return "usage_" + format_year_month(m); }

// "usage_YYYYMM" -> the month; nullopt for any other name (a partition an
// operator attached by hand is none of our business).
std::optional<year_month> parse_partition_name(std::string_view name) {
  constexpr std::string_view prefix = "usage_";
  if (name.size() != prefix.size() + 6 || name.substr(0, prefix.size()) != prefix) return std::nullopt;
  int digits[6];
  for (size_t i = 0; i < 6; ++i) {
    const char c = name[prefix.size() + i];
    if (c < '0' || c > '9') return std::nullopt;
    digits[i] = c - '0';
  }
  const int y = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
  const unsigned mo = static_cast<unsigned>(digits[4] * 10 + digits[5]);
  const year_month m{std::chrono::year(y), std::chrono::month(mo)};
  if (!formattable(m)) return std::nullopt;
  return m;
}

// A timestamptz literal for the first instant of the month, UTC.
std::string month_start_literal(year_month m) { return "'" + format_iso8601(month_start(m)) + "'"; }

std::string create_sql(year_month m) {
  const year_month next = m + std::chrono::months(1);
  // IF NOT EXISTS on top of the catalog check under the lock: harmless, and
  // it keeps a partition created by hand from failing the whole pass.
  return "CREATE TABLE IF NOT EXISTS ai." + partition_name(m) + " PARTITION OF ai.usage FOR VALUES FROM (" +
         month_start_literal(m) + ") TO (" + month_start_literal(next) + ")";
}

std::string drop_sql(year_month m) { return "DROP TABLE IF EXISTS ai." + partition_name(m); }

SysTime month_end(year_month m) { return month_start(m + std::chrono::months(1)); }

// One pass under the advisory lock: create what is missing of `create`,
// drop what expired at `expire_at` (when given).
// References: every caller names its arguments and awaits at once (GCC 12
// mishandles temporaries built inside a co_await expression).
asio::awaitable<std::pair<int, int>> locked_pass(
    db::Database& db, const std::vector<year_month>& create,
    const std::optional<std::pair<SysTime, std::chrono::hours>>& expire_at) {
  auto work = [&](db::Transaction& tx) -> asio::awaitable<std::pair<int, int>> {
    co_await tx.execute_script(kLockTimeout);
    co_await tx.query(kLock, kLockName);
    auto listed = co_await tx.query(kPartitions);
    std::set<year_month> existing;
    for (const auto& row : listed) {
      const auto name = row.get<std::string>(0);
      if (auto m = parse_partition_name(name)) existing.insert(*m);
    }
    int created = 0, dropped = 0;
    for (const auto& m : create) {
      if (!formattable(m) || existing.contains(m)) continue;
      const std::string ddl = create_sql(m);
      co_await tx.execute_script(ddl);
      existing.insert(m);
      ++created;
    }
    if (expire_at) {
      for (const auto& m : existing) {
        if (!usage_month_expired(m, expire_at->first, expire_at->second)) continue;
        const std::string ddl = drop_sql(m);
        co_await tx.execute_script(ddl);
        ++dropped;
      }
    }
    co_return std::pair<int, int>(created, dropped);
  };
  auto result = co_await db.transaction(work);
  if (result.first > 0 || result.second > 0)
    log::info("ai usage partitions maintained", {{"created", result.first}, {"dropped", result.second}});
  co_return result;
}

}  // namespace

year_month usage_month(SysTime t) { return utc_month(t); }

bool usage_month_expired(year_month month, SysTime now, std::chrono::hours retention) {
  return month_end(month) < now - std::chrono::duration_cast<std::chrono::microseconds>(retention);
}

asio::awaitable<std::pair<int, int>> maintain_usage_partitions(db::Database& db, SysTime now,
                                                               std::chrono::hours retention) {
  const year_month first = usage_month(now);
  const std::vector<year_month> months{first, first + std::chrono::months(1), first + std::chrono::months(2)};
  const std::optional<std::pair<SysTime, std::chrono::hours>> expire(std::in_place, now, retention);
  co_return co_await locked_pass(db, months, expire);
}

asio::awaitable<int> ensure_usage_partitions(db::Database& db, const std::vector<year_month>& months) {
  const std::optional<std::pair<SysTime, std::chrono::hours>> no_expiry;
  auto result = co_await locked_pass(db, months, no_expiry);
  co_return result.first;
}

void register_usage_jobs(jobs::JobRegistry& registry, db::Database& db, const Clock& clock,
                         const UsageLogConfig& config) {
  registry.add(
      kUsagePartitionsKind,
      [&db, &clock, retention = config.retention](jobs::JobContext&) -> asio::awaitable<void> {
        co_await maintain_usage_partitions(db, clock.now(), retention);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 5}});
  registry.add(
      kPromptSamplesPruneKind,
      [&db, &clock, retention = config.sample_retention](jobs::JobContext& job) -> asio::awaitable<void> {
        co_await prune_prompt_samples(db, clock.now(), retention, &job);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 5}});
}

}  // namespace huntaze::ai_router
