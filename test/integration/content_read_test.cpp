// The content read and write APIs over HTTP: fan list, conversation
// timeline, persona and saved replies; tenant isolation and the role matrix
// over every content route.
#include "content_fixture.hpp"

using namespace huntaze;
using namespace huntaze::test::contentt;

namespace {

// Follows next_cursor through every page; returns the values of `field`.
std::vector<std::string> walk(ContentApp& t, const std::string& token, const std::string& path,
                              const std::string& field = "id") {
  std::vector<std::string> out;
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    const std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    Reply r = t.as(token, "GET", path + (cursor.empty() ? "" : sep + "cursor=" + cursor));
    REQUIRE(r.status == 200);
    for (const auto& item : r.body.at("items").as_array()) out.push_back(json::serialize(item.at(field)));
    if (r.body.at("next_cursor").is_null()) break;
    cursor = std::string(r.body.at("next_cursor").as_string());
  }
  return out;
}

struct RouteCase {
  std::string method;
  std::string path;  // {fan} and {reply} are replaced
  std::string body;
  auth::Role needs;
};

std::vector<RouteCase> content_routes() {
  return {
      {"GET", "/api/v1/fans", "", auth::Role::viewer},
      {"GET", "/api/v1/fans/{fan}", "", auth::Role::viewer},
      {"PATCH", "/api/v1/fans/{fan}", R"({"notes":"likes cats"})", auth::Role::chatter},
      {"GET", "/api/v1/conversations/{fan}/messages", "", auth::Role::viewer},
      {"POST", "/api/v1/conversations/{fan}/messages", R"({"body":"thanks!"})", auth::Role::chatter},
      {"POST", "/api/v1/conversations/{fan}/suggestions", "", auth::Role::chatter},
      {"GET", "/api/v1/suggestions/stats", "", auth::Role::viewer},
      {"GET", "/api/v1/offers", "", auth::Role::viewer},
      {"POST", "/api/v1/offers",
       R"({"title":"t","kind":"ppv","price_cents":500,"starts_at":"2030-01-01T00:00:00Z","ends_at":"2030-01-02T00:00:00Z"})",
       auth::Role::manager},
      {"GET", "/api/v1/posts", "", auth::Role::viewer},
      {"POST", "/api/v1/posts", R"({"platform":"onlyfans","caption":"c"})", auth::Role::manager},
      {"POST", "/api/v1/posts/caption-ideas", R"({"about":"beach day"})", auth::Role::chatter},
      {"GET", "/api/v1/posts/ideas", "", auth::Role::chatter},
      {"POST", "/api/v1/ingest/fans", R"({"platform":"onlyfans","items":[{"platform_fan_id":"zz"}]})",
       auth::Role::chatter},
      {"POST", "/api/v1/ingest/messages", R"({"platform":"onlyfans","items":[]})", auth::Role::chatter},
      {"POST", "/api/v1/ingest/subscriptions", R"({"platform":"onlyfans","items":[]})", auth::Role::chatter},
      {"POST", "/api/v1/ingest/transactions", R"({"platform":"onlyfans","items":[]})", auth::Role::chatter},
      {"POST", "/api/v1/ingest/webhook-secret", "", auth::Role::manager},
      {"GET", "/api/v1/persona", "", auth::Role::viewer},
      {"PUT", "/api/v1/persona", R"({"voice":"playful"})", auth::Role::manager},
      {"GET", "/api/v1/saved-replies", "", auth::Role::viewer},
      {"POST", "/api/v1/saved-replies", R"({"title":"hi","body":"hello there"})", auth::Role::manager},
      {"PATCH", "/api/v1/saved-replies/{reply}", R"({"title":"hey"})", auth::Role::manager},
  };
}

std::string fill(std::string path, const std::string& fan, const std::string& reply) {
  if (auto at = path.find("{fan}"); at != std::string::npos) path.replace(at, 5, fan);
  if (auto at = path.find("{reply}"); at != std::string::npos) path.replace(at, 7, reply);
  return path;
}

}  // namespace

TEST_CASE("the fan list sorts by last message or spend, searches by prefix and pages with a cursor",
          "[content][read]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  json::array fans, messages, payments;
  for (int i = 0; i < 7; ++i) {
    const std::string id = "f" + std::to_string(i);
    fans.push_back(json::object{{"platform_fan_id", id}, {"handle", (i % 2 ? "Alpha_" : "beta") + std::to_string(i)}});
    if (i < 5) messages.push_back(ContentApp::message("m" + std::to_string(i), id, minutes_ago(100 - i)));
    payments.push_back(json::object{{"platform_transaction_id", "t" + std::to_string(i)}, {"platform_fan_id", id},
                                    {"kind", "tip"}, {"amount_cents", (i * 37) % 11 * 100}, {"occurred_at", minutes_ago(1)}});
  }
  REQUIRE(t.ingest(u.access, "fans", fans).status == 200);
  REQUIRE(t.ingest(u.access, "messages", messages).status == 200);
  REQUIRE(t.ingest(u.access, "transactions", payments).status == 200);

  // Latest message first; fans never heard from come last.
  auto by_message = walk(t, u.access, "/api/v1/fans?limit=2", "platform_fan_id");
  CHECK(by_message.size() == 7);
  CHECK(std::vector<std::string>(by_message.begin(), by_message.begin() + 5) ==
        std::vector<std::string>{"\"f4\"", "\"f3\"", "\"f2\"", "\"f1\"", "\"f0\""});
  // Biggest spender first, every fan exactly once across pages.
  auto spend = walk(t, u.access, "/api/v1/fans?sort=spend&limit=3", "lifetime_spend_cents");
  REQUIRE(spend.size() == 7);
  CHECK(std::is_sorted(spend.begin(), spend.end(), [](const std::string& a, const std::string& b) {
    return std::stoll(a) > std::stoll(b);
  }));
  auto ids = walk(t, u.access, "/api/v1/fans?sort=spend&limit=3");
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 7);
  // Case-insensitive prefix search; LIKE characters are literal.
  CHECK(walk(t, u.access, "/api/v1/fans?q=ALPHA", "platform_fan_id").size() == 3);
  CHECK(walk(t, u.access, "/api/v1/fans?q=alpha_1", "platform_fan_id") == std::vector<std::string>{"\"f1\""});
  CHECK(walk(t, u.access, "/api/v1/fans?q=%25").empty());
  CHECK(t.as(u.access, "GET", "/api/v1/fans?sort=name").status == 400);
  CHECK(t.as(u.access, "GET", "/api/v1/fans?limit=0").status == 400);
  CHECK(t.as(u.access, "GET", "/api/v1/fans?cursor=garbage").code() == "invalid_cursor");
}

TEST_CASE("a conversation pages newest first and records what the creator sends", "[content][read]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  json::array messages;
  for (int i = 0; i < 25; ++i)
    messages.push_back(ContentApp::message("m" + std::to_string(i), "f1", minutes_ago(60 - i), "msg " + std::to_string(i),
                                           i % 3 ? "in" : "out"));
  Reply r = t.ingest(u.access, "messages", messages);
  REQUIRE(r.status == 200);
  const std::string fan = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'f1'");
  const std::string path = "/api/v1/conversations/" + fan + "/messages";
  auto bodies = walk(t, u.access, path + "?limit=10", "body");
  REQUIRE(bodies.size() == 25);
  CHECK(bodies.front() == "\"msg 24\"");
  CHECK(bodies.back() == "\"msg 0\"");

  Reply sent = t.as(u.access, "POST", path, R"({"body":"thanks babe","ppv_price_cents":500})");
  REQUIRE(sent.status == 201);
  CHECK(sent.str("direction") == "out");
  CHECK(sent.str("sent_by") == u.id);
  Reply top = t.as(u.access, "GET", path + "?limit=1");
  CHECK(top.body.at("items").at(0).at("body") == "thanks babe");
  CHECK(top.body.at("items").at(0).at("ppv_price_cents") == 500);
  CHECK(t.as(u.access, "POST", path, R"({"body":""})").status == 400);

  // Unknown and malformed fan ids are 404.
  CHECK(t.as(u.access, "GET", "/api/v1/conversations/0190a000-0000-7000-8000-000000000000/messages").status == 404);
  CHECK(t.as(u.access, "GET", "/api/v1/conversations/nope/messages").status == 404);
  // A fan without messages has an empty conversation.
  t.ingest(u.access, "fans", json::array{json::object{{"platform_fan_id", "quiet"}}});
  const std::string quiet = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'quiet'");
  Reply empty = t.as(u.access, "GET", "/api/v1/conversations/" + quiet + "/messages");
  CHECK(empty.status == 200);
  CHECK(empty.body.at("items").as_array().empty());
}

TEST_CASE("persona and saved replies are kept per workspace", "[content][persona]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  Reply blank = t.as(u.access, "GET", "/api/v1/persona");
  CHECK(blank.status == 200);
  CHECK(blank.body.at("updated_at").is_null());
  Reply put = t.as(u.access, "PUT", "/api/v1/persona",
                   R"({"voice":"playful, teasing","tone":"warm","dos":["use pet names","use pet names"],)"
                   R"("donts":["no politics"],"emoji_habits":"lots of 😘","languages":["en","es"],)"
                   R"("price_list":[{"item":"custom video","price_cents":5000}]})");
  REQUIRE(put.status == 200);
  CHECK(put.body.at("dos").as_array().size() == 1);
  CHECK(t.as(u.access, "GET", "/api/v1/persona").body.at("price_list").at(0).at("price_cents") == 5000);
  Reply bad = t.as(u.access, "PUT", "/api/v1/persona", R"({"price_list":[{"item":"x","price_cents":-1}],"tone":7})");
  CHECK(bad.status == 400);
  CHECK(bad.body.at("error").at("details").as_array().size() == 2);

  Reply made = t.as(u.access, "POST", "/api/v1/saved-replies", R"({"title":"Welcome","body":"Hey! Thanks for subscribing","tags":["greeting"]})");
  REQUIRE(made.status == 201);
  const std::string id = made.str("id");
  CHECK(t.as(u.access, "PATCH", "/api/v1/saved-replies/" + id, R"({"body":"Hi there!"})").str("body") == "Hi there!");
  CHECK(t.as(u.access, "GET", "/api/v1/saved-replies").body.at("items").as_array().size() == 1);
  CHECK(t.as(u.access, "DELETE", "/api/v1/saved-replies/" + id).status == 204);
  CHECK(t.as(u.access, "DELETE", "/api/v1/saved-replies/" + id).status == 404);
}

TEST_CASE("a member of workspace A gets 404 on every content route of workspace B", "[content][tenancy]") {
  ContentApp t;
  auto a = t.sign_up_and_log_in("a@example.com");
  auto b = t.sign_up_and_log_in("b@example.com");
  t.ingest(b.access, "messages", json::array{ContentApp::message("m1", "fb", minutes_ago(1))});
  const std::string fan = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'fb'");
  Reply reply = t.as(b.access, "POST", "/api/v1/saved-replies", R"({"title":"b","body":"b's reply"})");
  REQUIRE(reply.status == 201);
  const std::string reply_id = reply.str("id");

  // B's rows are invisible to A, whether named by id or listed.
  CHECK(t.as(a.access, "GET", "/api/v1/fans/" + fan).status == 404);
  CHECK(t.as(a.access, "PATCH", "/api/v1/fans/" + fan, R"({"notes":"x"})").status == 404);
  CHECK(t.as(a.access, "GET", "/api/v1/conversations/" + fan + "/messages").status == 404);
  CHECK(t.as(a.access, "POST", "/api/v1/conversations/" + fan + "/messages", R"({"body":"x"})").status == 404);
  CHECK(t.as(a.access, "PATCH", "/api/v1/saved-replies/" + reply_id, R"({"title":"x"})").status == 404);
  CHECK(t.as(a.access, "DELETE", "/api/v1/saved-replies/" + reply_id).status == 404);
  CHECK(t.as(a.access, "GET", "/api/v1/fans").body.at("items").as_array().empty());
  CHECK(t.as(a.access, "GET", "/api/v1/saved-replies").body.at("items").as_array().empty());
  // Naming B's workspace is 404 on every route.
  for (const auto& route : content_routes()) {
    INFO(route.method << " " << route.path);
    Reply r = t.as(a.access, route.method, fill(route.path, fan, reply_id), route.body,
                   "X-Huntaze-Workspace: " + b.workspace + "\r\n");
    CHECK(r.status == 404);
  }
  // A's ingestion of the same platform ids makes A's own rows.
  t.ingest(a.access, "messages", json::array{ContentApp::message("m1", "fb", minutes_ago(1))});
  CHECK(t.scalar("SELECT count(DISTINCT creator_id) FROM content.messages") == "2");
  CHECK(t.scalar("SELECT notes IS NULL FROM content.fans WHERE id = '" + fan + "'") == "t");
}

TEST_CASE("each content route admits exactly the roles it declares", "[content][roles]") {
  ContentApp t;
  auto owner = t.sign_up_and_log_in("owner@example.com");
  std::map<auth::Role, AuthApp::User> members;
  for (auto role : {auth::Role::viewer, auth::Role::chatter, auth::Role::manager}) {
    auto m = t.sign_up_and_log_in(std::string(auth::to_string(role)) + "@example.com");
    t.join(owner, m, std::string(auth::to_string(role)));
    members.emplace(role, m);
  }
  members.emplace(auth::Role::owner, owner);
  // Offline (no model configured): suggestions come from the templates provider.
  t.ingest(owner.access, "messages", json::array{ContentApp::message("m1", "f1", minutes_ago(1), "hello")});
  const std::string fan = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'f1'");
  Reply reply = t.as(owner.access, "POST", "/api/v1/saved-replies", R"({"title":"t","body":"b"})");
  REQUIRE(reply.status == 201);
  for (const auto& route : content_routes()) {
    for (const auto& [role, user] : members) {
      INFO(route.method << " " << route.path << " as " << auth::to_string(role));
      Reply r = t.as(user.access, route.method, fill(route.path, fan, reply.str("id")), route.body,
                     "X-Huntaze-Workspace: " + owner.workspace + "\r\n");
      if (role >= route.needs)
        CHECK(r.status < 300);
      else
        CHECK(r.status == 403);
    }
  }
}
