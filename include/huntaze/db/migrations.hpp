// Schema migrations: sql/NNNN_<area>_<what>.sql, applied in order, each once,
// each in its own transaction, recorded in public.schema_migrations with a
// SHA-256 checksum. An applied file that has changed since is an error. A
// session advisory lock makes concurrent starts of several instances safe:
// the first applies, the others wait and then find nothing to do.
//
// The files under sql/ are compiled into the binary, so a deployed process
// always carries the schema it was built for.
// Thread-safety: a Migrator is used by one coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "huntaze/db/database.hpp"

namespace huntaze::db {

struct Migration {
  int version = 0;    // NNNN
  std::string name;   // the file name, e.g. "0001_core_schemas.sql"
  std::string sql;
};

// The migrations compiled in from sql/, sorted by version.
const std::vector<Migration>& embedded_migrations();
// Reads NNNN_*.sql files from a directory (for tests and tooling); throws on
// a malformed name or a duplicate version.
std::vector<Migration> load_migrations(const std::string& directory);

struct MigrationStatus {
  int version = 0;
  std::string name;
  bool applied = false;
  std::optional<Timestamp> applied_at;
  // False when the applied checksum differs from the file's.
  bool checksum_matches = true;
};

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Migrator {
 public:
  Migrator(Database& db, std::vector<Migration> migrations);
  // Applies what is pending; returns how many were applied. Throws
  // MigrationError when an applied migration's checksum changed or a recorded
  // version is unknown to this binary (the database is newer than the code).
  asio::awaitable<int> apply();
  asio::awaitable<std::vector<MigrationStatus>> status();

 private:
  Database& db_;
  std::vector<Migration> migrations_;
};

}  // namespace huntaze::db
