// The media tests' fixture: the whole App with the fake OpenAI server as the
// `vision` and `transcribe` deployments, media fixtures from
// HUNTAZE_TEST_MEDIA (made by test/support/media/make_fixtures.sh), and
// helpers to upload a file and wait for its processing to end.
#pragma once

#include <fstream>
#include <sstream>
#include <thread>

#include "ai_router_fixture.hpp"
#include "content_fixture.hpp"
#include "huntaze/core/digest.hpp"
#include "support/harness.hpp"

namespace huntaze::test::mediat {

using namespace huntaze::test::contentt;
using namespace std::chrono_literals;

// The link key every test App has (support/app_config.hpp).
inline constexpr const char* kLinkKey = "test-media-link-key-0123456789-abcdefghij";

inline std::string fixture(const std::string& name) {
  const char* dir = std::getenv("HUNTAZE_TEST_MEDIA");
  REQUIRE(dir != nullptr);
  std::ifstream in(std::string(dir) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

inline const char* kAnalysis =
    R"({"description":"A test pattern that brightens over ten seconds.","tags":["Test","pattern","test"],)"
    R"("captions":["Watch it glow","Ten seconds of light"],"quality_issues":["dark","grainy"],)"
    R"("content_rating":"general","extra":"dropped"})";

// The fake models: vision answers kAnalysis in a ```json fence, Whisper
// answers a fixed text.
inline test::FakeReply media_model(const test::FakeRequest& r) {
  if (r.path.find("audio/transcriptions") != std::string::npos)
    return test::FakeReply{.body = R"({"text":"a steady four hundred and forty hertz tone"})"};
  return test::FakeReply{.body = test::FakeOpenAi::completion(std::string("```json\n") + kAnalysis + "\n```")};
}

struct MediaApp {
  explicit MediaApp(const std::function<void(app::AppConfig&)>& adjust = {})
      : fake(2), app([&](app::AppConfig& c) {
          auto eye = test::ait::deployment(fake, "eye", "eye");
          eye.capabilities = ai_router::kText | ai_router::kVision | ai_router::kJson;
          auto whisper =
              test::ait::deployment(fake, "whisper", "whisper", "/openai/deployments/whisper/audio/transcriptions");
          whisper.provider = ai_router::Provider::openai_audio;
          whisper.capabilities = ai_router::kAudio;
          c.ai.catalog.deployments.push_back(eye);
          c.ai.catalog.deployments.push_back(whisper);
          c.ai.catalog.routes["vision"] = {"eye"};
          c.ai.catalog.routes["transcribe"] = {"whisper"};
          c.ai.router = test::ait::fast_config();
          root = c.media.storage.local_root.string();
          c.jobs.kinds["media.process"] =
              jobs::KindPolicyOverride{.max_attempts = 2, .backoff_base = 10ms, .backoff_max = 20ms};
          if (adjust) adjust(c);
        }) {
    fake.set_default(media_model);
  }

  // POST /api/v1/media?name=<name> with the bytes as the body.
  Reply upload(const std::string& token, const std::string& bytes, const std::string& name = "clip.mp4") {
    return app.as(token, "POST", "/api/v1/media?name=" + name, bytes);
  }

  // Polls the asset until it is ready or failed (processing is a job).
  json::object wait_processed(const std::string& token, const std::string& id) {
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      Reply r = app.as(token, "GET", "/api/v1/media/" + id);
      REQUIRE(r.status == 200);
      const std::string status(r.body.at("status").as_string());
      if (status == "ready" || status == "failed") return r.body.as_object();
      REQUIRE(std::chrono::steady_clock::now() < give_up);
      std::this_thread::sleep_for(50ms);
    }
  }

  // An upload that must be accepted, then its processed state.
  json::object upload_processed(const std::string& token, const std::string& bytes) {
    Reply up = upload(token, bytes);
    REQUIRE(up.status == 201);
    return wait_processed(token, up.str("id"));
  }

  // Whether `count` jobs of `kind` completed within `timeout` (jobs run in
  // the background).
  bool jobs_completed(const std::string& kind, int count, std::chrono::milliseconds timeout) {
    return test::eventually(
        [&] {
          return app.scalar("SELECT count(*) FROM jobs.jobs WHERE kind = '" + kind + "' AND state = 'completed'") ==
                 std::to_string(count);
        },
        timeout);
  }

  // GET of a signed link (a path: the tests leave media.link_base empty).
  HttpResponse fetch(const std::string& url, const std::string& headers = "") {
    return http_get(app.app->port(), url, headers);
  }

  std::string media_root() const { return root; }

  test::FakeOpenAi fake;
  std::string root;
  ContentApp app;
};

inline std::string sha256_hex(const std::string& bytes) {
  return hex_digest(DigestKind::sha256, bytes);
}

}  // namespace huntaze::test::mediat
