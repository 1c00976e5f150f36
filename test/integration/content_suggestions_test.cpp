// Reply suggestions end to end over HTTP: classify -> generate against the
// fake OpenAI server, the router's cache on a repeat, feedback and its
// statistics, the SSE variant, the offline templates fallback, spam, and
// suggestions.prepare run through the cron admin API.
#include "ai_router_fixture.hpp"
#include "content_fixture.hpp"

using namespace huntaze;
using namespace huntaze::test::contentt;

namespace {

bool is_classification(const test::FakeRequest& r) {
  return r.body.find("You sort messages") != std::string::npos;
}

// The fake model: classifies by keyword, writes two replies.
test::FakeReply model_reply(const test::FakeRequest& r) {
  const bool stream = r.body.find("\"stream\":true") != std::string::npos;
  std::string content;
  if (is_classification(r)) {
    const bool spam = r.body.find("crypto") != std::string::npos;
    content = spam ? R"({"category":"spam"})" : R"({"category":"purchase_intent"})";
  } else {
    content = "1. Sure babe, the video is $25 \xF0\x9F\x98\x98\n---\n2. \"Of course! Want the bundle instead?\"";
  }
  test::FakeReply reply;
  if (stream)
    reply.sse_data = test::FakeOpenAi::completion_chunks({content.substr(0, 10), content.substr(10)});
  else
    reply.body = test::FakeOpenAi::completion(content);
  return reply;
}

// The code of a streamed answer's error event (the status line said 200).
std::string streamed_error(const Reply& r) {
  REQUIRE(r.status == 200);
  const size_t error = r.raw.find("event: error");
  REQUIRE(error != std::string::npos);
  const auto data = json::parse(r.raw.substr(r.raw.find("data: ", error) + 6)).as_object();
  return std::string(data.at("error").at("code").as_string());
}

struct SuggestApp {
  explicit SuggestApp(const std::function<void(app::AppConfig&)>& adjust = {})
      : fake(2), app([&](app::AppConfig& c) {
          c.ai.catalog.deployments = {test::ait::deployment(fake, "writer", "writer"),
                                      test::ait::deployment(fake, "sorter", "sorter"),
                                      test::ait::templates_deployment()};
          c.ai.catalog.routes = {{"generate", {"writer", "templates"}}, {"classify", {"sorter"}}};
          c.ai.router = test::ait::fast_config();
          if (adjust) adjust(c);
        }) {
    fake.set_default(model_reply);
  }

  // A creator with one fan who wrote last; returns the fan's id.
  std::string conversation(const AuthApp::User& u, const std::string& last = "how much for the shower video?") {
    json::array messages{ContentApp::message("m1", "f1", minutes_ago(10), "hey gorgeous"),
                         ContentApp::message("m2", "f1", minutes_ago(9), "hi love, what's up?", "out"),
                         ContentApp::message("m3", "f1", minutes_ago(8), last)};
    REQUIRE(app.ingest(u.access, "messages", messages).status == 200);
    return app.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'f1' AND creator_id = '" + u.workspace +
                      "'");
  }

  test::FakeOpenAi fake;
  ContentApp app;
};

}  // namespace

TEST_CASE("suggestions: classify, generate, a cache hit on repeat, feedback and acceptance", "[content][suggestions]") {
  SuggestApp s;
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  REQUIRE(s.app.as(u.access, "PUT", "/api/v1/persona", R"({"voice":"sweet and teasing","dos":["call fans babe"]})")
              .status == 200);
  const std::string fan = s.conversation(u);
  const std::string path = "/api/v1/conversations/" + fan + "/suggestions";

  Reply first = s.app.as(u.access, "POST", path);
  REQUIRE(first.status == 200);
  CHECK(first.str("category") == "purchase_intent");
  CHECK_FALSE(first.body.at("cache_hit").as_bool());
  const auto& items = first.body.at("suggestions").as_array();
  REQUIRE(items.size() == 2);
  CHECK(items[0].at("text") == "Sure babe, the video is $25 \xF0\x9F\x98\x98");
  CHECK(items[1].at("text") == "Of course! Want the bundle instead?");
  // The prompt carried the persona, the fan's last message last, and asked for two replies.
  const auto requests = s.fake.requests();
  REQUIRE(requests.size() == 2);
  CHECK(is_classification(requests[0]));
  const auto writer = requests[1].json().at("messages").as_array();
  CHECK(writer.front().at("content").as_string().find("sweet and teasing") != std::string::npos);
  CHECK(writer.front().at("content").as_string().find("exactly 2") != std::string::npos);
  CHECK(writer.back().at("role") == "user");
  CHECK(writer.back().at("content") == "how much for the shower video?");
  CHECK(writer[writer.size() - 2].at("role") == "assistant");

  // The same conversation again: both answers come from the cache.
  Reply repeat = s.app.as(u.access, "POST", path);
  REQUIRE(repeat.status == 200);
  CHECK(repeat.body.at("cache_hit").as_bool());
  CHECK(s.fake.request_count() == 2);
  CHECK(repeat.body.at("suggestions").at(0).at("text") == items[0].at("text"));
  CHECK(repeat.body.at("suggestions").at(0).at("id") != items[0].at("id"));
  CHECK(s.app.scalar("SELECT count(*) FROM content.suggestions") == "4");

  // Feedback, then the acceptance rate per task and model.
  const std::string a = std::string(items[0].at("id").as_string()), b = std::string(items[1].at("id").as_string());
  CHECK(s.app.as(u.access, "POST", "/api/v1/suggestions/" + a + "/feedback", R"({"outcome":"accepted"})").status == 200);
  Reply edited = s.app.as(u.access, "POST", "/api/v1/suggestions/" + b + "/feedback",
                          R"({"outcome":"edited","final_text":"Of course babe!"})");
  CHECK(edited.str("final_text") == "Of course babe!");
  CHECK(s.app.as(u.access, "POST", "/api/v1/suggestions/" + b + "/feedback", R"({"outcome":"edited"})").status == 400);
  const std::string c = std::string(repeat.body.at("suggestions").at(0).at("id").as_string());
  CHECK(s.app.as(u.access, "POST", "/api/v1/suggestions/" + c + "/feedback", R"({"outcome":"rejected"})").status == 200);
  Reply stats = s.app.as(u.access, "GET", "/api/v1/suggestions/stats");
  REQUIRE(stats.status == 200);
  const auto& row = stats.body.at("items").at(0);
  CHECK(row.at("task") == "generate");
  CHECK(row.at("model") == "fake");
  CHECK(row.at("suggested") == 4);
  CHECK(row.at("rated") == 3);
  CHECK(row.at("accepted") == 1);
  CHECK(row.at("edited") == 1);
  CHECK(row.at("acceptance_rate").as_double() == Approx(2.0 / 3.0));

  // Another workspace cannot see or rate them.
  auto other = s.app.sign_up_and_log_in("other@example.com");
  CHECK(s.app.as(other.access, "POST", "/api/v1/suggestions/" + a + "/feedback", R"({"outcome":"rejected"})").status ==
        404);
  CHECK(s.app.as(other.access, "POST", path).status == 404);
  CHECK(s.app.as(other.access, "GET", "/api/v1/suggestions/stats").body.at("items").as_array().empty());
}

TEST_CASE("suggestions stream as server-sent events", "[content][suggestions]") {
  SuggestApp s;
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  const std::string fan = s.conversation(u);
  Reply r = s.app.as(u.access, "POST", "/api/v1/conversations/" + fan + "/suggestions", "",
                     "Accept: text/event-stream\r\n");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").find("text/event-stream") != std::string::npos);
  const std::string& text = r.raw;
  const size_t category = text.find("event: category\ndata: {\"category\":\"purchase_intent\"}");
  const size_t delta = text.find("event: delta");
  const size_t done = text.find("event: done");
  CHECK(category != std::string::npos);
  CHECK(delta > category);
  CHECK(done > delta);
  CHECK(done != std::string::npos);
  const auto data = json::parse(text.substr(text.find("data: ", done) + 6)).as_object();
  CHECK(data.at("suggestions").as_array().size() == 2);
  CHECK(s.app.scalar("SELECT count(*) FROM content.suggestions") == "2");
  // A fan of another workspace is a 404 before the stream starts.
  CHECK(s.app.as(u.access, "POST", "/api/v1/conversations/0190a000-0000-7000-8000-000000000000/suggestions", "",
                 "Accept: text/event-stream\r\n")
            .status == 404);
}

TEST_CASE("when every model fails the saved replies answer", "[content][suggestions]") {
  SuggestApp s;
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  for (const char* body : {"Thank you so much for the support!", "Check your DMs, I sent you something special",
                           "Love you too babe"})
    REQUIRE(s.app.as(u.access, "POST", "/api/v1/saved-replies",
                     json::serialize(json::object{{"title", "t"}, {"body", body}}))
                .status == 201);
  const std::string fan = s.conversation(u);
  s.fake.set_default([](const test::FakeRequest&) { return test::FakeOpenAi::error(500, "boom", "down"); });
  Reply r = s.app.as(u.access, "POST", "/api/v1/conversations/" + fan + "/suggestions");
  REQUIRE(r.status == 200);
  CHECK(r.body.at("offline").as_bool());
  CHECK(r.str("category") == "unclassified");
  CHECK(r.str("model") == "templates");
  const auto& items = r.body.at("suggestions").as_array();
  REQUIRE(items.size() == 2);
  CHECK(items[0].at("text") != items[1].at("text"));
  std::set<std::string> saved{"Thank you so much for the support!", "Check your DMs, I sent you something special",
                              "Love you too babe"};
  CHECK(saved.contains(std::string(items[0].at("text").as_string())));
  CHECK(saved.contains(std::string(items[1].at("text").as_string())));

}

TEST_CASE("spam gets no replies, and a fan who never wrote has nothing to answer", "[content][suggestions]") {
  // Its own fake model: the one above tripped its breakers on purpose.
  SuggestApp s;
  auto v = s.app.sign_up_and_log_in("second@example.com");
  const std::string spam_fan = s.conversation(v, "buy crypto at scam.example now");
  const size_t before = s.fake.request_count();
  Reply spam = s.app.as(v.access, "POST", "/api/v1/conversations/" + spam_fan + "/suggestions");
  REQUIRE(spam.status == 200);
  CHECK(spam.str("category") == "spam");
  CHECK(spam.body.at("suggestions").as_array().empty());
  CHECK(s.fake.request_count() == before + 1);

  // A fan who never wrote: nothing to answer.
  s.app.ingest(v.access, "messages", json::array{ContentApp::message("o1", "silent", minutes_ago(1), "hello?", "out")});
  const std::string silent = s.app.scalar("SELECT id FROM content.fans WHERE platform_fan_id = 'silent'");
  CHECK(s.app.as(v.access, "POST", "/api/v1/conversations/" + silent + "/suggestions").code() == "nothing_to_answer");
  // The streamed variant refuses it before its status line too.
  Reply streamed = s.app.as(v.access, "POST", "/api/v1/conversations/" + silent + "/suggestions", "",
                            "Accept: text/event-stream\r\n");
  CHECK(streamed.status == 409);
  CHECK(streamed.code() == "nothing_to_answer");
}

TEST_CASE("suggestions.prepare writes suggestions for conversations waiting on a reply", "[content][suggestions]") {
  SuggestApp s([](app::AppConfig& c) { c.content.suggestions.prepare = true; });
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  test::admin_exec(s.app.url, "UPDATE auth.workspaces SET platform_admin = true WHERE id = '" + u.workspace + "'");
  const std::string fan = s.conversation(u);
  // A second fan already answered: not waiting.
  s.app.ingest(u.access, "messages",
               json::array{ContentApp::message("x1", "f2", minutes_ago(5), "hi"),
                           ContentApp::message("x2", "f2", minutes_ago(4), "hello!", "out")});
  Reply run = s.app.as(u.access, "POST", "/api/v1/admin/schedules/suggestions.prepare/run");
  REQUIRE(run.status < 300);
  CHECK(test::eventually([&] { return s.app.scalar("SELECT count(*) FROM content.suggestions") == "2"; }, 20s));
  CHECK(s.app.scalar("SELECT count(DISTINCT fan_id) FROM content.suggestions") == "1");
  CHECK(s.app.scalar("SELECT fan_id FROM content.suggestions LIMIT 1") == fan);
  // Running again finds nothing new to prepare.
  REQUIRE(s.app.as(u.access, "POST", "/api/v1/admin/schedules/suggestions.prepare/run").status < 300);
  CHECK(test::eventually([&] {
    return s.app.scalar("SELECT count(*) FROM jobs.jobs WHERE kind = 'suggestions.prepare' AND state = 'completed'") ==
           "2";
  }, 20s));
  CHECK(s.app.scalar("SELECT count(*) FROM content.suggestions") == "2");
}

TEST_CASE("suggestions.prepare tries a conversation once per message, spam included", "[content][suggestions]") {
  SuggestApp s([](app::AppConfig& c) { c.content.suggestions.prepare = true; });
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  auto v = s.app.sign_up_and_log_in("spammed@example.com");
  test::admin_exec(s.app.url, "UPDATE auth.workspaces SET platform_admin = true WHERE id = '" + u.workspace + "'");
  s.conversation(u);
  const std::string spam = s.conversation(v, "buy crypto at scam.example now");
  REQUIRE(s.app.as(u.access, "POST", "/api/v1/admin/schedules/suggestions.prepare/run").status < 300);
  CHECK(test::eventually([&] { return s.app.scalar("SELECT count(*) FROM content.suggestions") == "2"; }, 20s));
  CHECK(test::eventually(
      [&] { return s.app.scalar("SELECT prepared_for IS NOT NULL FROM content.fans WHERE id = '" + spam + "'") == "t"; },
      20s));
  CHECK(test::eventually([&] {
    return s.app.scalar("SELECT count(*) FROM jobs.jobs WHERE kind = 'suggestions.prepare' AND state = 'completed'") ==
           "1";
  }, 20s));
  const size_t asked = s.fake.request_count();
  CHECK(asked == 3);  // two classifications, one reply set (spam gets none)
  // Again: the spam conversation is not classified a second time.
  REQUIRE(s.app.as(u.access, "POST", "/api/v1/admin/schedules/suggestions.prepare/run").status < 300);
  CHECK(test::eventually([&] {
    return s.app.scalar("SELECT count(*) FROM jobs.jobs WHERE kind = 'suggestions.prepare' AND state = 'completed'") ==
           "2";
  }, 20s));
  CHECK(s.fake.request_count() == asked);
  // A new message from the fan makes the conversation waiting again.
  s.app.ingest(v.access, "messages", json::array{ContentApp::message("m4", "f1", minutes_ago(1), "hello??")});
  REQUIRE(s.app.as(u.access, "POST", "/api/v1/admin/schedules/suggestions.prepare/run").status < 300);
  CHECK(test::eventually([&] { return s.fake.request_count() > asked; }, 20s));
}

TEST_CASE("a streamed suggestion that fails after its status line ends with an error event", "[content][suggestions]") {
  SuggestApp s([](app::AppConfig& c) { c.ai.catalog.routes = {{"generate", {"writer"}}, {"classify", {"sorter"}}}; });
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  const std::string fan = s.conversation(u);
  s.fake.set_default([](const test::FakeRequest&) { return test::FakeOpenAi::error(500, "boom", "down"); });
  Reply r = s.app.as(u.access, "POST", "/api/v1/conversations/" + fan + "/suggestions", "",
                     "Accept: text/event-stream\r\n");
  CHECK(streamed_error(r) == "unavailable");
  CHECK(r.raw.find("event: done") == std::string::npos);
  CHECK(s.app.scalar("SELECT count(*) FROM content.suggestions") == "0");
}

TEST_CASE("a streamed suggestion that fails for an unexpected reason ends with internal_error", "[content][suggestions]") {
  SuggestApp s([](app::AppConfig& c) { c.ai.catalog.routes = {{"generate", {"writer"}}, {"classify", {"sorter"}}}; });
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  const std::string fan = s.conversation(u);
  // The model answers; storing the suggestions fails (a database error, not
  // an AI or API error).
  test::admin_exec(s.app.url, "ALTER TABLE content.suggestions ADD CONSTRAINT refuse_all CHECK (false) NOT VALID");
  Reply r = s.app.as(u.access, "POST", "/api/v1/conversations/" + fan + "/suggestions", "",
                     "Accept: text/event-stream\r\n");
  CHECK(streamed_error(r) == "internal_error");
  CHECK(r.raw.find("event: done") == std::string::npos);
  CHECK(r.raw.find("refuse_all") == std::string::npos);  // the database's words stay in the log
}

TEST_CASE("content.prune deletes suggestions older than their retention", "[content][suggestions]") {
  SuggestApp s;
  auto u = s.app.sign_up_and_log_in("creator@example.com");
  test::admin_exec(s.app.url, "UPDATE auth.workspaces SET platform_admin = true WHERE id = '" + u.workspace + "'");
  const std::string fan = s.conversation(u);
  REQUIRE(s.app.as(u.access, "POST", "/api/v1/conversations/" + fan + "/suggestions").status == 200);
  REQUIRE(s.app.scalar("SELECT count(*) FROM content.suggestions") == "2");
  // One of the two is past the 90-day default; the other is not, by a day.
  test::admin_exec(s.app.url,
                   "UPDATE content.suggestions SET created_at = now() - interval '91 days' WHERE position = 0");
  test::admin_exec(s.app.url,
                   "UPDATE content.suggestions SET created_at = now() - interval '89 days' WHERE position = 1");
  REQUIRE(s.app.as(u.access, "POST", "/api/v1/admin/schedules/content.prune/run").status < 300);
  CHECK(test::eventually([&] { return s.app.scalar("SELECT count(*) FROM content.suggestions") == "1"; }, 20s));
  CHECK(s.app.scalar("SELECT position FROM content.suggestions") == "1");
}
