// The fake OpenAI server (test/support/fake_openai.hpp) through the real
// libcurl client, plus a raw socket where the client hides the wire (100
// Continue, pipelining, the server closing): its canned replies, scripts,
// recording, every fault, and the fake_openai program.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <future>

#include "http/curl_client.hpp"
#include "huntaze/http/client.hpp"
#include "support/child_process.hpp"
#include "support/fake_openai.hpp"
#include "support/harness.hpp"
#include "support/io_threads.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace json = boost::json;
using http::ClientRequest;
using http::ClientResponse;
using test::FakeOpenAi;
using test::FakeReply;
using Kind = http::HttpClientError::Kind;
using Fault = FakeReply::Fault;

namespace {

constexpr const char* kChat = "/v1/chat/completions";

// The `data:` payloads of an SSE stream, in order; fails the test on
// anything that is not a complete "data: ...\n\n" event.
std::vector<std::string> sse_events(const std::string& stream) {
  std::vector<std::string> events;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t end = stream.find("\n\n", pos);
    INFO("stream: " << stream);
    REQUIRE(end != std::string::npos);
    std::string event = stream.substr(pos, end - pos);
    REQUIRE(event.rfind("data: ", 0) == 0);
    events.push_back(event.substr(6));
    pos = end + 2;
  }
  return events;
}

// Waits (bounded) until the server has received `n` requests.
void await_requests(const FakeOpenAi& ai, size_t n) {
  REQUIRE(test::eventually([&] { return ai.request_count() >= n; }));
}

// The kind of HttpClientError a call ends with; fails the test when it succeeds.
Kind failure_of(std::future<ClientResponse>& call) {
  try {
    auto res = call.get();
    FAIL("expected an HttpClientError, got status " << res.status);
  } catch (const http::HttpClientError& e) {
    return e.kind();
  }
  return Kind::other;
}

struct Fixture {
  explicit Fixture(int server_threads = 1) : ai(std::make_unique<FakeOpenAi>(server_threads)) {
    client = http::make_curl_client(io.executor(), http::HttpClientConfig{}, metrics);
  }

  ClientRequest request(const std::string& path, std::string body, std::string method = "POST") const {
    ClientRequest r;
    r.method = std::move(method);
    r.url = ai->url(path);
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(body);
    return r;
  }
  ClientResponse send(ClientRequest r) { return io.block(client->send(std::move(r))); }
  ClientResponse post(const std::string& path, std::string body) { return send(request(path, std::move(body))); }

  // Streams the request; returns the response and the body as received.
  std::pair<ClientResponse, std::string> stream(ClientRequest r) {
    auto received = std::make_shared<std::string>();
    r.on_chunk = [received](std::string_view chunk) { received->append(chunk); };
    auto res = send(std::move(r));
    return {std::move(res), *received};
  }

  // The kind of HttpClientError the request ends with; fails the test when it succeeds.
  Kind error_of(ClientRequest r) {
    auto call = io.spawn(client->send(std::move(r)));
    return failure_of(call);
  }

  double connections_opened() {
    return metrics.counter("huntaze_http_client_connections_opened_total", "").with({}).value();
  }

  // Declaration order matters: the client goes first, then its I/O threads.
  test::IoThreads io{2};
  metrics::Registry metrics;
  std::unique_ptr<FakeOpenAi> ai;
  std::unique_ptr<http::HttpClient> client;
};

// A blocking POSIX socket for the wire details libcurl hides. Reads give up
// after 10 s (SO_RCVTIMEO) so that a broken server fails the test instead of
// hanging it.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Everything up to and including the first `marker`; "" when the
  // connection ended (or went silent) first.
  std::string read_until(std::string_view marker) {
    size_t at;
    while ((at = input_.find(marker)) == std::string::npos)
      if (!fill()) return "";
    std::string out = input_.substr(0, at + marker.size());
    input_.erase(0, at + marker.size());
    return out;
  }
  // One whole response with a Content-Length body.
  std::string read_response() {
    std::string head = read_until("\r\n\r\n");
    REQUIRE(!head.empty());
    const auto at = head.find("Content-Length: ");
    REQUIRE(at != std::string::npos);
    const size_t length = std::stoul(head.substr(at + 16));
    while (input_.size() < length) REQUIRE(fill());
    std::string body = input_.substr(0, length);
    input_.erase(0, length);
    return head + body;
  }
  // True when the server closed the connection with nothing more to say.
  bool closed_by_server() { return !fill() && input_.empty() && eof_; }

 private:
  bool fill() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = n == 0;
      return false;
    }
    input_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string input_;
  bool eof_ = false;
};

}  // namespace

TEST_CASE("the default handler answers chat completions with the request's model", "[fake_openai]") {
  Fixture f;
  auto res = f.post(kChat, R"({"model":"gpt-test","messages":[{"role":"user","content":"hi"}]})");
  REQUIRE(res.status == 200);
  CHECK(res.header("content-type") == "application/json");
  CHECK(res.header("content-length") == std::to_string(res.body.size()));
  auto doc = json::parse(res.body).as_object();
  CHECK(doc.at("object") == "chat.completion");
  CHECK(std::string_view(doc.at("id").as_string()).starts_with("chatcmpl-fake-"));
  CHECK(doc.at("created").as_int64() > 0);
  CHECK(doc.at("model") == "gpt-test");
  const auto& choice = doc.at("choices").as_array().at(0).as_object();
  CHECK(choice.at("index") == 0);
  CHECK(choice.at("finish_reason") == "stop");
  CHECK(choice.at("message").at("role") == "assistant");
  CHECK(choice.at("message").at("content") == "ok");
  CHECK(!choice.at("message").as_object().contains("reasoning_content"));
  CHECK(doc.at("usage").at("prompt_tokens") == 10);
  CHECK(doc.at("usage").at("completion_tokens") == 5);
  CHECK(doc.at("usage").at("total_tokens") == 15);

  auto anonymous = json::parse(f.post("/openai/v1/chat/completions", R"({"messages":[]})").body);
  CHECK(anonymous.at("model") == "fake");

  auto transcription = f.post("/v1/audio/transcriptions", "not json, a multipart body");
  CHECK(transcription.status == 200);
  CHECK(json::parse(transcription.body) == json::parse(R"({"text":"hello world"})"));

  auto bad_json = f.post(kChat, "{not json");
  CHECK(bad_json.status == 400);
  CHECK(json::parse(bad_json.body).at("error").at("type") == "invalid_request_error");

  auto unknown = f.post("/v1/embeddings", "{}");
  CHECK(unknown.status == 404);
  CHECK(json::parse(unknown.body).at("error").at("code") == "not_found");
  CHECK(f.send(f.request(kChat, "", "GET")).status == 404);
}

TEST_CASE("the canned JSON has OpenAI's shapes", "[fake_openai]") {
  auto with_reasoning = json::parse(FakeOpenAi::completion("answer", 3, 4, "length", "m", "thinking"));
  const auto& choice = with_reasoning.at("choices").at(0);
  CHECK(choice.at("message").at("content") == "answer");
  CHECK(choice.at("message").at("reasoning_content") == "thinking");
  CHECK(choice.at("finish_reason") == "length");
  CHECK(with_reasoning.at("model") == "m");
  CHECK(with_reasoning.at("usage").at("total_tokens") == 7);
  CHECK(json::parse(FakeOpenAi::completion("a")).at("id") != json::parse(FakeOpenAi::completion("a")).at("id"));

  auto server_error = FakeOpenAi::error(503, "overloaded", "try later");
  CHECK(server_error.status == 503);
  auto err = json::parse(server_error.body).at("error");
  CHECK(err.at("type") == "server_error");
  CHECK(err.at("code") == "overloaded");
  CHECK(err.at("message") == "try later");
  CHECK(json::parse(FakeOpenAi::error(401, "invalid_api_key", "no").body).at("error").at("type") ==
        "invalid_request_error");

  auto chunks = FakeOpenAi::completion_chunks({"a", "b"}, 1, 2, "stop", false, "m");
  REQUIRE(chunks.size() == 4);
  for (const auto& c : chunks) {
    auto chunk = json::parse(c);
    CHECK(chunk.at("object") == "chat.completion.chunk");
    CHECK(chunk.at("model") == "m");
    CHECK(chunk.at("id") == json::parse(chunks[0]).at("id"));
    CHECK(!chunk.as_object().contains("usage"));
  }
  CHECK(json::parse(chunks[0]).at("choices").at(0).at("delta") == json::parse(R"({"role":"assistant","content":""})"));
  CHECK(json::parse(chunks[2]).at("choices").at(0).at("delta").at("content") == "b");
  CHECK(json::parse(chunks[3]).at("choices").at(0).at("delta").as_object().empty());
  CHECK(json::parse(chunks[3]).at("choices").at(0).at("finish_reason") == "stop");
  CHECK(json::parse(chunks[1]).at("choices").at(0).at("finish_reason").is_null());
}

TEST_CASE("a streamed default completion arrives as chunked SSE", "[fake_openai]") {
  const bool include_usage = GENERATE(true, false);
  Fixture f;
  INFO("include_usage " << include_usage);
  json::object body{{"model", "gpt-stream"}, {"stream", true}, {"messages", json::array{}}};
  if (include_usage) body["stream_options"] = json::object{{"include_usage", true}};
  auto [res, received] = f.stream(f.request(kChat, json::serialize(body)));
  REQUIRE(res.status == 200);
  CHECK(res.header("content-type") == "text/event-stream");
  CHECK(res.header("transfer-encoding") == "chunked");
  CHECK(res.body.empty());

  auto events = sse_events(received);
  REQUIRE(events.size() == (include_usage ? 6u : 5u));
  CHECK(events.back() == "[DONE]");
  events.pop_back();
  std::string content;
  std::string finish;
  for (size_t i = 0; i < events.size(); ++i) {
    auto chunk = json::parse(events[i]).as_object();
    CHECK(chunk.at("object") == "chat.completion.chunk");
    CHECK(chunk.at("model") == "gpt-stream");
    const auto& choices = chunk.at("choices").as_array();
    if (choices.empty()) continue;
    const auto& choice = choices.at(0).as_object();
    if (i == 0) CHECK(choice.at("delta").at("role") == "assistant");
    if (const auto* piece = choice.at("delta").as_object().if_contains("content")) content += piece->as_string();
    if (choice.at("finish_reason").is_string()) finish = choice.at("finish_reason").as_string();
  }
  CHECK(content == "ok");
  CHECK(finish == "stop");
  auto last = json::parse(events.back()).as_object();
  if (include_usage) {
    CHECK(last.at("choices").as_array().empty());
    CHECK(last.at("usage").at("total_tokens") == 15);
  } else {
    CHECK(!last.contains("usage"));
    CHECK(last.at("choices").at(0).at("finish_reason") == "stop");
  }
}

TEST_CASE("scripted replies are consumed in order, then the default answers", "[fake_openai]") {
  Fixture f;
  FakeReply first;
  first.body = FakeOpenAi::completion("first");
  FakeReply second;
  second.body = FakeOpenAi::completion("second");
  f.ai->script(kChat, std::vector<FakeReply>{first, second});
  f.ai->script("/v1/other", FakeReply{.status = 202, .body = "{}"});
  FakeReply sse;
  sse.sse_data = {"one", "two"};
  sse.omit_done = true;
  f.ai->script("/v1/sse", sse);

  auto content = [&] {
    auto res = f.post(kChat, R"({"model":"m"})");
    return std::string(json::parse(res.body).at("choices").at(0).at("message").at("content").as_string());
  };
  CHECK(content() == "first");
  CHECK(content() == "second");
  CHECK(content() == "ok");
  CHECK(content() == "ok");
  CHECK(f.post("/v1/other", "").status == 202);
  CHECK(f.post("/v1/other", "").status == 404);  // consumed: the default has no such route
  CHECK(f.post("/v1/other?x=1", "").status == 404);

  auto [res, received] = f.stream(f.request("/v1/sse", ""));
  CHECK(res.status == 200);
  CHECK(sse_events(received) == std::vector<std::string>{"one", "two"});

  f.ai->script(kChat, FakeOpenAi::error(500, "boom", "scripted"));
  f.ai->clear();  // forgets the script
  CHECK(content() == "ok");
  CHECK(f.ai->request_count() == 1);
  CHECK(f.ai->requests().size() == 1);
}

TEST_CASE("set_default replaces the default handler", "[fake_openai]") {
  Fixture f;
  f.ai->set_default([](const test::FakeRequest& req) {
    if (req.path == "/throw") throw std::runtime_error("handler failed");
    FakeReply r;
    r.status = 201;
    r.headers = {{"Content-Type", "text/plain"}, {"X-Path", req.path}};
    r.body = req.method + " " + req.body;
    return r;
  });
  auto res = f.post("/anything", "payload");
  CHECK(res.status == 201);
  CHECK(res.body == "POST payload");
  CHECK(res.header("content-type") == "text/plain");
  CHECK(res.header("x-path") == "/anything");
  auto failed = f.post("/throw", "");
  CHECK(failed.status == 500);
  CHECK(json::parse(failed.body).at("error").at("message") == "handler failed");
}

TEST_CASE("a scripted 429 arrives with its retry-after-ms header", "[fake_openai]") {
  Fixture f;
  FakeReply limited = FakeOpenAi::error(429, "rate_limit_exceeded", "slow down");
  limited.headers = {{"retry-after-ms", "1500"}, {"x-ratelimit-remaining-requests", "0"}};
  f.ai->script(kChat, limited);
  auto res = f.post(kChat, "{}");
  CHECK(res.status == 429);
  CHECK(res.header("retry-after-ms") == "1500");
  CHECK(res.header("X-RateLimit-Remaining-Requests") == "0");
  auto err = json::parse(res.body).at("error");
  CHECK(err.at("code") == "rate_limit_exceeded");
  CHECK(err.at("type") == "invalid_request_error");
  CHECK(err.at("message") == "slow down");
}

TEST_CASE("reset_before_headers fails the call with connect", "[fake_openai]") {
  Fixture f;
  // The first request of a fresh client: libcurl would retry a reused connection.
  f.ai->script(kChat, FakeReply{.fault = Fault::reset_before_headers});
  CHECK(f.error_of(f.request(kChat, "{}")) == Kind::connect);
  CHECK(f.ai->request_count() == 1);
  CHECK(f.post(kChat, "{}").status == 200);  // the server goes on
}

TEST_CASE("reset_after_events delivers the events, then breaks the connection", "[fake_openai]") {
  Fixture f;
  SECTION("SSE") {
    FakeReply r;
    r.sse_data = {"a", "b", "c"};
    r.fault = Fault::reset_after_events;
    f.ai->script(kChat, r);
    auto received = std::make_shared<std::string>();
    auto req = f.request(kChat, "{}");
    req.on_chunk = [received](std::string_view chunk) { received->append(chunk); };
    CHECK(f.error_of(std::move(req)) == Kind::connect);
    CHECK(*received == "data: a\n\ndata: b\n\ndata: c\n\n");
  }
  SECTION("Content-Length body") {
    FakeReply r;
    r.body = std::string(10000, 'x');
    r.fault = Fault::reset_after_events;
    f.ai->script(kChat, r);
    auto received = std::make_shared<std::string>();
    auto req = f.request(kChat, "{}");
    req.on_chunk = [received](std::string_view chunk) { received->append(chunk); };
    CHECK(f.error_of(std::move(req)) == Kind::connect);
    CHECK(*received == std::string(5000, 'x'));
  }
  CHECK(f.post(kChat, "{}").status == 200);
}

TEST_CASE("a stalled request times out without holding up others", "[fake_openai]") {
  Fixture f;  // one server thread
  f.ai->script(kChat, FakeReply{.fault = Fault::stall});
  auto stalled_request = f.request(kChat, "{}");
  stalled_request.total_timeout = 1500ms;
  auto stalled = f.io.spawn(f.client->send(std::move(stalled_request)));
  await_requests(*f.ai, 1);
  CHECK(f.post(kChat, "{}").status == 200);  // while the stall holds its connection
  CHECK(failure_of(stalled) == Kind::timeout);
}

TEST_CASE("destroying the server closes stalled connections", "[fake_openai]") {
  Fixture f;
  f.ai->script(kChat, FakeReply{.fault = Fault::stall});
  auto stalled_request = f.request(kChat, "{}");
  stalled_request.total_timeout = 60s;
  auto stalled = f.io.spawn(f.client->send(std::move(stalled_request)));
  await_requests(*f.ai, 1);
  f.ai.reset();
  CHECK(failure_of(stalled) == Kind::connect);  // closed by the server, not timed out
}

TEST_CASE("delay holds the reply back, without holding up others", "[fake_openai]") {
  Fixture f;  // one server thread
  SECTION("a delayed reply arrives whole") {
    f.ai->script(kChat, FakeReply{.body = FakeOpenAi::completion("late"), .delay = 50ms});
    auto res = f.post(kChat, "{}");
    CHECK(res.status == 200);
    CHECK(json::parse(res.body).at("choices").at(0).at("message").at("content") == "late");
  }
  SECTION("not a byte goes out before the delay is over, and others are answered meanwhile") {
    // Far longer than the test: the server's end, not the delay, ends it.
    f.ai->script(kChat, FakeReply{.body = "{}", .delay = 1h});
    RawConnection conn(f.ai->port());
    conn.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    await_requests(*f.ai, 1);
    CHECK(f.post(kChat, "{}").status == 200);  // the one server thread is not waiting out the delay
    f.ai.reset();
    CHECK(conn.closed_by_server());  // nothing of the delayed reply came before the close
  }
  SECTION("a long delay trips the client's timeout while others are answered") {
    f.ai->script(kChat, FakeReply{.body = "{}", .delay = 30s});
    auto slow_request = f.request(kChat, "{}");
    slow_request.total_timeout = 1500ms;
    auto slow = f.io.spawn(f.client->send(std::move(slow_request)));
    await_requests(*f.ai, 1);
    CHECK(f.post(kChat, "{}").status == 200);
    CHECK(failure_of(slow) == Kind::timeout);
  }
}

TEST_CASE("event_gap sends SSE events separately", "[fake_openai]") {
  Fixture f;  // one server thread
  SECTION("the whole stream arrives, one event at a time") {
    FakeReply r;
    r.sse_data = {"1", "2", "3"};
    r.event_gap = 20ms;
    f.ai->script(kChat, r);
    auto pieces = std::make_shared<std::vector<std::string>>();
    auto req = f.request(kChat, "{}");
    req.on_chunk = [pieces](std::string_view chunk) { pieces->emplace_back(chunk); };
    auto res = f.send(std::move(req));
    CHECK(res.status == 200);
    std::string all;
    for (const auto& p : *pieces) all += p;
    CHECK(sse_events(all) == std::vector<std::string>{"1", "2", "3", "[DONE]"});
    CHECK(pieces->size() >= 4);
  }
  SECTION("the next event waits for its gap, and others are answered meanwhile") {
    FakeReply r;
    r.sse_data = {"1", "2"};
    r.event_gap = 1h;  // far longer than the test: the server's end, not the gap, ends it
    f.ai->script(kChat, r);
    RawConnection conn(f.ai->port());
    conn.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    const std::string first = conn.read_until("data: 1\n\n");
    CHECK(first.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(first.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
    CHECK(f.post(kChat, "{}").status == 200);  // the one server thread is not waiting out the gap
    f.ai.reset();
    CHECK(conn.read_until("\r\n") == "\r\n");  // the end of the first event's chunk
    CHECK(conn.closed_by_server());               // and nothing after it
  }
}

TEST_CASE("50 concurrent requests are all answered", "[fake_openai]") {
  Fixture f(2);
  std::vector<std::future<ClientResponse>> pending;
  for (int i = 0; i < 50; ++i) {
    auto body = json::serialize(json::object{{"model", "m" + std::to_string(i)}});
    pending.push_back(f.io.spawn(f.client->send(f.request(kChat, body))));
  }
  for (int i = 0; i < 50; ++i) {
    auto res = pending[i].get();
    CHECK(res.status == 200);
    CHECK(json::parse(res.body).at("model").as_string() == "m" + std::to_string(i));
  }
  CHECK(f.ai->request_count() == 50);
  CHECK(f.ai->requests().size() == 50);
}

TEST_CASE("requests() records method, target, headers and body", "[fake_openai]") {
  Fixture f;
  auto req = f.request("/v1/chat/completions?api-version=2024", R"({"model":"rec"})");
  req.headers.emplace_back("Authorization", "Bearer sk-test");
  req.headers.emplace_back("X-Trace", "t-1");
  f.send(std::move(req));
  f.send(f.request("/v1/models", "", "GET"));

  auto recorded = f.ai->requests();
  REQUIRE(recorded.size() == 2);
  const auto& r = recorded[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/v1/chat/completions?api-version=2024");
  CHECK(r.path == "/v1/chat/completions");
  CHECK(r.header("authorization") == "Bearer sk-test");
  CHECK(r.header("X-TRACE") == "t-1");
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.header("x-absent").empty());
  CHECK(r.body == R"({"model":"rec"})");
  CHECK(r.json().at("model") == "rec");
  bool has_trace = false;
  for (const auto& [name, value] : r.headers) has_trace |= name == "X-Trace" && value == "t-1";
  CHECK(has_trace);
  CHECK(recorded[1].method == "GET");
  CHECK(recorded[1].path == "/v1/models");
  CHECK_THROWS(recorded[1].json());  // an empty body is not JSON
}

TEST_CASE("the record is capped but the count goes on", "[fake_openai]") {
  test::IoThreads io{1};
  metrics::Registry metrics;
  FakeOpenAi ai(1, 3);
  auto client = http::make_curl_client(io.executor(), http::HttpClientConfig{}, metrics);
  for (int i = 0; i < 5; ++i) {
    ClientRequest r;
    r.method = "POST";
    r.url = ai.url("/v1/audio/transcriptions");
    r.body = std::to_string(i);
    CHECK(io.block(client->send(std::move(r))).status == 200);
  }
  CHECK(ai.request_count() == 5);
  auto recorded = ai.requests();
  REQUIRE(recorded.size() == 3);
  CHECK(recorded[2].body == "2");  // the first ones are kept
  client.reset();
}

TEST_CASE("keep-alive, Connection: close and large uploads", "[fake_openai]") {
  Fixture f;
  SECTION("sequential requests share one connection") {
    for (int i = 0; i < 5; ++i) CHECK(f.post(kChat, "{}").status == 200);
    CHECK(f.connections_opened() == 1);
  }
  SECTION("Connection: close is honoured") {
    for (int i = 0; i < 3; ++i) {
      auto req = f.request(kChat, "{}");
      req.headers.emplace_back("Connection", "close");
      auto res = f.send(std::move(req));
      CHECK(res.status == 200);
      CHECK(res.header("connection") == "close");
    }
    CHECK(f.connections_opened() == 3);
  }
  SECTION("a 32 MiB upload with Expect: 100-continue") {
    ClientRequest req;
    req.method = "POST";
    req.url = f.ai->url("/v1/audio/transcriptions");
    req.headers = {{"Content-Type", "multipart/form-data; boundary=b"}, {"Expect", "100-continue"}};
    req.body = std::string(32 << 20, 'a');
    req.total_timeout = 120s;
    auto res = f.send(std::move(req));
    CHECK(res.status == 200);
    CHECK(json::parse(res.body).at("text") == "hello world");
    auto recorded = f.ai->requests();
    REQUIRE(recorded.size() == 1);
    CHECK(recorded[0].header("expect") == "100-continue");
    CHECK(recorded[0].body.size() == (32u << 20));
  }
}

TEST_CASE("on the wire: 100 Continue, pipelining, close and malformed requests", "[fake_openai]") {
  FakeOpenAi ai;
  RawConnection conn(ai.port());
  SECTION("100 Continue comes before the body is sent") {
    conn.send(
        "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    CHECK(conn.read_until("\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n");
    conn.send("hello");
    auto res = conn.read_response();
    CHECK(res.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(res.ends_with(R"({"text":"hello world"})"));
    REQUIRE(ai.requests().size() == 1);
    CHECK(ai.requests()[0].body == "hello");
  }
  SECTION("pipelined requests are answered in order, then Connection: close ends it") {
    conn.send(
        "POST /a/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"model\":\"1\"}"
        "POST /b/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"model\":\"2\"}"
        "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto first = conn.read_response();
    auto second = conn.read_response();
    auto third = conn.read_response();
    CHECK(first.find(R"("model":"1")") != std::string::npos);
    CHECK(second.find(R"("model":"2")") != std::string::npos);
    CHECK(third.starts_with("HTTP/1.1 404 Not Found\r\n"));
    CHECK(third.find("Connection: close\r\n") != std::string::npos);
    CHECK(conn.closed_by_server());
    CHECK(ai.request_count() == 3);
  }
  SECTION("a malformed request gets a 400 and the connection closes") {
    conn.send("NOT HTTP AT ALL\r\n\r\n");
    auto res = conn.read_response();
    CHECK(res.starts_with("HTTP/1.1 400 Bad Request\r\n"));
    CHECK(conn.closed_by_server());
    CHECK(ai.request_count() == 0);
  }
}

TEST_CASE("the fake_openai program serves until SIGTERM", "[fake_openai]") {
  test::ChildProcess program(HUNTAZE_TEST_FAKE_OPENAI, {"--threads", "2"});
  const std::string line = program.wait_for_line("listening on ", 30s);
  const int port = std::stoi(line.substr(13));
  CHECK(port > 0);
  CHECK(line == "listening on " + std::to_string(port));
  {
    test::IoThreads io{1};
    metrics::Registry metrics;
    auto client = http::make_curl_client(io.executor(), http::HttpClientConfig{}, metrics);
    ClientRequest r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions";
    r.body = R"({"model":"from-process"})";
    auto res = io.block(client->send(std::move(r)));
    CHECK(res.status == 200);
    CHECK(json::parse(res.body).at("model") == "from-process");
    client.reset();
  }
  program.signal(SIGTERM);
  auto exit = program.wait(30s);
  REQUIRE(exit);
  CHECK(exit->code == 0);
}
