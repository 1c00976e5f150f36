// The response cache key: equal requests share it, any difference in what is
// asked (or who asks) changes it.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <set>

#include "ai_router/cache_key.hpp"
#include "ai_router/response_cache.hpp"

using namespace huntaze::ai_router;
using namespace std::chrono_literals;

namespace {

AiRequest sample() {
  AiRequest r;
  r.task = "generate";
  r.workspace = "0190c3a4-0000-7000-8000-000000000001";
  Message system{"system", "You are a helpful creator assistant.", {}};
  Message user{"user", "Describe this picture", {"https://cdn.example/a.png", "data:image/png;base64,AAAA"}};
  r.messages = {system, user};
  r.params.temperature = 0.7;
  r.params.top_p = 0.9;
  r.params.max_tokens = 256;
  r.params.seed = 42;
  r.params.stop = {"\n\n", "END"};
  r.params.json = false;
  return r;
}

const std::string kRoute = "generate";

std::string key_of(const AiRequest& r, std::string_view route = kRoute) { return cache_key(r, route); }

}  // namespace

TEST_CASE("ai cache key: prefix, hex length, stable for equal requests", "[ai_cache]") {
  const auto key = key_of(sample());
  REQUIRE(key.rfind("huntaze:ai:c1:", 0) == 0);
  REQUIRE(key.size() == std::string("huntaze:ai:c1:").size() + 64);
  const auto hex = key.substr(14);
  CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(key_of(sample()) == key);
  AiRequest copy = sample();
  CHECK(key_of(copy) == key);
}

TEST_CASE("ai cache key: any message, param, route or workspace difference changes it", "[ai_cache]") {
  const auto base = key_of(sample());
  using Change = std::function<void(AiRequest&)>;
  const std::vector<std::pair<std::string, Change>> changes = {
      {"workspace", [](AiRequest& r) { r.workspace = "0190c3a4-0000-7000-8000-000000000002"; }},
      {"platform workspace", [](AiRequest& r) { r.workspace.clear(); }},
      {"role", [](AiRequest& r) { r.messages[0].role = "user"; }},
      {"content", [](AiRequest& r) { r.messages[1].content += "."; }},
      {"image url", [](AiRequest& r) { r.messages[1].image_urls[0] = "https://cdn.example/b.png"; }},
      {"image order", [](AiRequest& r) { std::swap(r.messages[1].image_urls[0], r.messages[1].image_urls[1]); }},
      {"image dropped", [](AiRequest& r) { r.messages[1].image_urls.pop_back(); }},
      {"message order", [](AiRequest& r) { std::swap(r.messages[0], r.messages[1]); }},
      {"message added", [](AiRequest& r) { r.messages.push_back({"assistant", "", {}}); }},
      {"message dropped", [](AiRequest& r) { r.messages.pop_back(); }},
      {"temperature", [](AiRequest& r) { r.params.temperature = 0.7000000000000001; }},
      {"top_p", [](AiRequest& r) { r.params.top_p = 0.95; }},
      {"max_tokens", [](AiRequest& r) { r.params.max_tokens = 257; }},
      {"seed", [](AiRequest& r) { r.params.seed = 43; }},
      {"stop value", [](AiRequest& r) { r.params.stop[1] = "STOP"; }},
      {"stop order", [](AiRequest& r) { std::swap(r.params.stop[0], r.params.stop[1]); }},
      {"stop dropped", [](AiRequest& r) { r.params.stop.pop_back(); }},
      {"json", [](AiRequest& r) { r.params.json = true; }},
  };
  std::set<std::string> seen{base};
  for (const auto& [name, change] : changes) {
    INFO(name);
    AiRequest r = sample();
    change(r);
    const auto key = key_of(r);
    CHECK(key != base);
    CHECK(seen.insert(key).second);  // and differ from each other
  }
  INFO("route");
  CHECK(key_of(sample(), "reason") != base);
  CHECK(key_of(sample(), "deepseek-v3") != base);
}

TEST_CASE("ai cache key: an absent optional differs from zero", "[ai_cache]") {
  AiRequest absent = sample();
  absent.params = {};
  AiRequest zero = absent;
  SECTION("temperature") { zero.params.temperature = 0.0; }
  SECTION("top_p") { zero.params.top_p = 0.0; }
  SECTION("max_tokens") { zero.params.max_tokens = 0; }
  SECTION("seed") { zero.params.seed = 0; }
  SECTION("an empty stop string is not no stop") { zero.params.stop = {""}; }
  CHECK(key_of(absent) != key_of(zero));
}

TEST_CASE("ai cache key: strings are delimited, so moving bytes across a boundary changes it", "[ai_cache]") {
  AiRequest a = sample();
  AiRequest b = sample();
  SECTION("role and content") {
    a.messages[0].role = "ab";
    a.messages[0].content = "c";
    b.messages[0].role = "a";
    b.messages[0].content = "bc";
  }
  SECTION("two messages") {
    a.messages = {{"user", "ab", {}}, {"user", "c", {}}};
    b.messages = {{"user", "a", {}}, {"user", "bc", {}}};
  }
  SECTION("stop strings") {
    a.params.stop = {"ab", "c"};
    b.params.stop = {"a", "bc"};
  }
  SECTION("image urls") {
    a.messages[1].image_urls = {"ab", "c"};
    b.messages[1].image_urls = {"a", "bc"};
  }
  SECTION("workspace and route") {
    a.workspace = "ab";
    b.workspace = "a";
    CHECK(key_of(a, "c") != key_of(b, "bc"));
    return;
  }
  SECTION("a content that spells the next message") {
    // One message whose content imitates the serialization of two messages.
    a.messages = {{"user", "xi0;4:user1:y", {}}};
    b.messages = {{"user", "x", {}}, {"user", "y", {}}};
  }
  CHECK(key_of(a) != key_of(b));
}

TEST_CASE("ai cache key: cache mode, ttl, deadline and request id are not part of it", "[ai_cache]") {
  const auto base = key_of(sample());
  AiRequest r = sample();
  r.cache = CacheMode::refresh;
  CHECK(key_of(r) == base);
  r.cache = CacheMode::bypass;
  r.cache_ttl = 60s;
  r.deadline = 5000ms;
  r.request_id = "req-123";
  CHECK(key_of(r) == base);
  // The task field itself is not read: the router passes the resolved route.
  r.task = "something else";
  CHECK(key_of(r) == base);
}

TEST_CASE("ai cache key: doubles are written to round-trip", "[ai_cache]") {
  AiRequest a = sample();
  AiRequest b = sample();
  a.params.temperature = 0.1;
  b.params.temperature = std::nextafter(0.1, 1.0);
  CHECK(key_of(a) != key_of(b));
  CHECK(canonical_request(a, kRoute).find("0.10000000000000001") != std::string::npos);
}

TEST_CASE("ai cache: the stored value keeps every answer field and drops the per-call ones", "[ai_cache]") {
  Completion c;
  c.id = "chatcmpl-1";
  c.content = "Bonjour \"toi\"\n\x01 é";
  c.reasoning = "thinking";
  c.finish_reason = "length";
  c.alias = "deepseek-v3";
  c.deployment = "azure-eastus-deepseek";
  c.model = "DeepSeek-V3-0324";
  c.usage = {1234, 56};
  c.cost_micros = 999;
  c.attempts = 3;
  c.latency = 1500ms;
  c.time_to_first_token = 200ms;
  const auto decoded = decode_cached(encode_cached(c));
  REQUIRE(decoded);
  CHECK(decoded->id == c.id);
  CHECK(decoded->content == c.content);
  CHECK(decoded->reasoning == c.reasoning);
  CHECK(decoded->finish_reason == c.finish_reason);
  CHECK(decoded->alias == c.alias);
  CHECK(decoded->deployment == c.deployment);
  CHECK(decoded->model == c.model);
  CHECK(decoded->usage.input_tokens == 1234);
  CHECK(decoded->usage.output_tokens == 56);
  CHECK(decoded->cost_micros == 0);
  CHECK(decoded->attempts == 0);
  CHECK(decoded->latency == 0us);
  CHECK(decoded->time_to_first_token == 0us);
  CHECK(decoded->cache_hit);
  const auto encoded = encode_cached(c);
  CHECK(encoded.find("999") == std::string::npos);
  CHECK(encoded.find("1500") == std::string::npos);

  CHECK_FALSE(decode_cached(""));
  CHECK_FALSE(decode_cached("not json"));
  CHECK_FALSE(decode_cached("[1,2]"));
  CHECK_FALSE(decode_cached(R"({"v":1,"id":"x"})"));
  CHECK_FALSE(decode_cached(R"({"v":2,"id":"","content":"","reasoning":"","finish_reason":"","alias":"","deployment":"","model":"","input_tokens":0,"output_tokens":0})"));
  CHECK(decode_cached(R"({"v":1,"id":"","content":"","reasoning":"","finish_reason":"","alias":"","deployment":"","model":"","input_tokens":0,"output_tokens":0})"));
}
