// The ai_router's HTTP API end to end: our server, the real router and usage
// log, the fake OpenAI server upstream; answers parsed as a strict client
// would parse them.
#include <boost/json.hpp>
#include <set>

#include "ai_router/api_routes.hpp"
#include "ai_router/usage_log.hpp"
#include "ai_router_fixture.hpp"
#include "db_fixture.hpp"
#include "support/test_server.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace json = boost::json;
using test::FakeOpenAi;
using test::FakeReply;
using test::ait::RouterFixture;

namespace {

const std::string kWorkspaceA = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const std::string kWorkspaceB = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";

struct ApiFixture {
  explicit ApiFixture(double sample_rate = 0) {
    rf.catalog.deployments = {test::ait::deployment(rf.fake, "primary", "primary"), test::ait::templates_deployment()};
    rf.catalog.routes = {{"generate", {"primary", "templates"}}};
    ai_router::UsageLogConfig usage_config;
    usage_config.flush_every = 10ms;
    usage_config.sample_rate = sample_rate;
    usage = std::make_unique<ai_router::UsageLog>(rf.io.executor(), *dbf.db, rf.clock, rf.registry, usage_config);
    rf.io.block(usage->start());
    rf.start(nullptr, usage.get());
    ai_router::register_ai_routes(server.router, {*rf.router, *dbf.db, rf.clock});
    server.start();
  }
  ~ApiFixture() {
    server.stop();
    rf.io.block(usage->stop());
  }

  http::ClientResponse post(const std::string& body, std::vector<std::pair<std::string, std::string>> headers = {},
                            std::function<void(std::string_view)> on_chunk = {}) {
    http::ClientRequest req;
    req.method = "POST";
    req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1/ai/chat/completions";
    req.headers = std::move(headers);
    req.headers.emplace_back("content-type", "application/json");
    req.body = body;
    req.on_chunk = std::move(on_chunk);
    return rf.io.block(rf.client->send(std::move(req)));
  }

  http::ClientResponse get(const std::string& path, std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(server.port()) + path;
    req.headers = std::move(headers);
    return rf.io.block(rf.client->send(std::move(req)));
  }

  test::dbt::DbFixture dbf;
  RouterFixture rf;
  std::unique_ptr<ai_router::UsageLog> usage;
  test::TestServer server;
};

std::string chat(const std::string& text, bool stream = false, bool include_usage = false) {
  json::object body{{"model", "generate"},
                    {"messages", json::array{json::object{{"role", "system"}, {"content", "Be kind."}},
                                             json::object{{"role", "user"}, {"content", text}}}},
                    {"temperature", 0.5}};
  if (stream) body["stream"] = true;
  if (include_usage) body["stream_options"] = json::object{{"include_usage", true}};
  return json::serialize(body);
}

// Every event of an SSE body, strictly: "data: <payload>\n\n" and nothing else.
std::vector<std::string> sse_events(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    REQUIRE(body.compare(pos, 6, "data: ") == 0);
    const size_t end = body.find("\n\n", pos);
    REQUIRE(end != std::string::npos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("ai api: a chat completion in OpenAI's shape", "[ai_api]") {
  ApiFixture f;
  f.rf.fake.script("/models/chat/completions", FakeReply{.body = FakeOpenAi::completion("Hello, friend", 40, 4)});
  auto res = f.post(chat("hi"), {{"x-huntaze-workspace", kWorkspaceA}});
  REQUIRE(res.status == 200);
  CHECK(res.header("content-type").starts_with("application/json"));
  CHECK(res.header("x-huntaze-deployment") == "primary");
  CHECK(res.header("x-huntaze-cache") == "miss");
  auto body = json::parse(res.body).as_object();
  CHECK(body.at("object") == "chat.completion");
  CHECK(body.at("id").as_string().size() > 0);
  CHECK(body.at("created").is_int64());
  auto choice = body.at("choices").as_array().at(0).as_object();
  CHECK(choice.at("index") == 0);
  CHECK(choice.at("message").at("role") == "assistant");
  CHECK(choice.at("message").at("content") == "Hello, friend");
  CHECK(choice.at("finish_reason") == "stop");
  CHECK(body.at("usage").at("prompt_tokens") == 40);
  CHECK(body.at("usage").at("completion_tokens") == 4);
  CHECK(body.at("usage").at("total_tokens") == 44);
  // What went upstream: our parameters, the deployment's model.
  auto sent = f.rf.fake.requests().at(0).json().as_object();
  CHECK(sent.at("model") == "model-primary");
  CHECK(sent.at("temperature").as_double() == 0.5);
}

TEST_CASE("ai api: a streamed chat completion ends with usage and DONE", "[ai_api]") {
  ApiFixture f;
  f.rf.fake.script("/models/chat/completions",
                   FakeReply{.sse_data = FakeOpenAi::completion_chunks({"One", " two", " three"}, 30, 3)});
  std::string streamed;
  auto res = f.post(chat("count", true, true), {}, [&](std::string_view piece) { streamed.append(piece); });
  REQUIRE(res.status == 200);
  CHECK(res.header("content-type").starts_with("text/event-stream"));
  auto events = sse_events(streamed);
  REQUIRE(events.size() >= 5);
  CHECK(events.back() == "[DONE]");
  std::string content;
  std::string id;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    auto chunk = json::parse(events[i]).as_object();
    CHECK(chunk.at("object") == "chat.completion.chunk");
    if (id.empty()) id = std::string(chunk.at("id").as_string());
    CHECK(chunk.at("id").as_string() == id);  // one id for the whole stream
    auto delta = chunk.at("choices").as_array().at(0).at("delta").as_object();
    if (i == 0) CHECK(delta.at("role") == "assistant");
    if (delta.contains("content")) content += std::string(delta.at("content").as_string());
  }
  CHECK(content == "One two three");
  auto last = json::parse(events[events.size() - 3]).as_object();
  CHECK(last.at("choices").as_array().at(0).at("finish_reason") == "stop");
  auto usage = json::parse(events[events.size() - 2]).as_object();
  CHECK(usage.at("choices").as_array().empty());
  CHECK(usage.at("usage").at("total_tokens") == 33);
}

TEST_CASE("ai api: bad requests get clear errors", "[ai_api]") {
  ApiFixture f;
  CHECK(f.post("{not json").status == 400);
  CHECK(f.post(R"({"messages": []})").status == 400);
  auto unknown = f.post(R"({"model": "gpt-17", "messages": [{"role": "user", "content": "x"}]})");
  CHECK(unknown.status == 404);
  CHECK(json::parse(unknown.body).at("error").at("code") == "unknown_model");
  auto unsupported = f.post(R"({"model": "generate", "tools": [], "messages": [{"role": "user", "content": "x"}]})");
  CHECK(unsupported.status == 400);
  CHECK(f.post(chat("x"), {{"x-huntaze-workspace", "not-a-uuid"}}).status == 400);
  CHECK(f.post(chat("x"), {{"x-huntaze-cache-ttl", "soon"}}).status == 400);
  CHECK(f.post(chat("x"), {{"x-huntaze-cache-ttl", "10abc"}}).status == 400);
  CHECK(f.post(chat("x"), {{"x-huntaze-cache-ttl", "0"}}).status == 400);
  // Streamed requests are refused with their status too, before the 200 of a stream goes out.
  auto bad_stream = f.post(R"({"model": "generate", "stream": true, "temperature": 7,
                               "messages": [{"role": "tool", "content": "x"}]})");
  CHECK(bad_stream.status == 400);
  CHECK(json::parse(bad_stream.body).at("error").at("code") == "bad_request");
  auto unknown_stream = f.post(R"({"model": "gpt-17", "stream": true, "messages": [{"role": "user", "content": "x"}]})");
  CHECK(unknown_stream.status == 404);
  CHECK(json::parse(unknown_stream.body).at("error").at("code") == "unknown_model");
  CHECK(f.rf.fake.request_count() == 0);
}

TEST_CASE("ai api: when every model fails the status says so", "[ai_api]") {
  ApiFixture f;
  f.rf.catalog.routes = {{"generate", {"primary"}}};
  f.rf.router->reload(f.rf.catalog, f.rf.config);
  f.rf.fake.set_default([](const test::FakeRequest&) { return FakeOpenAi::error(503, "down", "maintenance"); });
  auto res = f.post(chat("hi"));
  CHECK(res.status == 503);
  CHECK(json::parse(res.body).at("error").at("code") == "unavailable");
}

TEST_CASE("ai api: usage is reported per workspace, day, task and model", "[ai_api]") {
  ApiFixture f;
  f.rf.fake.set_default([](const test::FakeRequest&) { return FakeReply{.body = FakeOpenAi::completion("ok", 1000, 100, "stop", "DeepSeek-V3")};
  });
  REQUIRE(f.post(chat("a"), {{"x-huntaze-workspace", kWorkspaceA}}).status == 200);
  // The same workspace spelled in capitals is the same tenant.
  std::string upper = kWorkspaceA;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  REQUIRE(f.post(chat("b"), {{"x-huntaze-workspace", upper}}).status == 200);
  REQUIRE(f.post(chat("c"), {{"x-huntaze-workspace", kWorkspaceB}}).status == 200);
  f.rf.io.block(f.usage->flush());

  auto a = f.get("/api/v1/ai/usage", {{"x-huntaze-workspace", kWorkspaceA}});
  REQUIRE(a.status == 200);
  auto rows = json::parse(a.body).at("data").as_array();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("task") == "generate");
  CHECK(rows[0].at("model") == "DeepSeek-V3");  // as the upstream named it
  CHECK(rows[0].at("calls") == 2);
  CHECK(rows[0].at("input_tokens") == 2000);
  CHECK(rows[0].at("output_tokens") == 200);
  // 2 x (1000 x 1.14 + 100 x 4.56) micro-dollars.
  CHECK(rows[0].at("cost_microdollars") == 2 * (1140 + 456));

  auto b = f.get("/api/v1/ai/usage", {{"x-huntaze-workspace", kWorkspaceB}});
  CHECK(json::parse(b.body).at("data").as_array().at(0).at("calls") == 1);
  auto platform = f.get("/api/v1/ai/usage");
  CHECK(json::parse(platform.body).at("data").as_array().empty());
  CHECK(f.get("/api/v1/ai/usage?from=yesterday").status == 400);
}

TEST_CASE("ai api: models lists tasks, aliases and deployment health", "[ai_api]") {
  ApiFixture f;
  auto res = f.get("/api/v1/ai/models");
  REQUIRE(res.status == 200);
  auto body = json::parse(res.body).as_object();
  CHECK(body.at("object") == "list");
  std::set<std::string> ids;
  for (const auto& m : body.at("data").as_array()) ids.insert(std::string(m.at("id").as_string()));
  CHECK(ids == std::set<std::string>{"generate", "primary", "templates"});
  bool primary_closed = false;
  for (const auto& d : body.at("deployments").as_array())
    primary_closed = primary_closed || (d.at("name") == "primary" && d.at("breaker") == "closed");
  CHECK(primary_closed);
}

TEST_CASE("ai api: sampled calls keep prompt and answer next to their usage row, unsampled ones keep neither",
          "[ai_api]") {
  auto scalar = [](ApiFixture& f, const std::string& sql) { return test::admin_scalar(f.dbf.url, sql); };
  SECTION("sample_rate 1") {
    ApiFixture f(1.0);
    f.rf.fake.script("/models/chat/completions", FakeReply{.body = FakeOpenAi::completion("Hello, friend", 40, 4)});
    REQUIRE(f.post(chat("hi there"), {{"x-huntaze-workspace", kWorkspaceA}, {"x-request-id", "req-sampled"}}).status ==
            200);
    f.rf.io.block(f.usage->flush());
    REQUIRE(scalar(f, "SELECT count(*) FROM ai.prompt_samples") == "1");
    CHECK(scalar(f, "SELECT response FROM ai.prompt_samples") == "Hello, friend");
    CHECK(scalar(f, "SELECT workspace_id FROM ai.prompt_samples") == kWorkspaceA);
    // The same call as its usage row, by request id (the model as the upstream named it).
    CHECK(scalar(f, "SELECT count(*) FROM ai.prompt_samples s JOIN ai.usage u USING (request_id) "
                    "WHERE s.model = u.model AND s.task = u.task AND s.at = u.at") == "1");
    const auto request = json::parse(scalar(f, "SELECT request FROM ai.prompt_samples")).as_object();
    CHECK(request.at("task") == "generate");
    CHECK(request.at("messages").as_array().at(1).at("content") == "hi there");
    CHECK(request.at("temperature").as_double() == 0.5);
  }
  SECTION("sample_rate 0") {
    ApiFixture f;
    f.rf.fake.script("/models/chat/completions", FakeReply{.body = FakeOpenAi::completion("Hello, friend", 40, 4)});
    REQUIRE(f.post(chat("hi there"), {{"x-huntaze-workspace", kWorkspaceA}}).status == 200);
    f.rf.io.block(f.usage->flush());
    CHECK(scalar(f, "SELECT count(*) FROM ai.usage") == "1");
    CHECK(scalar(f, "SELECT count(*) FROM ai.prompt_samples") == "0");
  }
}
