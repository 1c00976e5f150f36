// A fake OpenAI-compatible HTTP server on loopback, with fault injection: the
// test double the ai_router's integration tests and its benchmark talk to
// through the real libcurl client.
//
//   test::FakeOpenAi ai;                                   // 127.0.0.1, free port, one thread
//   ai.script("/v1/chat/completions", test::FakeOpenAi::error(429, "rate_limited", "slow down"));
//   ai.script("/v1/chat/completions", {.fault = test::FakeReply::Fault::reset_before_headers});
//   ... call ai.url("/v1/chat/completions") ...
//   CHECK(ai.requests().back().json().at("model") == "gpt-x");
//
// It speaks plain HTTP/1.1: keep-alive with many requests per connection,
// `Expect: 100-continue`, request bodies up to 64 MiB, `Connection: close`,
// Content-Length replies and chunked `text/event-stream` replies (SSE).
// Replies come from FIFO scripts per exact path, else from the default
// handler (see set_default).
//
// Note for fault tests: libcurl retries a request once on a fresh connection
// when a *reused* connection dies before any response byte; a
// reset_before_headers meant to reach the caller should be the first request
// of a connection (a new client), or be scripted twice.
//
// Thread-safety: every member may be called from any thread, concurrently
// with the server's own threads. Handlers run on the server's threads.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huntaze::test {

struct FakeReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // extra response headers
  // Sent with Content-Length (content-type application/json unless a header
  // says otherwise).
  std::string body;
  // When non-empty: a `text/event-stream` response sent with chunked
  // encoding, one chunk per event "data: <item>\n\n", then "data: [DONE]\n\n"
  // unless omit_done.
  std::vector<std::string> sse_data;
  bool omit_done = false;
  enum class Fault {
    none,
    // Read the request, then abort the connection with a TCP RST (SO_LINGER
    // 0) without answering.
    reset_before_headers,
    // Send status, headers and the sse_data events (or the first half of
    // `body`, under a Content-Length for all of it), then RST.
    reset_after_events,
    // Read the request and never answer; the connection stays open until the
    // client closes it or the server stops.
    stall,
  };
  Fault fault = Fault::none;
  std::chrono::milliseconds delay{0};      // wait before the status line (or before a reset fault)
  std::chrono::milliseconds event_gap{0};  // wait between SSE events
};

struct FakeRequest {
  std::string method, target, path, body;  // path = target before '?'
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  // The first header of that name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
  // Parses body; throws (boost::system::system_error) on invalid JSON.
  boost::json::value json() const;
};

class FakeOpenAi {
 public:
  // Listens on 127.0.0.1 on a free port, served by `threads` threads of its
  // own io_context until destroyed. Records at most `record_limit` requests
  // (the count keeps going), so a benchmark can run for long.
  explicit FakeOpenAi(int threads = 1, size_t record_limit = 10'000);
  // For the program: `port` 0 picks a free one. Throws when it cannot listen.
  explicit FakeOpenAi(uint16_t port, int threads, size_t record_limit);
  // Closes the listener and every connection (stalled ones included), then
  // joins the threads.
  ~FakeOpenAi();
  FakeOpenAi(const FakeOpenAi&) = delete;
  FakeOpenAi& operator=(const FakeOpenAi&) = delete;

  int port() const;
  std::string url(std::string_view path) const;  // "http://127.0.0.1:<port>" + path

  // Scripted replies for requests whose path equals `path` exactly, consumed
  // FIFO; when none are left the default handler answers.
  void script(const std::string& path, FakeReply reply);
  void script(const std::string& path, std::vector<FakeReply> replies);
  // Replaces the default handler; it is called on server threads, possibly
  // concurrently. An exception it throws is answered with a 500.
  void set_default(std::function<FakeReply(const FakeRequest&)> handler);

  std::vector<FakeRequest> requests() const;  // recorded requests, in arrival order
  size_t request_count() const;               // all requests received, recorded or not
  void clear();                               // forget scripts, recorded requests and the count

  // The built-in default handler: POST .../chat/completions answers
  // completion("ok") with the body's "model" (or "fake"), or with "stream":
  // true completion_chunks({"o","k"}) as SSE, with usage when
  // stream_options.include_usage is true; a body that is not JSON gets a
  // 400. POST .../audio/transcriptions answers {"text":"hello world"}.
  // Anything else: a 404 error.
  static FakeReply default_reply(const FakeRequest& request);

  // OpenAI chat.completion JSON: {"id":"chatcmpl-fake-N","object":"chat.completion","created":...,
  //  "model":model,"choices":[{"index":0,"message":{"role":"assistant","content":content
  //  [,"reasoning_content":reasoning]},"finish_reason":finish}],
  //  "usage":{"prompt_tokens":p,"completion_tokens":c,"total_tokens":p+c}}
  static std::string completion(std::string_view content, int64_t prompt_tokens = 10, int64_t completion_tokens = 5,
                                std::string_view finish_reason = "stop", std::string_view model = "fake",
                                std::string_view reasoning_content = "");
  // chat.completion.chunk events (JSON strings, without "data: "): a first
  // chunk with delta {"role":"assistant","content":""}, one chunk per piece
  // with delta {"content":piece}, a chunk with an empty delta and
  // finish_reason, then if include_usage a final chunk with "choices":[] and
  // the usage object (as OpenAI sends with stream_options.include_usage).
  static std::vector<std::string> completion_chunks(const std::vector<std::string>& pieces,
                                                    int64_t prompt_tokens = 10, int64_t completion_tokens = 5,
                                                    std::string_view finish_reason = "stop",
                                                    bool include_usage = true, std::string_view model = "fake");
  // An OpenAI-style error reply: status + {"error":{"message":message,"type":
  // "invalid_request_error" (4xx) or "server_error" (5xx),"code":code}}.
  static FakeReply error(int status, std::string_view code, std::string_view message);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace huntaze::test
