// LISTEN/NOTIFY through db::Listener: delivery, reconnection after the
// backend is killed, and close().
#include <boost/system/system_error.hpp>
#include <catch2/catch.hpp>

#include "db_fixture.hpp"

using namespace huntaze;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::dbt::DbFixture;

namespace {

void notify(DbFixture& f, const std::string& channel, const std::string& payload) {
  f.query("SELECT pg_notify($1, $2)", {channel, payload});
}

}  // namespace

TEST_CASE("db: NOTIFY reaches a Listener, on any channel name", "[db]") {
  DbFixture f;
  auto listener = f.block(f.db->listener());
  const std::string odd = "Mixed Case \"chan\"; DROP";  // must be quoted as an identifier
  f.block(listener->listen("events"));
  f.block(listener->listen(odd));
  f.block(listener->listen("events"));  // listening twice is harmless

  notify(f, "events", "first");
  notify(f, odd, "second");
  notify(f, "unrelated", "ignored");
  notify(f, "events", "");
  auto a = f.block(listener->next());
  CHECK(a.channel == "events");
  CHECK(a.payload == "first");
  CHECK_FALSE(a.reconnected);
  auto b = f.block(listener->next());
  CHECK(b.channel == odd);
  CHECK(b.payload == "second");
  auto c = f.block(listener->next());
  CHECK(c.channel == "events");
  CHECK(c.payload == "");

  // Notifications sent inside a transaction arrive on commit only.
  auto tx = f.block(f.db->begin());
  f.block(tx->query("SELECT pg_notify($1, $2)", {"events", "rolled back"}));
  f.block(tx->rollback());
  tx = f.block(f.db->begin());
  f.block(tx->query("SELECT pg_notify($1, $2)", {"events", "committed"}));
  f.block(tx->commit());
  CHECK(f.block(listener->next()).payload == "committed");
}

TEST_CASE("db: a Listener reconnects after its backend is terminated and listens again", "[db]") {
  DbFixture f;
  auto listener = f.block(f.db->listener());
  f.block(listener->listen("jobs"));
  f.block(listener->listen("other"));
  notify(f, "jobs", "before");
  CHECK(f.block(listener->next()).payload == "before");

  // The listener's backend is the one whose last statement was a LISTEN.
  const std::string is_listener = "query LIKE 'LISTEN%'";
  REQUIRE(test::dbt::backends(f.url, is_listener) == 1);
  test::admin_exec(f.url,
                   "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND pid <> pg_backend_pid() AND " +
                       is_listener);

  auto marker = f.block(listener->next());
  CHECK(marker.reconnected);
  CHECK(marker.channel.empty());
  // Both channels are listened to again on the new connection.
  notify(f, "jobs", "after");
  notify(f, "other", "also after");
  auto n1 = f.block(listener->next());
  CHECK(n1.channel == "jobs");
  CHECK(n1.payload == "after");
  CHECK_FALSE(n1.reconnected);
  auto n2 = f.block(listener->next());
  CHECK(n2.channel == "other");
  CHECK(n2.payload == "also after");
}

TEST_CASE("db: close() makes a pending next() throw operation_aborted", "[db]") {
  DbFixture f;
  auto listener = f.block(f.db->listener());
  f.block(listener->listen("quiet"));
  auto pending = f.io.spawn(listener->next());
  listener->close();
  try {
    pending.get();
    FAIL("expected operation_aborted");
  } catch (const boost::system::system_error& e) {
    CHECK(e.code() == asio::error::operation_aborted);
  }
  // And so does every later call.
  CHECK_THROWS_AS(f.block(listener->next()), boost::system::system_error);
}

TEST_CASE("db: closing the database closes its listeners", "[db]") {
  DbFixture f;
  auto listener = f.block(f.db->listener());
  f.block(listener->listen("quiet"));
  auto pending = f.io.spawn(listener->next());
  f.db->close();
  CHECK_THROWS_AS(pending.get(), boost::system::system_error);
  REQUIRE(test::eventually([&] { return test::dbt::backends(f.url) == 0; }));
}
