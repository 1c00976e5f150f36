#include "huntaze/db/monthly_partitions.hpp"

#include <stdexcept>
#include <string_view>

#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::db {

namespace asio = boost::asio;
using std::chrono::year_month;

namespace {

constexpr const char* kLock = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
constexpr const char* kLockTimeout = "SET LOCAL lock_timeout = '5s'";
constexpr const char* kPartitions = R"(
SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = $1::regclass)";

bool identifier(std::string_view s) {
  if (s.empty() || s.size() > 40) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Years we format as four digits; anything else is no month of ours.
bool formattable(year_month m) {
  return m.ok() && static_cast<int>(m.year()) >= 1970 && static_cast<int>(m.year()) <= 9998;
}

// "<table>_YYYYMM" -> the month; nullopt for any other name.
std::optional<year_month> parse_partition_name(std::string_view table, std::string_view name) {
  if (name.size() != table.size() + 7 || name.substr(0, table.size()) != table || name[table.size()] != '_')
    return std::nullopt;
  int digits[6];
  for (size_t i = 0; i < 6; ++i) {
    const char c = name[table.size() + 1 + i];
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

}  // namespace

SysTime month_end(year_month m) { return month_start(m + std::chrono::months(1)); }

bool retired(year_month m, SysTime retire_before) { return month_end(m) < retire_before; }

MonthlyPartitions::MonthlyPartitions(Database& db, PartitionedTable table) : db_(db), table_(std::move(table)) {
  if (!identifier(table_.schema) || !identifier(table_.table))
    throw std::invalid_argument("monthly partitions: bad table name " + table_.schema + "." + table_.table);
}

std::string MonthlyPartitions::partition_name(year_month m) const {
  return table_.table + "_" + format_year_month(m);
}

asio::awaitable<int> MonthlyPartitions::ensure(const std::vector<year_month>& months) {
  auto result = co_await locked_pass(months, nullptr);
  co_return result.created;
}

asio::awaitable<PartitionPassResult> MonthlyPartitions::maintain(const PartitionPass& pass) {
  if (!pass.archive_schema.empty() && !identifier(pass.archive_schema))
    throw std::invalid_argument("monthly partitions: bad archive schema " + pass.archive_schema);
  std::vector<year_month> months;
  const year_month first = utc_month(pass.now);
  for (int i = 0; i <= std::max(0, pass.months_ahead); ++i) months.push_back(first + std::chrono::months(i));
  co_return co_await locked_pass(months, &pass);
}

asio::awaitable<std::set<year_month>> MonthlyPartitions::list() {
  const std::string parent = table_.schema + "." + table_.table;
  auto rows = co_await db_.query(kPartitions, parent);
  std::set<year_month> months;
  for (const auto& row : rows)
    if (auto m = parse_partition_name(table_.table, row.get<std::string>(0))) months.insert(*m);
  co_return months;
}

// References: every caller names its arguments and awaits at once (GCC 12
// mishandles temporaries built inside a co_await expression).
asio::awaitable<PartitionPassResult> MonthlyPartitions::locked_pass(const std::vector<year_month>& create,
                                                                    const PartitionPass* retire) {
  const std::string parent = table_.schema + "." + table_.table;
  auto work = [&](Transaction& tx) -> asio::awaitable<PartitionPassResult> {
    co_await tx.execute_script(kLockTimeout);
    co_await tx.query(kLock, parent);
    auto listed = co_await tx.query(kPartitions, parent);
    std::set<year_month> existing;
    for (const auto& row : listed)
      if (auto m = parse_partition_name(table_.table, row.get<std::string>(0))) existing.insert(*m);
    PartitionPassResult result;
    for (const auto& m : create) {
      if (!formattable(m) || existing.contains(m)) continue;
      // No IF NOT EXISTS: the catalog was read under the lock, and a table of
      // that name that is no partition (detached by hand) fails the pass
      // rather than being reused.
      const std::string ddl = "CREATE TABLE " + table_.schema + "." + partition_name(m) + " PARTITION OF " + parent +
                              " FOR VALUES FROM (" + month_start_literal(m) + ") TO (" +
                              month_start_literal(m + std::chrono::months(1)) + ")";
      co_await tx.execute_script(ddl);
      existing.insert(m);
      ++result.created;
    }
    if (retire && retire->retire_before) {
      for (const auto& m : existing) {
        if (!retired(m, *retire->retire_before)) continue;
        const std::string qualified = table_.schema + "." + partition_name(m);
        std::string ddl;
        if (retire->archive_schema.empty()) {
          ddl = "DROP TABLE IF EXISTS " + qualified;
        } else {
          // A month archived before (and created again after the archive
          // age was raised then lowered) keeps its name; this one gets the
          // pass's time as a suffix instead of failing every pass.
          const std::string archived = retire->archive_schema + "." + partition_name(m);
          auto clash = co_await tx.query("SELECT to_regclass($1) IS NOT NULL", archived);
          std::string name = partition_name(m), rename;
          if (clash.front().get<bool>(0)) {
            const std::string suffix = "_" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                                retire->now.time_since_epoch())
                                                                .count());
            name += suffix;
            rename = "; ALTER TABLE " + qualified + " RENAME TO " + name;
            // Index names are unique per schema too: the table's indexes take
            // the suffix as well (format's %I quotes the catalog's names).
            auto renames = co_await tx.query(
                "SELECT format('ALTER INDEX %I.%I RENAME TO %I', schemaname, indexname, indexname || $3) "
                "FROM pg_indexes WHERE schemaname = $1 AND tablename = $2",
                table_.schema, partition_name(m), suffix);
            for (const auto& r : renames) rename += "; " + r.get<std::string>(0);
          }
          const std::string moved = table_.schema + "." + name;
          ddl = "ALTER TABLE " + parent + " DETACH PARTITION " + qualified + rename + "; ALTER TABLE " + moved +
                " SET SCHEMA " + retire->archive_schema;
        }
        co_await tx.execute_script(ddl);
        ++result.retired;
      }
    }
    co_return result;
  };
  auto result = co_await db_.transaction(work);
  if (result.created > 0 || result.retired > 0)
    log::info("partitions maintained",
              {{"table", parent}, {"created", result.created}, {"retired", result.retired}});
  co_return result;
}

}  // namespace huntaze::db
