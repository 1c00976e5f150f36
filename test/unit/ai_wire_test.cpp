// The OpenAI wire format both ways: server-sent events, upstream request
// bodies and answers, error classification, and our compatible endpoint's
// request parsing.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "ai_router/openai_compat.hpp"
#include "ai_router/openai_wire.hpp"
#include "ai_router/sse_parser.hpp"
#include "huntaze/core/error.hpp"

using namespace huntaze;
using namespace huntaze::ai_router;
namespace json = boost::json;

TEST_CASE("sse: events split anywhere, any line ending, comments and other fields ignored", "[ai_wire]") {
  const std::string stream = ": ping\r\ndata: {\"a\":1}\r\n\r\nevent: x\nid: 7\ndata:two\ndata: lines\n\ndata: [DONE]\r\r";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    std::vector<std::string> events;
    p.feed(std::string_view(stream).substr(0, cut), events);
    p.feed(std::string_view(stream).substr(cut), events);
    REQUIRE(events == std::vector<std::string>{"{\"a\":1}", "two\nlines", "[DONE]"});
  }
  // Byte by byte too.
  SseParser p;
  std::vector<std::string> events;
  for (char c : stream) p.feed(std::string_view(&c, 1), events);
  CHECK(events.size() == 3);
  CHECK(p.saw_event());
}

TEST_CASE("sse: an error body is not an event, an endless line is refused", "[ai_wire]") {
  SseParser p;
  std::vector<std::string> events;
  p.feed(R"({"error":{"message":"overloaded"}})", events);
  CHECK(events.empty());
  CHECK_FALSE(p.saw_event());
  SseParser small(16);
  CHECK_THROWS_AS(small.feed(std::string(40, 'x'), events), std::length_error);
}

TEST_CASE("wire: the request body carries messages, parameters and stream options", "[ai_wire]") {
  Deployment d;
  d.model = "DeepSeek-V3";
  d.max_output = 1000;
  AiRequest r;
  r.messages = {{"system", "be brief", {}}, {"user", "look", {"https://x/a.jpg"}}};
  r.params.temperature = 0.2;
  r.params.max_tokens = 5000;  // capped at the deployment's max_output
  r.params.stop = {"END"};
  r.params.json = true;
  auto body = json::parse(chat_request_body(d, r, true)).as_object();
  CHECK(body.at("model") == "DeepSeek-V3");
  CHECK(body.at("max_tokens") == 1000);
  CHECK(body.at("stop").as_array().at(0) == "END");
  CHECK(body.at("response_format").at("type") == "json_object");
  CHECK(body.at("stream") == true);
  CHECK(body.at("stream_options").at("include_usage") == true);
  CHECK(body.at("messages").as_array()[0].at("content") == "be brief");
  CHECK(body.at("messages").as_array()[1].at("content").as_array()[1].at("image_url").at("url") == "https://x/a.jpg");
  CHECK_FALSE(json::parse(chat_request_body(d, AiRequest{.messages = r.messages}, false)).as_object().contains("stream"));
}

TEST_CASE("wire: answers, chunks and reasoning fields", "[ai_wire]") {
  auto a = parse_chat_completion(
      R"({"id":"c1","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","reasoning_content":"why"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}})");
  CHECK(a.id == "c1");
  CHECK(a.content == "hi");
  CHECK(a.reasoning == "why");
  CHECK(a.usage->input_tokens == 3);
  CHECK(a.usage->output_tokens == 2);
  CHECK(parse_chat_completion(R"({"choices":[{"message":{"content":null},"finish_reason":"content_filter"}]})")
            .finish_reason == "content_filter");
  CHECK_THROWS_AS(parse_chat_completion(R"({"choices":[]})"), WireError);
  CHECK_THROWS_AS(parse_chat_completion("<html>"), WireError);

  auto c = parse_chat_chunk(R"({"id":"c","choices":[{"index":0,"delta":{"reasoning":"r","content":"x"},"finish_reason":null}]})");
  CHECK(c.content == "x");
  CHECK(c.reasoning == "r");
  CHECK_FALSE(c.finish_reason);
  auto u = parse_chat_chunk(R"({"id":"c","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1}})");
  CHECK(u.usage->input_tokens == 9);
  CHECK(parse_chat_chunk("[DONE]").done);
  CHECK(parse_chat_chunk(R"({"error":{"message":"boom"}})").error == "boom");
}

TEST_CASE("wire: failures are classified for routing", "[ai_wire]") {
  CHECK(classify_http_failure(429, "{}").action == FailureAction::retry);
  CHECK(classify_http_failure(503, "<html>").action == FailureAction::retry);
  CHECK(classify_http_failure(408, "").action == FailureAction::retry);
  auto filtered = classify_http_failure(
      400, R"({"error":{"code":"content_filter","message":"x","innererror":{"code":"ResponsibleAIPolicyViolation"}}})");
  CHECK(filtered.action == FailureAction::fallback);
  CHECK(filtered.kind == AiError::Kind::content_filter);
  CHECK_FALSE(filtered.unhealthy);
  auto inner_only = classify_http_failure(400, R"({"error":{"message":"x","innererror":{"code":"ResponsibleAIPolicyViolation"}}})");
  CHECK(inner_only.kind == AiError::Kind::content_filter);
  auto context = classify_http_failure(400, R"({"error":{"message":"This model's maximum context length is 8192 tokens"}})");
  CHECK(context.kind == AiError::Kind::context_too_long);
  CHECK(classify_http_failure(401, "{}").action == FailureAction::fallback);
  CHECK(classify_http_failure(401, "{}").unhealthy);
  auto bad = classify_http_failure(400, R"({"error":{"code":"invalid_value","message":"bad"}})");
  CHECK(bad.action == FailureAction::fatal);
  CHECK(bad.message.find("invalid_value") != std::string::npos);
}

TEST_CASE("wire: a redirect falls back, and upstream error text is short valid UTF-8", "[ai_wire]") {
  auto moved = classify_http_failure(301, "<html>moved</html>");
  CHECK(moved.action == FailureAction::fallback);
  CHECK(moved.reason == "http_3xx");
  CHECK(moved.unhealthy);
  // A long message cut inside a multi-byte character, and invalid bytes.
  const std::string long_message = std::string(299, 'x') + "\xC3\xA9" + std::string(1000, 'y');
  auto big = classify_http_failure(400, R"({"error":{"message":")" + long_message + R"("}})");
  CHECK(big.message.size() <= 320);
  CHECK(big.message.ends_with(std::string(299, 'x')));
  auto raw = classify_http_failure(500, std::string("bad \xFF byte ") + std::string(10'000, 'z'));
  CHECK(raw.message.find("bad \xEF\xBF\xBD byte") != std::string::npos);
  CHECK(raw.message.size() <= 320);
  CHECK(parse_chat_chunk(R"({"error":{"message":")" + std::string(5000, 'e') + R"("}})").error.size() == 300);
}

TEST_CASE("wire: reported token counts are capped", "[ai_wire]") {
  auto huge = parse_chat_completion(
      R"({"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":18446744073709551615}})");
  CHECK(huge.usage->input_tokens == 2147483647);
  CHECK(huge.usage->output_tokens == 2147483647);
  auto negative = parse_chat_chunk(R"({"choices":[],"usage":{"prompt_tokens":-5,"completion_tokens":3}})");
  CHECK(negative.usage->input_tokens == 0);
  CHECK(negative.usage->output_tokens == 3);
}

TEST_CASE("compat: an OpenAI SDK request becomes an AiRequest", "[ai_wire]") {
  auto c = parse_compat_request(R"({
    "model": "generate", "stream": true, "stream_options": {"include_usage": true},
    "messages": [{"role": "user", "content": [{"type": "text", "text": "what is"},
                                              {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
    "max_completion_tokens": 50, "stop": "\n", "response_format": {"type": "json_object"}, "seed": 7,
    "user": "ignored", "n": 1, "temperature": null})");
  CHECK(c.stream);
  CHECK(c.include_usage);
  CHECK(c.request.task == "generate");
  CHECK(c.request.messages.at(0).content == "what is");
  CHECK(c.request.messages.at(0).image_urls == std::vector<std::string>{"https://x/y.png"});
  CHECK(c.request.params.max_tokens == 50);
  CHECK(c.request.params.stop == std::vector<std::string>{"\n"});
  CHECK(c.request.params.json);
  CHECK(c.request.params.seed == 7);
  CHECK_FALSE(c.request.params.temperature);

  auto field_of = [](const std::string& body) {
    try {
      parse_compat_request(body);
    } catch (const ApiError& e) {
      return e.details().empty() ? e.code() : e.details()[0].field;
    }
    return std::string("accepted");
  };
  CHECK(field_of("[]") == "invalid_json");
  CHECK(field_of(R"({"messages":[]})") == "model");
  CHECK(field_of(R"({"model":"g","messages":{}})") == "messages");
  CHECK(field_of(R"({"model":"g","messages":[{"content":"x"}]})") == "messages[0].role");
  CHECK(field_of(R"({"model":"g","messages":[],"n":2})") == "n");
  CHECK(field_of(R"({"model":"g","messages":[],"tools":[]})") == "tools");
  CHECK(field_of(R"({"model":"g","messages":[],"temperature":"hot"})") == "temperature");
  CHECK(field_of(R"({"model":"g","messages":[{"role":"user","content":[{"type":"audio"}]}]})") ==
        "messages[0].content[0].type");
}

TEST_CASE("compat: answers and chunks in OpenAI's shape", "[ai_wire]") {
  Completion c;
  c.id = "x";
  c.model = "m";
  c.content = "hello";
  c.reasoning = "because";
  c.finish_reason = "stop";
  c.usage = {5, 2};
  auto body = json::parse(compat_completion(c, 1700000000)).as_object();
  CHECK(body.at("object") == "chat.completion");
  CHECK(body.at("created") == 1700000000);
  CHECK(body.at("choices").as_array()[0].at("message").at("reasoning_content") == "because");
  CHECK(body.at("usage").at("total_tokens") == 7);
  auto first = json::parse(compat_chunk("x", "m", 1, Delta{"he", ""}, true)).as_object();
  CHECK(first.at("choices").as_array()[0].at("delta").at("role") == "assistant");
  CHECK(first.at("choices").as_array()[0].at("finish_reason").is_null());
  auto fin = json::parse(compat_final_chunk("x", "m", 1, "length")).as_object();
  CHECK(fin.at("choices").as_array()[0].at("finish_reason") == "length");
  CHECK(json::parse(compat_error("unavailable", "down")).at("error").at("code") == "unavailable");
}
