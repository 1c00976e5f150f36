// Ingestion over HTTP: idempotent batches, per-item errors, Idempotency-Key,
// signed webhooks and API-key scopes, against the real database.
#include "content/signed_payload.hpp"
#include "huntaze/core/digest.hpp"
#include "content_fixture.hpp"

using namespace huntaze;
using namespace huntaze::test::contentt;

namespace {

std::string sum_spend(ContentApp& t, const std::string& fan) {
  return t.scalar("SELECT lifetime_spend_cents FROM content.fans WHERE platform_fan_id = '" + fan + "'");
}

}  // namespace

TEST_CASE("re-sending an ingestion batch changes nothing", "[content][ingest]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");

  json::array fans{json::object{{"platform_fan_id", "f1"}, {"handle", "alice"}, {"tags", json::array{"vip"}}},
                   json::object{{"platform_fan_id", 1002}, {"display_name", "Bob"}}};
  Reply first = t.ingest(u.access, "fans", fans);
  REQUIRE(first.status == 200);
  CHECK(ContentApp::statuses(first) == std::vector<std::string>{"created", "created"});
  Reply again = t.ingest(u.access, "fans", fans);
  CHECK(ContentApp::statuses(again) == std::vector<std::string>{"unchanged", "unchanged"});
  CHECK(again.body.at("items").at(0).at("id") == first.body.at("items").at(0).at("id"));
  // A changed field updates; an absent one keeps its value.
  Reply changed = t.ingest(u.access, "fans", json::array{json::object{{"platform_fan_id", "f1"}, {"tier", "gold"}}});
  CHECK(ContentApp::statuses(changed) == std::vector<std::string>{"updated"});
  CHECK(t.scalar("SELECT handle || ' ' || tier || ' ' || array_to_string(tags, ',') FROM content.fans "
                 "WHERE platform_fan_id = 'f1'") == "alice gold vip");

  // Messages: new ones are created (and their unknown fan with them), re-sent ones are unchanged.
  json::array messages{ContentApp::message("m1", "f1", minutes_ago(30), "hello"),
                       ContentApp::message("m2", "f1", minutes_ago(20), "hey you", "out"),
                       ContentApp::message("m3", "f9", minutes_ago(10), "new fan here")};
  Reply m = t.ingest(u.access, "messages", messages);
  REQUIRE(m.status == 200);
  CHECK(ContentApp::count(m, "created") == 3);
  Reply m2 = t.ingest(u.access, "messages", messages);
  CHECK(ContentApp::count(m2, "unchanged") == 3);
  CHECK(ContentApp::count(m2, "created") == 0);
  CHECK(t.scalar("SELECT count(*) FROM content.messages") == "3");
  CHECK(t.scalar("SELECT count(*) FROM content.fans") == "3");
  // The fan's latest message and latest incoming message moved forward.
  CHECK(t.scalar("SELECT last_message_at > last_incoming_at FROM content.fans WHERE platform_fan_id = 'f1'") == "t");

  // Transactions add to lifetime spend once; a refund subtracts.
  json::array payments{
      json::object{{"platform_transaction_id", "t1"}, {"platform_fan_id", "f1"}, {"kind", "tip"},
                   {"amount_cents", 1500}, {"occurred_at", minutes_ago(5)}},
      json::object{{"platform_transaction_id", "t2"}, {"platform_fan_id", "f1"}, {"kind", "ppv"},
                   {"amount_cents", 999}, {"currency", "USD"}, {"occurred_at", minutes_ago(4)}}};
  CHECK(ContentApp::count(t.ingest(u.access, "transactions", payments), "created") == 2);
  CHECK(ContentApp::count(t.ingest(u.access, "transactions", payments), "unchanged") == 2);
  CHECK(sum_spend(t, "f1") == "2499");
  t.ingest(u.access, "transactions",
           json::array{json::object{{"platform_transaction_id", "t3"}, {"platform_fan_id", "f1"}, {"kind", "refund"},
                                    {"amount_cents", 999}, {"occurred_at", minutes_ago(3)}}});
  CHECK(sum_spend(t, "f1") == "1500");

  // Subscriptions upsert on their platform id.
  json::object sub{{"platform_subscription_id", "s1"}, {"platform_fan_id", "f1"}, {"price_cents", 999},
                   {"status", "active"}, {"started_at", minutes_ago(60 * 24 * 10)}};
  CHECK(ContentApp::statuses(t.ingest(u.access, "subscriptions", json::array{sub})) ==
        std::vector<std::string>{"created"});
  CHECK(ContentApp::statuses(t.ingest(u.access, "subscriptions", json::array{sub})) ==
        std::vector<std::string>{"unchanged"});
  sub["status"] = "canceled";
  CHECK(ContentApp::statuses(t.ingest(u.access, "subscriptions", json::array{sub})) ==
        std::vector<std::string>{"updated"});
  CHECK(t.scalar("SELECT status FROM content.subscriptions") == "canceled");

  // The same platform ids on another platform are other rows.
  Reply other = t.ingest(u.access, "fans", json::array{json::object{{"platform_fan_id", "f1"}}}, "", "fansly");
  CHECK(ContentApp::statuses(other) == std::vector<std::string>{"created"});
}

TEST_CASE("a batch keeps its good items and reports each bad one by index and field", "[content][ingest]") {
  ContentApp t([](app::AppConfig& c) { c.content.ingest.max_items = 5; });
  auto u = t.sign_up_and_log_in("creator@example.com");
  json::array items{
      ContentApp::message("ok1", "f1", minutes_ago(3)),
      json::object{{"platform_message_id", "bad1"}, {"platform_fan_id", "f1"}, {"direction", "sideways"},
                   {"sent_at", "yesterday"}},
      ContentApp::message("ok1", "f1", minutes_ago(2)),  // repeats item 0's id
      json::value("not an object"),
      ContentApp::message("ok2", "f2", minutes_ago(1), std::string(10'001, 'x')),
  };
  Reply r = t.ingest(u.access, "messages", items);
  REQUIRE(r.status == 200);
  CHECK(ContentApp::statuses(r) == std::vector<std::string>{"created", "failed", "failed", "failed", "failed"});
  CHECK(ContentApp::count(r, "failed") == 4);
  CHECK(ContentApp::count(r, "received") == 5);
  const auto& bad = r.body.at("items").at(1).at("errors").as_array();
  std::set<std::string> fields;
  for (const auto& e : bad) fields.insert(std::string(e.at("field").as_string()));
  CHECK(fields == std::set<std::string>{"direction", "sent_at"});
  CHECK(r.body.at("items").at(2).at("errors").at(0).at("message").as_string().find("item 0") != std::string::npos);
  CHECK(r.body.at("items").at(4).at("errors").at(0).at("field") == "body");
  CHECK(t.scalar("SELECT count(*) FROM content.messages") == "1");

  // The envelope itself is checked as a whole.
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/messages", R"({"items":[]})").status == 400);
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/messages", R"({"platform":"Only Fans!","items":[]})").status == 400);
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/messages", "{not json").code() == "invalid_json");
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/gifts", R"({"platform":"x","items":[]})").status == 404);
  json::array six;
  for (int i = 0; i < 6; ++i) six.push_back(ContentApp::message("x" + std::to_string(i), "f1", minutes_ago(1)));
  Reply big = t.ingest(u.access, "messages", six);
  CHECK(big.status == 413);
  CHECK(big.code() == "batch_too_large");

  // Messages dated in the future or before the archive horizon are refused.
  Reply dates = t.ingest(u.access, "messages",
                         json::array{ContentApp::message("future", "f1", "2999-01-01T00:00:00Z"),
                                     ContentApp::message("ancient", "f1", "1999-01-01T00:00:00Z")});
  CHECK(ContentApp::statuses(dates) == std::vector<std::string>{"failed", "failed"});
}

TEST_CASE("a message from a month without a partition creates that month", "[content][ingest][partitions]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  // Five months back: older than the migration's partitions.
  const auto now = SystemClock().now();
  const auto month = utc_month(now) - std::chrono::months(5);
  const std::string name = "messages_" + format_year_month(month);
  REQUIRE(t.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'content' AND tablename = '" + name + "'") == "0");
  const std::string sent = format_iso8601(month_start(month) + std::chrono::hours(36));
  Reply r = t.ingest(u.access, "messages", json::array{ContentApp::message("old", "f1", sent)});
  CHECK(ContentApp::statuses(r) == std::vector<std::string>{"created"});
  CHECK(t.scalar("SELECT count(*) FROM content." + name) == "1");
}

TEST_CASE("Idempotency-Key replays the first answer and refuses another body", "[content][ingest][idempotency]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  const json::array items{ContentApp::message("k1", "f1", minutes_ago(1))};
  Reply first = t.ingest(u.access, "messages", items, "Idempotency-Key: batch-0001\r\n");
  REQUIRE(first.status == 200);
  CHECK(first.header("idempotent-replayed").empty());
  t.scalar("DELETE FROM content.message_keys");  // a re-run would now create the message again
  Reply replay = t.ingest(u.access, "messages", items, "Idempotency-Key: batch-0001\r\n");
  CHECK(replay.status == 200);
  CHECK(replay.header("idempotent-replayed") == "true");
  CHECK(replay.raw == first.raw);
  CHECK(t.scalar("SELECT count(*) FROM content.messages") == "1");

  Reply other = t.ingest(u.access, "messages", json::array{ContentApp::message("k2", "f1", minutes_ago(1))},
                         "Idempotency-Key: batch-0001\r\n");
  CHECK(other.status == 422);
  CHECK(other.code() == "idempotency_key_reused");
  // A failed request does not keep its key.
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/messages", "{}", "Idempotency-Key: batch-0002\r\n").status == 400);
  CHECK(t.ingest(u.access, "messages", items, "Idempotency-Key: batch-0002\r\n").status == 200);
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/messages", "{}", "Idempotency-Key: has space\r\n").status == 400);
  // Keys belong to a workspace: another creator's identical key is theirs.
  auto v = t.sign_up_and_log_in("other@example.com");
  Reply theirs = t.ingest(v.access, "messages", items, "Idempotency-Key: batch-0001\r\n");
  CHECK(theirs.header("idempotent-replayed").empty());
  CHECK(ContentApp::count(theirs, "created") == 1);
}

TEST_CASE("Idempotency-Key while the first request runs, after its process died, and past its time",
          "[content][ingest][idempotency]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  const json::array items{ContentApp::message("k1", "f1", minutes_ago(1))};
  // A claim still running (no answer yet, claimed a moment ago): 409, try again.
  // The same request's fingerprint (method, path, body), claimed a moment ago and not answered.
  const std::string body = json::serialize(json::object{{"platform", "onlyfans"}, {"items", items}});
  const std::string hash = to_hex(digest_bytes(DigestKind::sha256, {"POST", " ", "/api/v1/ingest/messages", "\n", body}));
  test::admin_exec(t.url, "INSERT INTO content.idempotency_keys (creator_id, key, request_hash, claimed_at, created_at) "
                          "VALUES ('" + u.workspace + "', 'running', '\\x" + hash + "', now(), now())");
  Reply busy = t.ingest(u.access, "messages", items, "Idempotency-Key: running\r\n");
  CHECK(busy.status == 409);
  CHECK(busy.code() == "idempotency_in_progress");
  CHECK(busy.header("retry-after") == "1");
  // A claim whose process died (claimed long ago, never answered) is taken over.
  test::admin_exec(t.url, "UPDATE content.idempotency_keys SET claimed_at = now() - interval '10 minutes'");
  Reply taken = t.ingest(u.access, "messages", items, "Idempotency-Key: running\r\n");
  CHECK(taken.status == 200);
  CHECK(ContentApp::count(taken, "created") == 1);
  // Past the TTL a key is new again: another body with it is no 422.
  test::admin_exec(t.url, "UPDATE content.idempotency_keys SET created_at = now() - interval '2 days'");
  Reply reused = t.ingest(u.access, "messages", json::array{ContentApp::message("k2", "f1", minutes_ago(1))},
                          "Idempotency-Key: running\r\n");
  CHECK(reused.status == 200);
  CHECK(ContentApp::count(reused, "created") == 1);
  // Creating a saved reply twice with one key makes one.
  const std::string key = "Idempotency-Key: reply-1\r\n";
  CHECK(t.as(u.access, "POST", "/api/v1/saved-replies", R"({"title":"t","body":"b"})", key).status == 201);
  Reply again = t.as(u.access, "POST", "/api/v1/saved-replies", R"({"title":"t","body":"b"})", key);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(t.scalar("SELECT count(*) FROM content.saved_replies") == "1");
}

TEST_CASE("content.prune deletes Idempotency-Keys past their time", "[content][ingest][idempotency]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  test::admin_exec(t.url, "UPDATE auth.workspaces SET platform_admin = true WHERE id = '" + u.workspace + "'");
  t.ingest(u.access, "fans", json::array{json::object{{"platform_fan_id", "f1"}}}, "Idempotency-Key: old\r\n");
  t.ingest(u.access, "fans", json::array{json::object{{"platform_fan_id", "f2"}}}, "Idempotency-Key: new\r\n");
  test::admin_exec(t.url, "UPDATE content.idempotency_keys SET created_at = now() - interval '2 days' WHERE key = 'old'");
  REQUIRE(t.as(u.access, "POST", "/api/v1/admin/schedules/content.prune/run").status < 300);
  CHECK(test::eventually([&] { return t.scalar("SELECT count(*) FROM content.idempotency_keys") == "1"; }, 20s));
  CHECK(t.scalar("SELECT key FROM content.idempotency_keys") == "new");
}

// (Such a batch is parsed, checked and hashed on the compute pool; that is
// not observable here, only that it all still works at this size.)
TEST_CASE("a batch of several hundred kilobytes is stored whole, replayed by its key and refused past the limit",
          "[content][ingest]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  json::array items;
  for (int i = 0; i < 400; ++i)
    items.push_back(ContentApp::message("big" + std::to_string(i), "f" + std::to_string(i % 7), minutes_ago(5),
                                        std::string(900, static_cast<char>('a' + i % 26))));
  items.push_back(json::object{{"platform_message_id", "bad"}});
  const std::string body = json::serialize(json::object{{"platform", "onlyfans"}, {"items", items}});
  REQUIRE(body.size() > 256 * 1024);
  Reply r = t.as(u.access, "POST", "/api/v1/ingest/messages", body, "Idempotency-Key: big-1\r\n");
  REQUIRE(r.status == 200);
  CHECK(ContentApp::count(r, "created") == 400);
  CHECK(ContentApp::count(r, "failed") == 1);
  CHECK(t.scalar("SELECT count(*) FROM content.messages") == "400");
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/messages", body, "Idempotency-Key: big-1\r\n")
            .header("idempotent-replayed") == "true");
  // Over the route's body limit: 413 before anything is parsed.
  ContentApp small([](app::AppConfig& c) { c.content.ingest.body_limit = 64 * 1024; });
  auto v = small.sign_up_and_log_in("small@example.com");
  CHECK(small.as(v.access, "POST", "/api/v1/ingest/messages", body).status == 413);
}

TEST_CASE("signed webhooks ingest only with a fresh signature under the current secret", "[content][ingest][webhook]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  const std::string path = "/api/v1/ingest/webhook/" + u.workspace + "/messages";
  const std::string body = json::serialize(
      json::object{{"platform", "onlyfans"}, {"items", json::array{ContentApp::message("w1", "f1", minutes_ago(1))}}});
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  auto signed_with = [&](const std::string& secret, int64_t at, const std::string& payload) {
    return t.call("POST", path, payload, "Huntaze-Signature: " + content::sign_payload(secret, at, payload) + "\r\n");
  };

  // No secret issued yet: refused like a wrong one.
  CHECK(signed_with("whsec_guess", now, body).code() == "invalid_signature");
  Reply issued = t.as(u.access, "POST", "/api/v1/ingest/webhook-secret");
  REQUIRE(issued.status == 201);
  const std::string secret = issued.str("secret");
  CHECK(secret.rfind("whsec_", 0) == 0);
  CHECK(t.scalar("SELECT count(*) FROM content.webhook_keys WHERE creator_id = '" + u.workspace + "'") == "1");

  Reply ok = signed_with(secret, now, body);
  CHECK(ok.status == 200);
  CHECK(ContentApp::count(ok, "created") == 1);
  // Tampered body, stale timestamp, no header, wrong secret, unknown workspace.
  CHECK(t.call("POST", path, body + " ", "Huntaze-Signature: " + content::sign_payload(secret, now, body) + "\r\n")
            .status == 401);
  Reply stale = signed_with(secret, now - 3600, body);
  CHECK(stale.status == 401);
  CHECK(stale.body.at("error").at("message").as_string().find("stale") != std::string::npos);
  CHECK(t.call("POST", path, body).status == 401);
  CHECK(signed_with(secret + "x", now, body).status == 401);
  CHECK(t.call("POST", "/api/v1/ingest/webhook/0190a000-0000-7000-8000-000000000000/messages", body,
               "Huntaze-Signature: " + content::sign_payload(secret, now, body) + "\r\n")
            .status == 401);

  // Rotation: the old secret stops working at once.
  Reply rotated = t.as(u.access, "POST", "/api/v1/ingest/webhook-secret");
  REQUIRE(rotated.status == 201);
  CHECK(rotated.str("secret") != secret);
  CHECK(signed_with(secret, now, body).status == 401);
  CHECK(signed_with(rotated.str("secret"), now, body).status == 200);
}

TEST_CASE("signed webhooks are off without a key", "[content][ingest][webhook]") {
  ContentApp t([](app::AppConfig& c) { c.content.ingest.webhook_key = Secret(); });
  auto u = t.sign_up_and_log_in("creator@example.com");
  CHECK(t.as(u.access, "POST", "/api/v1/ingest/webhook-secret").code() == "webhook_not_configured");
  CHECK(t.call("POST", "/api/v1/ingest/webhook/" + u.workspace + "/fans", "{}", "Huntaze-Signature: t=1,v1=00\r\n")
            .status == 503);
}

TEST_CASE("API keys ingest with the ingest scope, not with read", "[content][ingest][roles]") {
  ContentApp t;
  auto owner = t.sign_up_and_log_in("creator@example.com");
  const std::string keys = "/api/v1/workspaces/" + owner.workspace + "/api-keys";
  Reply ingest_key = t.as(owner.access, "POST", keys, R"({"name":"extension","scopes":["ingest"]})");
  Reply read_key = t.as(owner.access, "POST", keys, R"({"name":"reports","scopes":["read"]})");
  REQUIRE(ingest_key.status == 201);
  REQUIRE(read_key.status == 201);
  const json::array items{json::object{{"platform_fan_id", "f1"}}};
  CHECK(t.ingest(ingest_key.str("key"), "fans", items).status == 200);
  Reply refused = t.ingest(read_key.str("key"), "fans", items);
  CHECK(refused.status == 403);
  CHECK(refused.code() == "insufficient_scope");
  CHECK(t.as(read_key.str("key"), "GET", "/api/v1/fans").status == 200);
}
