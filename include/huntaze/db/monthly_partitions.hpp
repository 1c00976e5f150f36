// Monthly range partitions of one table: created ahead of time or on demand,
// and retired (dropped, or detached into an archive schema) past an age.
//
//   db::MonthlyPartitions messages(db, {.schema = "content", .table = "messages"});
//   co_await messages.ensure({std::chrono::year(2026) / std::chrono::November});
//   co_await messages.maintain({.now = now, .months_ahead = 2, .retire_before = cutoff,
//                               .archive_schema = "content_archive"});
//
// Partitions are named <schema>.<table>_YYYYMM and cover [first of the month,
// first of the next month) in UTC; the parent must be PARTITION BY RANGE on
// a timestamptz column. DDL cannot take bind parameters, so every name and
// bound is formatted from the identifiers checked at construction and from
// computed integers, never from input; partitions are found by parsing the
// catalog's names back into months (a partition attached by hand under
// another name is left alone).
//
// Creating, dropping or detaching a partition locks the parent table
// exclusively. Each pass sets a lock timeout (5 s), so that it gives up
// rather than queue behind a long query with every insert queued behind it.
//
// Thread-safety: safe from any coroutine; concurrent passes (several
// instances, the maintenance job and a writer) serialize on a
// transaction-scoped advisory lock named after the table.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::db {

struct PartitionedTable {
  std::string schema;  // lower-case SQL identifiers: [a-z_][a-z0-9_]*
  std::string table;
};

struct PartitionPass {
  SysTime now;
  // The month of `now` and this many after it are created if missing.
  int months_ahead = 2;
  // Partitions whose upper bound is before this instant are retired.
  std::optional<SysTime> retire_before;
  // Retired partitions are detached and moved into this schema (which must
  // exist) instead of dropped; "" drops them.
  std::string archive_schema;
};

struct PartitionPassResult {
  int created = 0;
  int retired = 0;
};

class MonthlyPartitions {
 public:
  // Throws std::invalid_argument for identifiers outside [a-z_][a-z0-9_]*.
  MonthlyPartitions(Database& db, PartitionedTable table);

  // Creates the partitions of these months (years 1970-9998) if missing;
  // returns how many were created.
  boost::asio::awaitable<int> ensure(const std::vector<std::chrono::year_month>& months);
  boost::asio::awaitable<PartitionPassResult> maintain(const PartitionPass& pass);
  // The months that have a partition now.
  boost::asio::awaitable<std::set<std::chrono::year_month>> list();

  // "<table>_YYYYMM", unqualified.
  std::string partition_name(std::chrono::year_month month) const;
  const PartitionedTable& table() const noexcept { return table_; }

 private:
  boost::asio::awaitable<PartitionPassResult> locked_pass(const std::vector<std::chrono::year_month>& create,
                                                          const PartitionPass* retire);

  Database& db_;
  PartitionedTable table_;
};

// The first instant after the month (the partition's upper bound).
SysTime month_end(std::chrono::year_month month);
// Whether a pass with this retire_before retires the month's partition:
// the one rule for callers that must not write into a month about to go.
bool retired(std::chrono::year_month month, SysTime retire_before);

}  // namespace huntaze::db
