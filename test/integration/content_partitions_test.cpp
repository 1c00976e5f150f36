// The monthly partitions of content.messages: months kept ready ahead,
// months past the archive age moved to content_archive with their keys.
#include "content/message_partitions.hpp"
#include <set>

#include "db_fixture.hpp"
#include "huntaze/core/time_format.hpp"

using namespace huntaze;
using namespace huntaze::test::dbt;

namespace {

SysTime at(const char* text) { return *parse_iso8601(text); }

std::set<std::string> tables(DbFixture& f, const std::string& schema) {
  std::set<std::string> out;
  auto rows = f.block(f.db->query(
      "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'messages\\_%'", schema));
  for (const auto& r : rows) out.insert(r.get<std::string>(0));
  return out;
}

}  // namespace

TEST_CASE("content partitions are kept ahead and old months move to the archive with their keys",
          "[content][partitions]") {
  DbFixture f;
  content::MessagePartitions partitions(*f.db);
  content::MessagesConfig config;
  config.archive_after = std::chrono::days(365);
  config.months_ahead = 2;

  // Rows in two old months and in the current one, with their keys.
  const std::vector<std::chrono::year_month> months{std::chrono::year(2029) / 1, std::chrono::year(2029) / 6,
                                                    std::chrono::year(2030) / 7};
  f.block(partitions.ensure(months));
  f.block(f.db->execute_script(
      "INSERT INTO auth.workspaces (id, name, created_at) VALUES ('0190a000-0000-7000-8000-000000000001', 'w', now());"
      "INSERT INTO content.fans (id, creator_id, platform, platform_fan_id, created_at, updated_at) VALUES "
      "('0190a000-0000-7000-8000-0000000000f1', '0190a000-0000-7000-8000-000000000001', 'of', 'f1', now(), now());"
      "INSERT INTO content.messages (fan_id, sent_at, id, creator_id, incoming, body) VALUES "
      "('0190a000-0000-7000-8000-0000000000f1', '2029-01-15Z', gen_random_uuid(), '0190a000-0000-7000-8000-000000000001', true, 'a'),"
      "('0190a000-0000-7000-8000-0000000000f1', '2029-06-15Z', gen_random_uuid(), '0190a000-0000-7000-8000-000000000001', true, 'b'),"
      "('0190a000-0000-7000-8000-0000000000f1', '2030-07-15Z', gen_random_uuid(), '0190a000-0000-7000-8000-000000000001', true, 'c');"
      "INSERT INTO content.message_keys (creator_id, platform, platform_message_id, message_id, sent_at) VALUES "
      "('0190a000-0000-7000-8000-000000000001', 'of', 'a', gen_random_uuid(), '2029-01-15Z'),"
      "('0190a000-0000-7000-8000-000000000001', 'of', 'b', gen_random_uuid(), '2029-06-15Z'),"
      "('0190a000-0000-7000-8000-000000000001', 'of', 'c', gen_random_uuid(), '2030-07-15Z');"));

  // At 2030-07-20 with a year's age the horizon is 2029-07-20: its month
  // (July 2029) starts the live window; January and June 2029 leave.
  const SysTime now = at("2030-07-20T12:00:00Z");
  CHECK(content::archive_horizon(now, config) == at("2029-07-01T00:00:00Z"));
  // Everything before July 2029 leaves, the migration's own months included.
  std::set<std::string> expected_archive;
  for (const auto& name : tables(f, "content"))
    if (name < "messages_202907") expected_archive.insert(name);
  REQUIRE(expected_archive.contains("messages_202901"));
  REQUIRE(expected_archive.contains("messages_202906"));
  auto result = f.block(content::archive_messages(*f.db, partitions, now, config, nullptr));
  CHECK(result.months == static_cast<int>(expected_archive.size()));
  CHECK(result.message_keys == 2);
  const auto live = tables(f, "content");
  CHECK(live.contains("messages_203007"));
  CHECK(live.contains("messages_203008"));
  CHECK(live.contains("messages_203009"));
  CHECK_FALSE(live.contains("messages_202901"));
  CHECK_FALSE(live.contains("messages_202906"));
  CHECK(tables(f, "content_archive") == expected_archive);
  // The archived rows are kept, out of the live table.
  CHECK(f.block(f.db->query("SELECT count(*) FROM content.messages")).front().get<int64_t>(0) == 1);
  CHECK(f.block(f.db->query("SELECT count(*) FROM content_archive.messages_202901")).front().get<int64_t>(0) == 1);
  CHECK(f.block(f.db->query("SELECT count(*) FROM content.message_keys")).front().get<int64_t>(0) == 1);

  // Idempotent.
  auto again = f.block(content::archive_messages(*f.db, partitions, now, config, nullptr));
  CHECK(again.months == 0);
  CHECK(again.message_keys == 0);

  // A month archived once and made again (the archive age raised, then
  // lowered) is archived again under another name instead of failing.
  const std::vector<std::chrono::year_month> january{std::chrono::year(2029) / 1};
  f.block(partitions.ensure(january));
  REQUIRE(tables(f, "content").contains("messages_202901"));
  auto third = f.block(content::archive_messages(*f.db, partitions, now, config, nullptr));
  CHECK(third.months == 1);
  const auto archive = tables(f, "content_archive");
  CHECK(archive.contains("messages_202901"));
  CHECK(archive.size() == expected_archive.size() + 1);
  CHECK_FALSE(tables(f, "content").contains("messages_202901"));
}

TEST_CASE("concurrent ensures create a missing month once", "[content][partitions]") {
  DbFixture f;
  content::MessagePartitions one(*f.db), two(*f.db);
  const std::vector<std::chrono::year_month> month{std::chrono::year(2031) / 3};
  auto a = f.io.spawn(one.ensure(month));
  auto b = f.io.spawn(two.ensure(month));
  a.get();
  b.get();
  CHECK(tables(f, "content").contains("messages_203103"));
}
