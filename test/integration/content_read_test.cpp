// The content read and write APIs over HTTP: fan list, conversation
// timeline, persona and saved replies; tenant isolation and the role matrix
// over every content route.
#include "content_fixture.hpp"
#include "huntaze/core/crypto.hpp"

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
  std::string path;  // {fan}, {reply}, {offer}, {post} and {suggestion} are replaced
  std::string body;
  auth::Role needs;
  // False for one-shot changes (cancel, delete): after the first allowed
  // caller the rest get 404/409, which is not a refusal of their role.
  bool repeatable = true;
};

// The ids of one workspace's rows that the routes name.
struct Ids {
  std::string fan, reply, offer, post, suggestion;
};

// A fan who wrote, a saved reply, an offer, a post and a suggestion.
Ids make_rows(ContentApp& t, const AuthApp::User& u) {
  Ids ids;
  REQUIRE(t.ingest(u.access, "messages", json::array{ContentApp::message("m1", "f1", minutes_ago(1), "hello")}).status ==
          200);
  ids.fan = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'f1' AND creator_id = '" + u.workspace + "'");
  Reply reply = t.as(u.access, "POST", "/api/v1/saved-replies", R"({"title":"t","body":"b"})");
  Reply offer = t.as(u.access, "POST", "/api/v1/offers",
                     R"({"title":"o","kind":"ppv","price_cents":500,"starts_at":"2030-01-01T00:00:00Z","ends_at":"2030-01-02T00:00:00Z"})");
  Reply post = t.as(u.access, "POST", "/api/v1/posts", R"({"platform":"onlyfans","caption":"c"})");
  Reply suggestion = t.as(u.access, "POST", "/api/v1/conversations/" + ids.fan + "/suggestions");
  REQUIRE(reply.status == 201);
  REQUIRE(offer.status == 201);
  REQUIRE(post.status == 201);
  REQUIRE(suggestion.status == 200);
  ids.reply = reply.str("id");
  ids.offer = offer.str("id");
  ids.post = post.str("id");
  ids.suggestion = std::string(suggestion.body.at("suggestions").at(0).at("id").as_string());
  return ids;
}

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
      {"POST", "/api/v1/suggestions/{suggestion}/feedback", R"({"outcome":"accepted"})", auth::Role::chatter},
      {"GET", "/api/v1/offers/{offer}", "", auth::Role::viewer},
      {"PATCH", "/api/v1/offers/{offer}", R"({"title":"renamed"})", auth::Role::manager},
      {"GET", "/api/v1/posts/{post}", "", auth::Role::viewer},
      {"PATCH", "/api/v1/posts/{post}", R"({"caption":"new"})", auth::Role::manager},
      {"GET", "/api/v1/billing", "", auth::Role::viewer},
      {"GET", "/api/v1/billing/invoices", "", auth::Role::manager},
      {"POST", "/api/v1/offers/{offer}/cancel", "", auth::Role::manager, false},
      {"POST", "/api/v1/posts/{post}/published", R"({"platform_post_id":"p1"})", auth::Role::chatter, false},
      {"POST", "/api/v1/posts/{post}/cancel", "", auth::Role::manager, false},
      {"DELETE", "/api/v1/saved-replies/{reply}", "", auth::Role::manager, false},
  };
}

std::string fill(std::string path, const Ids& ids) {
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"{fan}", ids.fan}, {"{reply}", ids.reply},
                                    {"{offer}", ids.offer}, {"{post}", ids.post}, {"{suggestion}", ids.suggestion}})
    if (auto at = path.find(name); at != std::string::npos) path.replace(at, name.size(), value);
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

  // The '_' of a search is a character like any other, not a wildcard; names
  // match as handles do; a search pages with a cursor like the full list.
  REQUIRE(t.ingest(u.access, "fans", json::array{json::object{{"platform_fan_id", "x1"}, {"handle", "alphaX1"}},
                                                 json::object{{"platform_fan_id", "n1"}, {"display_name", "Alpha Omega"}}})
              .status == 200);
  CHECK(walk(t, u.access, "/api/v1/fans?q=alpha_1", "platform_fan_id") == std::vector<std::string>{"\"f1\""});
  CHECK(walk(t, u.access, "/api/v1/fans?q=alpha%20om", "platform_fan_id") == std::vector<std::string>{"\"n1\""});
  auto alphas = walk(t, u.access, "/api/v1/fans?q=alpha&limit=2", "platform_fan_id");
  CHECK(alphas.size() == 5);  // f1, f3, f5, x1, n1
  CHECK(std::set<std::string>(alphas.begin(), alphas.end()).size() == 5);
  // Malformed input is a 400, not a database error.
  CHECK(t.as(u.access, "GET", "/api/v1/fans?q=%FF").status == 400);
  const std::string far = crypto::base64url_encode(R"([9000000000000000000,"0190a000-0000-7000-8000-000000000001"])");
  CHECK(t.as(u.access, "GET", "/api/v1/fans?cursor=" + far).code() == "invalid_cursor");
}

TEST_CASE("editing a fan keeps what the edit leaves out and replaces the tags", "[content][read]") {
  ContentApp t;
  auto u = t.sign_up_and_log_in("creator@example.com");
  REQUIRE(t.ingest(u.access, "fans", json::array{json::object{{"platform_fan_id", "f1"}, {"tier", "gold"},
                                                              {"tags", json::array{"vip", "whale"}}}})
              .status == 200);
  const std::string fan = t.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'f1'");
  Reply edited = t.as(u.access, "PATCH", "/api/v1/fans/" + fan, R"({"notes":"birthday in May","tags":["vip"]})");
  REQUIRE(edited.status == 200);
  CHECK(edited.str("tier") == "gold");
  CHECK(edited.str("notes") == "birthday in May");
  CHECK(edited.body.at("tags").as_array().size() == 1);
  CHECK(t.as(u.access, "PATCH", "/api/v1/fans/" + fan, R"({"tags":"vip"})").status == 400);
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
  const Ids theirs = make_rows(t, b);
  make_rows(t, a);

  // B's rows named by id from A's own workspace: 404, never a leak or a change.
  for (const auto& route : content_routes()) {
    const std::string path = fill(route.path, theirs);
    if (path == route.path) continue;  // names no row
    INFO(route.method << " " << route.path);
    CHECK(t.as(a.access, route.method, path, route.body).status == 404);
  }
  // Naming B's workspace is 404 on every route.
  for (const auto& route : content_routes()) {
    INFO(route.method << " " << route.path << " in B's workspace");
    Reply r = t.as(a.access, route.method, fill(route.path, theirs), route.body,
                   "X-Huntaze-Workspace: " + b.workspace + "\r\n");
    CHECK(r.status == 404);
  }
  // Lists show only A's own rows, and B's rows are as B left them.
  for (const char* list : {"/api/v1/fans", "/api/v1/saved-replies", "/api/v1/offers", "/api/v1/posts"}) {
    INFO(list);
    CHECK(t.as(a.access, "GET", list).body.at("items").as_array().size() == 1);
  }
  CHECK(t.scalar("SELECT notes IS NULL FROM content.fans WHERE id = '" + theirs.fan + "'") == "t");
  CHECK(t.scalar("SELECT status FROM content.offers WHERE id = '" + theirs.offer + "'") == "scheduled");
  CHECK(t.scalar("SELECT status FROM content.posts WHERE id = '" + theirs.post + "'") == "draft");
  CHECK(t.scalar("SELECT feedback IS NULL FROM content.suggestions WHERE id = '" + theirs.suggestion + "'") == "t");
  CHECK(t.scalar("SELECT count(*) FROM content.saved_replies WHERE id = '" + theirs.reply + "'") == "1");
  CHECK(t.scalar("SELECT count(DISTINCT creator_id) FROM content.messages") == "2");
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
  const Ids ids = make_rows(t, owner);
  for (const auto& route : content_routes()) {
    for (const auto& [role, user] : members) {
      INFO(route.method << " " << route.path << " as " << auth::to_string(role));
      Reply r = t.as(user.access, route.method, fill(route.path, ids), route.body,
                     "X-Huntaze-Workspace: " + owner.workspace + "\r\n");
      if (role < route.needs)
        CHECK(r.status == 403);
      else if (route.repeatable)
        CHECK(r.status < 300);
      else
        CHECK((r.status < 300 || r.status == 404 || r.status == 409));
    }
  }
}
