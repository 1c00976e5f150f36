// The router against the fake OpenAI server: wire shapes, retries,
// fallbacks, the circuit breaker, deadlines, streaming and reasoning.
#include <atomic>
#include <boost/json.hpp>

#include "ai_router_fixture.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
using ai_router::AiError;
using test::FakeOpenAi;
using test::FakeReply;
using test::ait::ask;
using test::ait::deployment;
using test::ait::RouterFixture;
using Kind = ai_router::AiError::Kind;

namespace {

const std::string kAzure = "/models/chat/completions";
const std::string kOpenAi = "/v1/chat/completions";
const std::string kOther = "/other/chat/completions";

// generate: primary (Azure shape) -> backup (OpenAI shape) -> templates.
void two_models_and_templates(RouterFixture& f) {
  auto backup = deployment(f.fake, "backup", "backup", kOpenAi);
  backup.auth = ai_router::Auth::bearer;
  backup.api_version.clear();
  backup.price_in = 0.71;
  backup.price_out = 0.71;
  f.catalog.deployments = {deployment(f.fake, "primary", "primary"), backup, test::ait::templates_deployment()};
  f.catalog.routes = {{"generate", {"primary", "backup", "templates"}}, {"classify", {"primary", "backup"}}};
}

// The primary (kAzure) answers 503 while `healthy` (when given) is false,
// everything else answers normally; no retries, so every request is one
// failure for the primary's breaker.
void primary_down(RouterFixture& f, const std::atomic<bool>* healthy = nullptr) {
  f.config.retries = 0;
  f.fake.set_default([healthy](const test::FakeRequest& r) {
    if (r.path == kAzure && !(healthy && healthy->load())) return FakeOpenAi::error(503, "unavailable", "down");
    return FakeOpenAi::default_reply(r);
  });
}

size_t calls_to(RouterFixture& f, const std::string& path) {
  size_t n = 0;
  for (const auto& r : f.fake.requests()) n += r.path == path;
  return n;
}

}  // namespace

TEST_CASE("ai_router: a completion carries the deployment's URL, key and model, and costs exactly its price",
          "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.fake.script(kAzure, FakeReply{.body = FakeOpenAi::completion("Hi there!", 1200, 350)});
  f.start();
  auto req = ask("generate");
  req.params.temperature = 0.7;
  req.params.max_tokens = 100;
  req.request_id = "req-1";
  auto c = f.complete(req);
  CHECK(c.content == "Hi there!");
  CHECK(c.deployment == "primary");
  CHECK(c.alias == "primary");
  CHECK(c.usage.input_tokens == 1200);
  CHECK(c.usage.output_tokens == 350);
  // 1200 * 1.14 + 350 * 4.56 micro-dollars.
  CHECK(c.cost_micros == 1368 + 1596);
  CHECK(c.attempts == 1);
  CHECK_FALSE(c.cache_hit);

  auto sent = f.fake.requests().at(0);
  CHECK(sent.target == kAzure + "?api-version=2024-05-01-preview");
  CHECK(sent.header("api-key") == "key-primary");
  CHECK(sent.header("authorization").empty());
  CHECK(sent.header("x-request-id") == "req-1");
  auto body = sent.json().as_object();
  CHECK(body.at("model") == "model-primary");
  CHECK(body.at("temperature").as_double() == 0.7);
  CHECK(body.at("max_tokens") == 100);
  CHECK(body.at("messages").as_array().size() == 2);
  CHECK(body.at("messages").as_array()[1].at("content") == "hello");
  CHECK_FALSE(body.contains("stream"));
  CHECK(f.counter("huntaze_ai_requests_total", {"task", "outcome"}, {"generate", "ok"}) == 1);
}

TEST_CASE("ai_router: bearer deployments send Authorization and no api-version", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.start();
  auto c = f.complete(ask("backup"));  // an alias used directly as the task
  CHECK(c.deployment == "backup");
  auto sent = f.fake.requests().at(0);
  CHECK(sent.target == kOpenAi);
  CHECK(sent.header("authorization") == "Bearer key-backup");
  CHECK(sent.header("api-key").empty());
}

TEST_CASE("ai_router: images go out as content parts", "[ai_router]") {
  RouterFixture f;
  auto vision = deployment(f.fake, "phi", "phi");
  vision.capabilities = ai_router::kText | ai_router::kVision;
  f.catalog.deployments = {vision};
  f.catalog.routes = {{"vision", {"phi"}}};
  f.start();
  auto req = ask("vision", "describe");
  req.messages.back().image_urls = {"data:image/jpeg;base64,AAAA"};
  f.complete(req);
  auto content = f.fake.requests().at(0).json().at("messages").as_array()[1].at("content").as_array();
  REQUIRE(content.size() == 2);
  CHECK(content[0].at("type") == "text");
  CHECK(content[1].at("image_url").at("url") == "data:image/jpeg;base64,AAAA");
}

TEST_CASE("ai_router: 429 with retry-after-ms is retried on the same route, not failed over", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  auto limited = FakeOpenAi::error(429, "rate_limited", "slow down");
  limited.headers = {{"retry-after-ms", "20"}};
  f.fake.script(kAzure, {limited, FakeReply{.body = FakeOpenAi::completion("second time")}});
  f.start();
  auto c = f.complete(ask("generate"));
  CHECK(c.content == "second time");
  CHECK(c.deployment == "primary");
  CHECK(c.attempts == 2);
  CHECK(calls_to(f, kAzure) == 2);
  CHECK(f.counter("huntaze_ai_retries_total", {"deployment"}, {"primary"}) == 1);
}

TEST_CASE("ai_router: a Retry-After longer than the deadline fails over at once", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  auto limited = FakeOpenAi::error(429, "rate_limited", "come back in an hour");
  limited.headers = {{"retry-after", "3600"}};
  f.fake.script(kAzure, limited);
  f.start();
  auto c = f.complete(ask("generate"));
  CHECK(c.deployment == "backup");
  CHECK(calls_to(f, kAzure) == 1);
  CHECK(f.counter("huntaze_ai_fallbacks_total", {"task", "reason"}, {"generate", "http_429"}) == 1);
}

TEST_CASE("ai_router: 500s, resets, malformed JSON and stalls are retried, then the next alias answers",
          "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.catalog.deployments[0].timeout = 300ms;  // for the stall
  FakeReply stall;
  stall.fault = FakeReply::Fault::stall;
  FakeReply reset;
  reset.fault = FakeReply::Fault::reset_before_headers;
  FakeReply malformed{.body = R"({"choices": [)"};

  SECTION("500 then success") {
    f.fake.script(kAzure, {FakeOpenAi::error(500, "server_error", "oops"), FakeReply{.body = FakeOpenAi::completion("ok")}});
    f.start();
    auto c = f.complete(ask("generate"));
    CHECK(c.deployment == "primary");
    CHECK(c.attempts == 2);
  }
  SECTION("a reset, a stall and malformed JSON exhaust the retries; the backup answers") {
    f.fake.script(kAzure, {reset, stall, malformed});
    f.start();
    auto c = f.complete(ask("generate"));
    CHECK(c.deployment == "backup");
    CHECK(c.attempts == 4);
    CHECK(calls_to(f, kAzure) == 3);
    CHECK(f.counter("huntaze_ai_upstream_calls_total", {"deployment", "outcome"}, {"primary", "connect"}) == 1);
    CHECK(f.counter("huntaze_ai_upstream_calls_total", {"deployment", "outcome"}, {"primary", "timeout"}) == 1);
    CHECK(f.counter("huntaze_ai_upstream_calls_total", {"deployment", "outcome"}, {"primary", "malformed"}) == 1);
  }
}

TEST_CASE("ai_router: content filters and context overflows fall back without retrying", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  SECTION("an Azure content_filter error") {
    f.fake.script(kAzure, FakeOpenAi::error(400, "content_filter", "filtered"));
    f.start();
    CHECK(f.complete(ask("generate")).deployment == "backup");
    CHECK(calls_to(f, kAzure) == 1);
  }
  SECTION("a 200 whose finish_reason is content_filter") {
    f.fake.script(kAzure, FakeReply{.body = FakeOpenAi::completion("", 10, 0, "content_filter")});
    f.start();
    CHECK(f.complete(ask("generate")).deployment == "backup");
  }
  SECTION("a context_length_exceeded error") {
    f.fake.script(kAzure, FakeOpenAi::error(400, "context_length_exceeded", "This model's maximum context length is 8192 tokens"));
    f.start();
    CHECK(f.complete(ask("generate")).deployment == "backup");
    CHECK(calls_to(f, kAzure) == 1);
  }
  SECTION("a prompt larger than the context window skips the deployment without calling it") {
    f.catalog.deployments[0].context_window = 100;
    f.start();
    CHECK(f.complete(ask("generate", std::string(2000, 'x'))).deployment == "backup");
    CHECK(calls_to(f, kAzure) == 0);
  }
  SECTION("refused everywhere: content_filter, not unavailable") {
    f.fake.script(kAzure, FakeOpenAi::error(400, "content_filter", "filtered"));
    f.fake.script(kOpenAi, FakeOpenAi::error(400, "content_filter", "filtered"));
    f.start();
    CHECK(f.failure(ask("classify")) == Kind::content_filter);
  }
}

TEST_CASE("ai_router: a request the upstream calls invalid fails at once, without fallback", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.fake.script(kAzure, FakeOpenAi::error(400, "invalid_value", "bad seed"));
  f.start();
  CHECK(f.failure(ask("generate")) == Kind::bad_request);
  CHECK(f.fake.request_count() == 1);
}

TEST_CASE("ai_router: invalid requests and unknown tasks are refused before any call", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.start();
  CHECK(f.failure(ask("no-such-task")) == Kind::unknown_task);
  auto no_messages = ask("generate");
  no_messages.messages.clear();
  CHECK(f.failure(no_messages) == Kind::bad_request);
  auto bad_role = ask("generate");
  bad_role.messages[0].role = "tool";
  CHECK(f.failure(bad_role) == Kind::bad_request);
  auto hot = ask("generate");
  hot.params.temperature = 3;
  CHECK(f.failure(hot) == Kind::bad_request);
  auto local_image = ask("generate");
  local_image.messages[1].image_urls = {"file:///etc/passwd"};
  CHECK(f.failure(local_image) == Kind::bad_request);
  auto huge = ask("generate", std::string((1 << 20) + 1, 'x'));
  CHECK(f.failure(huge) == Kind::bad_request);
  CHECK(f.fake.request_count() == 0);
}

TEST_CASE("ai_router: the circuit breaker stops calls to a failing deployment", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  primary_down(f);
  f.start();
  for (int i = 0; i < 3; ++i) CHECK(f.complete(ask("generate")).deployment == "backup");
  CHECK(calls_to(f, kAzure) == 3);
  // Tripped: the next requests go straight to the backup.
  for (int i = 0; i < 5; ++i) CHECK(f.complete(ask("generate")).deployment == "backup");
  CHECK(calls_to(f, kAzure) == 3);
  CHECK(f.registry.gauge("huntaze_ai_breaker_state", "", {"deployment"}).with({"primary"}).value() == 2);
  auto status = f.router->status();
  bool open = false;
  for (const auto& d : status.deployments) open = open || (d.name == "primary" && d.breaker == "open");
  CHECK(open);
}

TEST_CASE("ai_router: a reload keeps a deployment's breaker unless its settings changed", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  primary_down(f);
  f.start();
  for (int i = 0; i < 3; ++i) CHECK(f.complete(ask("generate")).deployment == "backup");
  REQUIRE(calls_to(f, kAzure) == 3);  // tripped
  // The same settings (a SIGHUP that changed prices, say): still open.
  f.router->reload(f.catalog, f.config);
  CHECK(f.complete(ask("generate")).deployment == "backup");
  CHECK(calls_to(f, kAzure) == 3);
  // New breaker settings: a fresh breaker lets the primary be tried again.
  f.config.breaker.consecutive_failures = 4;
  f.router->reload(f.catalog, f.config);
  CHECK(f.complete(ask("generate")).deployment == "backup");
  CHECK(calls_to(f, kAzure) == 4);
}

TEST_CASE("ai_router: a tripped deployment gets a probe after the cool-down and closes on success",
          "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.config.breaker.cooldown = 200ms;
  std::atomic<bool> healthy{false};
  primary_down(f, &healthy);
  f.start();
  for (int i = 0; i < 3; ++i) f.complete(ask("generate"));
  healthy = true;
  CHECK(f.complete(ask("generate")).deployment == "backup");  // still open
  std::this_thread::sleep_for(250ms);
  CHECK(f.complete(ask("generate")).deployment == "primary");  // the half-open probe
  CHECK(f.complete(ask("generate")).deployment == "primary");  // closed again
}

TEST_CASE("ai_router: weights decide among deployments of one alias", "[ai_router]") {
  RouterFixture f;
  auto a = deployment(f.fake, "east", "shared", kAzure);
  auto b = deployment(f.fake, "west", "shared", kOther);
  b.weight = 0;  // drained: never chosen while another can serve
  f.catalog.deployments = {a, b};
  f.catalog.routes = {{"generate", {"shared"}}};
  f.start();
  for (int i = 0; i < 20; ++i) CHECK(f.complete(ask("generate")).deployment == "east");
  CHECK(calls_to(f, kOther) == 0);
}

TEST_CASE("ai_router: a deployment's requests-per-minute quota sends the rest to the next alias", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.catalog.deployments[0].rpm = 2;
  f.start();
  // The window is the steady clock's minute: stay clear of its end.
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch()).count() % 60;
  if (second > 50) std::this_thread::sleep_for(std::chrono::seconds(62 - second));
  CHECK(f.complete(ask("generate", "1")).deployment == "primary");
  CHECK(f.complete(ask("generate", "2")).deployment == "primary");
  CHECK(f.complete(ask("generate", "3")).deployment == "backup");
  CHECK(calls_to(f, kAzure) == 2);
}

TEST_CASE("ai_router: the deadline bounds retries and fallbacks", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.catalog.routes = {{"classify", {"primary", "backup"}}};
  FakeReply stall;
  stall.fault = FakeReply::Fault::stall;
  f.fake.set_default([stall](const test::FakeRequest&) { return stall; });
  f.start();
  auto req = ask("classify");
  req.deadline = 300ms;
  CHECK(f.failure(req) == Kind::deadline);
}

TEST_CASE("ai_router: a request without its own deadline gets the configured ai.deadline", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.catalog.routes = {{"classify", {"primary", "backup"}}};
  FakeReply stall;
  stall.fault = FakeReply::Fault::stall;
  f.fake.set_default([stall](const test::FakeRequest&) { return stall; });
  f.config.default_deadline = 300ms;
  f.start();
  auto req = ask("classify");
  req.deadline.reset();
  CHECK(f.failure(req) == Kind::deadline);
  // The one call was cut at the configured deadline: no retry, no fallback
  // (with the 30 s default, the stalled call would time out and be retried).
  CHECK(f.fake.request_count() == 1);
}

TEST_CASE("ai_router: reasoning arrives apart whether sent as reasoning_content or in think tags", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.fake.script(kAzure, {FakeReply{.body = FakeOpenAi::completion("42", 10, 5, "stop", "r1", "Let me think.")},
                         FakeReply{.body = FakeOpenAi::completion("<think>Step by step.</think>\n\n42")}});
  f.start();
  auto a = f.complete(ask("generate", "a"));
  CHECK(a.content == "42");
  CHECK(a.reasoning == "Let me think.");
  auto b = f.complete(ask("generate", "b"));
  CHECK(b.content == "42");
  CHECK(b.reasoning == "Step by step.");
}

TEST_CASE("ai_router: templates answer offline when no model is usable", "[ai_router]") {
  RouterFixture f;
  auto keyless = deployment(f.fake, "primary", "primary");
  keyless.key = Secret("");  // configured without a key: skipped
  f.catalog.deployments = {keyless, test::ait::templates_deployment()};
  f.catalog.routes = {{"generate", {"primary", "templates"}}, {"classify", {"primary"}}};
  f.start();
  auto c = f.complete(ask("generate", "are you there?"));
  CHECK(c.deployment == "templates");
  CHECK_FALSE(c.content.empty());
  CHECK(c.cost_micros == 0);
  CHECK(f.complete(ask("generate", "are you there?")).content == c.content);  // stable
  CHECK(f.failure(ask("classify")) == Kind::unavailable);
  CHECK(f.fake.request_count() == 0);
}

TEST_CASE("ai_router: a caller that goes away mid-stream ends the call without blaming the deployment",
          "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  f.fake.script(kAzure, FakeReply{.sse_data = FakeOpenAi::completion_chunks({"one", "two", "three", "four"})});
  f.start();
  int seen = 0;
  ai_router::DeltaSink sink = [&](const ai_router::Delta&) -> boost::asio::awaitable<void> {
    if (++seen == 2) throw std::runtime_error("the browser went away");
    co_return;
  };
  CHECK_THROWS_WITH(f.io.block(f.router->stream(ask("generate"), sink)), "the browser went away");
  CHECK(seen == 2);
  CHECK(f.fake.request_count() == 1);  // no fallback: the caller is gone
  bool closed = false;
  for (const auto& d : f.router->status().deployments)
    if (d.name == "primary") closed = d.breaker == "closed" && d.in_flight == 0;
  CHECK(closed);
  // The deployment takes the next request as usual.
  CHECK(f.complete(ask("generate")).deployment == "primary");
}

TEST_CASE("ai_router: streams deliver pieces in order and account from the usage chunk", "[ai_router]") {
  RouterFixture f;
  two_models_and_templates(f);
  std::vector<std::string> pieces;
  ai_router::DeltaSink sink = [&](const ai_router::Delta& d) -> boost::asio::awaitable<void> {
    pieces.push_back(d.content);
    co_return;
  };

  SECTION("a normal stream") {
    f.fake.script(kAzure, FakeReply{.sse_data = FakeOpenAi::completion_chunks({"Hel", "lo", "!"}, 100, 3)});
    f.start();
    auto c = f.io.block(f.router->stream(ask("generate"), sink));
    CHECK(pieces == std::vector<std::string>{"Hel", "lo", "!"});
    CHECK(c.content == "Hello!");
    CHECK(c.usage.input_tokens == 100);
    CHECK(c.usage.output_tokens == 3);
    CHECK(c.cost_micros == 114 + 14);  // 100 * 1.14 + 3 * 4.56 = 127.68 -> 128
    auto body = f.fake.requests().at(0).json().as_object();
    CHECK(body.at("stream") == true);
    CHECK(body.at("stream_options").at("include_usage") == true);
  }
  SECTION("think tags split across pieces") {
    f.fake.script(kAzure, FakeReply{.sse_data = FakeOpenAi::completion_chunks({"<thi", "nk>hmm</th", "ink>Yes"})});
    f.start();
    auto c = f.io.block(f.router->stream(ask("generate"), sink));
    CHECK(c.reasoning == "hmm");
    CHECK(c.content == "Yes");
  }
  SECTION("a failure before the first piece falls back") {
    FakeReply broken{.sse_data = {R"({"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"}};
    broken.fault = FakeReply::Fault::reset_after_events;
    f.config.retries = 0;
    f.fake.script(kAzure, broken);
    f.start();
    auto c = f.io.block(f.router->stream(ask("generate"), sink));
    CHECK(c.deployment == "backup");
    CHECK(c.content == "ok");
  }
  SECTION("a failure after the first piece is stream_broken, never a second answer") {
    FakeReply broken{.sse_data = FakeOpenAi::completion_chunks({"Hel", "lo"})};
    broken.sse_data.resize(2);  // role chunk and "Hel"
    broken.fault = FakeReply::Fault::reset_after_events;
    f.fake.script(kAzure, broken);
    f.start();
    try {
      f.io.block(f.router->stream(ask("generate"), sink));
      FAIL("the stream succeeded");
    } catch (const AiError& e) {
      CHECK(e.kind() == Kind::stream_broken);
    }
    CHECK(pieces == std::vector<std::string>{"Hel"});
    CHECK(calls_to(f, kOpenAi) == 0);
  }
  SECTION("an error event inside the stream before any piece is retried") {
    FakeReply with_error{.sse_data = {R"({"error":{"message":"overloaded","code":"server_error"}})"}};
    f.fake.script(kAzure, with_error);
    f.start();
    auto c = f.io.block(f.router->stream(ask("generate"), sink));
    CHECK(c.deployment == "primary");
    CHECK(c.attempts == 2);
  }
}

TEST_CASE("ai_router: transcription posts the audio as multipart to the Whisper deployment", "[ai_router]") {
  RouterFixture f;
  auto whisper = deployment(f.fake, "whisper", "whisper", "/openai/deployments/whisper/audio/transcriptions");
  whisper.provider = ai_router::Provider::openai_audio;
  whisper.capabilities = ai_router::kAudio;
  f.catalog.deployments = {whisper};
  f.catalog.routes = {{"transcribe", {"whisper"}}};
  f.fake.script("/openai/deployments/whisper/audio/transcriptions",
                {FakeOpenAi::error(500, "server_error", "busy"), FakeReply{.body = R"({"text":"bonjour tout le monde"})"}});
  f.start();
  ai_router::TranscribeRequest req;
  req.audio = std::string("RIFF\0\0\0\0WAVEfmt ", 16) + std::string(1000, '\x7f');
  req.language = "fr";
  auto t = f.io.block(f.router->transcribe(req));
  CHECK(t.text == "bonjour tout le monde");
  CHECK(t.deployment == "whisper");
  CHECK(t.attempts == 2);
  auto sent = f.fake.requests().at(1);
  CHECK(sent.header("content-type").starts_with("multipart/form-data; boundary="));
  CHECK(sent.header("api-key") == "key-whisper");
  CHECK(sent.body.find("name=\"file\"; filename=\"audio.wav\"") != std::string::npos);
  CHECK(sent.body.find(req.audio) != std::string::npos);
  CHECK(sent.body.find("name=\"language\"\r\n\r\nfr\r\n") != std::string::npos);
  CHECK(sent.body.find("name=\"model\"\r\n\r\nmodel-whisper\r\n") != std::string::npos);

  ai_router::TranscribeRequest empty;
  CHECK_THROWS_AS(f.io.block(f.router->transcribe(empty)), ai_router::AiError);
}
