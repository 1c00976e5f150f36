#include "huntaze/db/migrations.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "huntaze/core/digest.hpp"
#include "huntaze/core/log.hpp"

namespace huntaze::db {

namespace {

// pg_advisory_xact_lock key shared by every Huntaze instance: "huntaze" + 0x01.
constexpr int64_t kMigrationLock = 0x68756e74617a6501;

// A migration (or the wait for another instance's) may legitimately outlast
// the pool's statement_timeout.
constexpr std::string_view kNoTimeout = "SET LOCAL statement_timeout = 0";

constexpr std::string_view kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS public.schema_migrations (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  checksum   text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

std::string sha256_hex(std::string_view data) { return hex_digest(DigestKind::sha256, data); }

// "0003_auth_users.sql" -> 3; nullopt when the name is not NNNN_<what>.sql.
std::optional<int> version_of(const std::string& name) {
  const auto underscore = name.find('_');
  if (underscore == std::string::npos || underscore < 4 || underscore > 9) return std::nullopt;
  if (name.size() <= underscore + 1 + 4 || !name.ends_with(".sql")) return std::nullopt;
  int version = 0;
  for (size_t i = 0; i < underscore; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    version = version * 10 + (name[i] - '0');
  }
  if (version <= 0) return std::nullopt;
  return version;
}

// Builds a parameter list outside the co_await expression: GCC 12 cannot
// compile a braced list inside one ("array used as initializer").
template <class... A>
Params params(A&&... args) {
  Params p;
  p.reserve(sizeof...(A));
  (p.emplace_back(std::forward<A>(args)), ...);
  return p;
}

struct Recorded {
  std::string name;
  std::string checksum;
  std::optional<Timestamp> applied_at;
};

asio::awaitable<std::map<int, Recorded>> recorded(Executor& db) {
  std::map<int, Recorded> out;
  auto exists = co_await db.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL");
  if (!exists.front().get<bool>(0)) co_return out;
  auto rows = co_await db.query("SELECT version, name, checksum, applied_at FROM public.schema_migrations");
  for (const auto& row : rows)
    out[row.get<int32_t>(0)] = Recorded{row.get<std::string>(1), row.get<std::string>(2), row.get<Timestamp>(3)};
  co_return out;
}

}  // namespace

std::vector<Migration> load_migrations(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) throw MigrationError("migrations directory " + directory + " not found");
  std::map<int, Migration> by_version;
  for (const auto& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    const auto version = version_of(name);
    if (!version) throw MigrationError("migration " + name + ": the name must be NNNN_<what>.sql");
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream sql;
    sql << in.rdbuf();
    if (!in) throw MigrationError("migration " + name + ": cannot read it");
    auto [it, inserted] = by_version.emplace(*version, Migration{*version, name, sql.str()});
    if (!inserted)
      throw MigrationError("migrations " + it->second.name + " and " + name + " share version " +
                           std::to_string(*version));
  }
  std::vector<Migration> out;
  for (auto& [version, m] : by_version) out.push_back(std::move(m));
  return out;
}

Migrator::Migrator(Database& db, std::vector<Migration> migrations) : db_(db), migrations_(std::move(migrations)) {
  std::sort(migrations_.begin(), migrations_.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (size_t i = 1; i < migrations_.size(); ++i)
    if (migrations_[i].version == migrations_[i - 1].version)
      throw MigrationError("migrations " + migrations_[i - 1].name + " and " + migrations_[i].name + " share version " +
                           std::to_string(migrations_[i].version));
}

asio::awaitable<int> Migrator::apply() {
  // Every step that reads or writes schema_migrations holds the advisory
  // lock for its transaction, so concurrent instances take turns: each
  // migration is applied exactly once, and in order.
  co_await db_.transaction([](Transaction& tx) -> asio::awaitable<void> {
    co_await tx.execute_script(kNoTimeout);
    co_await tx.query("SELECT pg_advisory_xact_lock($1)", params(kMigrationLock));
    co_await tx.execute_script(kCreateTable);
  });

  const auto applied = co_await recorded(db_);
  std::map<int, const Migration*> known;
  for (const auto& m : migrations_) known[m.version] = &m;
  for (const auto& [version, r] : applied) {
    auto it = known.find(version);
    if (it == known.end())
      throw MigrationError("the database has migration " + std::to_string(version) + " (" + r.name +
                           ") which this binary does not know: the database is newer than the code");
    if (sha256_hex(it->second->sql) != r.checksum)
      throw MigrationError("migration " + it->second->name + " was changed after it was applied (checksum mismatch)");
  }

  int count = 0;
  for (const auto& m : migrations_) {
    if (applied.contains(m.version)) continue;
    const std::string checksum = sha256_hex(m.sql);
    std::optional<std::string> failure;
    bool done = false;
    try {
      done = co_await db_.transaction([&](Transaction& tx) -> asio::awaitable<bool> {
        co_await tx.execute_script(kNoTimeout);
        co_await tx.query("SELECT pg_advisory_xact_lock($1)", params(kMigrationLock));
        // Another instance may have applied it while we waited for the lock.
        auto row =
            co_await tx.query("SELECT checksum FROM public.schema_migrations WHERE version = $1", params(m.version));
        if (!row.empty()) {
          if (row.front().get<std::string>(0) != checksum)
            throw MigrationError("migration " + m.name + " was changed after it was applied (checksum mismatch)");
          co_return false;
        }
        co_await tx.execute_script(m.sql);
        co_await tx.query("INSERT INTO public.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                          params(m.version, m.name, checksum));
        co_return true;
      });
    } catch (const DbError& e) {
      failure = e.what();
    }
    if (failure) throw MigrationError("migration " + m.name + " failed: " + *failure);
    if (done) {
      ++count;
      log::info("migration applied", {{"version", m.version}, {"name", m.name}});
    }
  }
  co_return count;
}

asio::awaitable<std::vector<MigrationStatus>> Migrator::status() {
  const auto applied = co_await recorded(db_);
  std::map<int, MigrationStatus> out;
  for (const auto& m : migrations_) {
    MigrationStatus s{m.version, m.name};
    if (auto it = applied.find(m.version); it != applied.end()) {
      s.applied = true;
      s.applied_at = it->second.applied_at;
      s.checksum_matches = it->second.checksum == sha256_hex(m.sql);
    }
    out[m.version] = std::move(s);
  }
  // Versions recorded by a newer binary: listed, and flagged as not matching.
  for (const auto& [version, r] : applied)
    if (!out.contains(version)) out[version] = MigrationStatus{version, r.name, true, r.applied_at, false};
  std::vector<MigrationStatus> list;
  for (auto& [version, s] : out) list.push_back(std::move(s));
  co_return list;
}

}  // namespace huntaze::db
