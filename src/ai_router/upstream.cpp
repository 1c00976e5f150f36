#include "ai_router/upstream.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <deque>
#include <mutex>

#include "ai_router/reasoning.hpp"
#include "ai_router/retry_after.hpp"
#include "ai_router/sse_parser.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using Steady = std::chrono::steady_clock;

namespace {

// Error bodies and the start of a non-SSE answer are kept up to this size.
constexpr size_t kMaxErrorBody = 64 << 10;

http::ClientRequest make_request(const Deployment& d, const AiRequest& r, std::chrono::milliseconds timeout,
                                 bool stream) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = d.url();
  req.headers = request_headers(d, stream);
  if (!r.request_id.empty()) req.headers.emplace_back("x-request-id", r.request_id);
  req.body = chat_request_body(d, r, stream);
  set_timeouts(req, timeout);
  // The idle limit also bounds the wait for the first byte, and a model may
  // think longer than that before a non-streamed answer starts: only streams
  // (whose first event comes early) keep it; the rest rely on the total timeout.
  if (!stream) req.idle_timeout = std::chrono::milliseconds(0);
  return req;
}

UpstreamAnswer answer_of(ParsedAnswer parsed) {
  UpstreamAnswer a;
  a.id = std::move(parsed.id);
  a.model = std::move(parsed.model);
  a.finish_reason = std::move(parsed.finish_reason);
  Split split = split_reasoning(parsed.content);
  a.content = std::move(split.content);
  a.reasoning = parsed.reasoning.empty() ? std::move(split.reasoning) : std::move(parsed.reasoning) + split.reasoning;
  if (parsed.usage) {
    a.usage = *parsed.usage;
    a.usage_reported = true;
  }
  return a;
}

void refuse_filtered(const UpstreamAnswer& a, bool committed) {
  if (a.finish_reason != "content_filter") return;
  UpstreamFailure f;
  f.action = FailureAction::fallback;
  f.reason = "content_filter";
  f.unhealthy = false;
  f.kind = AiError::Kind::content_filter;
  f.message = "the deployment's content filter refused the request";
  throw UpstreamFailed(std::move(f), committed);
}

// What the transfer's I/O thread hands to the coroutine consuming the stream.
struct StreamPipe {
  explicit StreamPipe(asio::any_io_executor ex) : bell(ex, 1) {}
  std::mutex mutex;
  std::deque<std::string> chunks;
  bool done = false;
  std::exception_ptr error;
  http::ClientResponse response;
  std::atomic<bool> abort{false};
  // A doorbell: one pending ring is enough, the data is in `chunks`.
  asio::experimental::concurrent_channel<void(boost::system::error_code)> bell;

  void ring() { bell.try_send(boost::system::error_code{}); }
};

struct Aborted : std::exception {
  const char* what() const noexcept override { return "stream consumer went away"; }
};

}  // namespace

void fail(std::string reason, std::string message, FailureAction action, bool committed, bool unhealthy) {
  UpstreamFailure f;
  f.action = action;
  f.reason = std::move(reason);
  f.message = std::move(message);
  f.unhealthy = unhealthy;
  throw UpstreamFailed(std::move(f), committed);
}

void fail_transport(const http::HttpClientError& e, bool committed) {
  using Kind = http::HttpClientError::Kind;
  switch (e.kind()) {
    case Kind::cancelled:
      throw e;  // the caller gave up: not the deployment's fault
    case Kind::connect:
    case Kind::timeout:
    case Kind::protocol:
      fail(std::string(to_string(e.kind())), e.what(), FailureAction::retry, committed);
    case Kind::too_large:  // the same request would get the same answer
    case Kind::tls:
    case Kind::blocked:
    case Kind::other:
      fail(std::string(to_string(e.kind())), e.what(), FailureAction::fallback, committed);
  }
  fail("other", e.what(), FailureAction::fallback, committed);
}

void fail_status(const http::ClientResponse& res, std::string_view body) {
  UpstreamFailure f = classify_http_failure(res.status, body);
  f.retry_after = parse_retry_after(res.header("retry-after-ms"), res.header("retry-after"), SystemClock().now());
  throw UpstreamFailed(std::move(f), false);
}

void set_timeouts(http::ClientRequest& request, std::chrono::milliseconds timeout) {
  request.total_timeout = timeout;
  request.connect_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(5000));
  request.idle_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(30000));
}

asio::awaitable<UpstreamAnswer> call_chat(http::HttpClient& client, const Deployment& d, const AiRequest& r,
                                          std::chrono::milliseconds timeout) {
  const auto started = Steady::now();
  http::ClientResponse res;
  std::optional<http::HttpClientError> transport;
  try {
    http::ClientRequest req = make_request(d, r, timeout, false);
    res = co_await client.send(std::move(req));
  } catch (const http::HttpClientError& e) {
    transport = e;
  }
  if (transport) fail_transport(*transport, false);
  if (res.status < 200 || res.status >= 300) fail_status(res, res.body);
  UpstreamAnswer a;
  try {
    a = answer_of(parse_chat_completion(res.body));
  } catch (const WireError& e) {
    fail("malformed", e.what());
  }
  refuse_filtered(a, false);
  a.latency = duration_cast<microseconds>(Steady::now() - started);
  a.time_to_first_token = res.time_to_first_byte;
  co_return a;
}

asio::awaitable<UpstreamAnswer> stream_chat(http::HttpClient& client, const Deployment& d, const AiRequest& r,
                                            std::chrono::milliseconds timeout, const DeltaSink& sink) {
  const auto started = Steady::now();
  auto ex = co_await asio::this_coro::executor;
  auto pipe = std::make_shared<StreamPipe>(ex);
  http::ClientRequest req = make_request(d, r, timeout, true);
  req.on_chunk = [pipe](std::string_view data) {
    if (pipe->abort.load()) throw Aborted();
    {
      std::lock_guard lock(pipe->mutex);
      pipe->chunks.emplace_back(data);
    }
    pipe->ring();
  };
  // The transfer runs as its own coroutine on its own strand, where its
  // cancellation signal lives; this coroutine consumes what it receives.
  auto send_strand = asio::make_strand(ex);
  auto cancel = std::make_shared<asio::cancellation_signal>();
  auto on_done = [pipe](std::exception_ptr e, http::ClientResponse res) {
    {
      std::lock_guard lock(pipe->mutex);
      pipe->done = true;
      pipe->error = e;
      pipe->response = std::move(res);
    }
    pipe->ring();
  };
  asio::co_spawn(send_strand, client.send(std::move(req)), asio::bind_cancellation_slot(cancel->slot(), on_done));

  SseParser sse;
  ThinkSplitter splitter;
  UpstreamAnswer a;
  std::string raw;  // the start of the body, for an error answer that is not SSE
  bool committed = false;
  std::optional<std::string> stream_error;
  std::exception_ptr sink_error;
  std::vector<std::string> events;
  bool finished = false;
  bool saw_done = false;

  auto deliver = [&](Split piece) -> asio::awaitable<void> {
    if (piece.content.empty() && piece.reasoning.empty()) co_return;
    a.content += piece.content;
    a.reasoning += piece.reasoning;
    if (!committed) {
      committed = true;
      a.time_to_first_token = duration_cast<microseconds>(Steady::now() - started);
    }
    Delta delta{std::move(piece.content), std::move(piece.reasoning)};
    co_await sink(delta);
  };

  while (!finished && !sink_error && !stream_error) {
    std::deque<std::string> chunks;
    bool done = false;
    {
      std::lock_guard lock(pipe->mutex);
      chunks.swap(pipe->chunks);
      done = pipe->done;
    }
    try {
      for (auto& chunk : chunks) {
        if (!sse.saw_event() && raw.size() < kMaxErrorBody) raw.append(chunk.substr(0, kMaxErrorBody - raw.size()));
        events.clear();
        sse.feed(chunk, events);
        for (const auto& data : events) {
          ParsedChunk c = parse_chat_chunk(data);
          if (c.done) {
            saw_done = true;
            continue;
          }
          if (!c.error.empty()) {
            stream_error = c.error;
            break;
          }
          if (a.id.empty()) a.id = c.id;
          if (a.model.empty()) a.model = c.model;
          if (c.finish_reason) a.finish_reason = *c.finish_reason;
          if (c.usage) {
            a.usage = *c.usage;
            a.usage_reported = true;
          }
          Split piece = splitter.feed(c.content);
          piece.reasoning = c.reasoning + piece.reasoning;
          co_await deliver(std::move(piece));
        }
        if (stream_error) break;
      }
    } catch (const WireError& e) {
      stream_error = std::string("malformed stream: ") + e.what();
    } catch (const std::length_error& e) {
      stream_error = e.what();
    } catch (...) {
      sink_error = std::current_exception();
    }
    if (sink_error || stream_error) break;
    if (done) {
      std::lock_guard lock(pipe->mutex);
      finished = pipe->chunks.empty();
      if (finished) break;
      continue;
    }
    co_await pipe->bell.async_receive(asio::as_tuple(asio::use_awaitable));
  }

  if (sink_error || stream_error) {
    // Stop the transfer and wait for it to end before leaving: it refers to `pipe`.
    pipe->abort = true;
    asio::post(send_strand, [cancel] { cancel->emit(asio::cancellation_type::terminal); });
    for (;;) {
      {
        std::lock_guard lock(pipe->mutex);
        if (pipe->done) break;
      }
      co_await pipe->bell.async_receive(asio::as_tuple(asio::use_awaitable));
    }
    if (sink_error) std::rethrow_exception(sink_error);
    fail("stream_error", "the upstream failed mid-stream: " + *stream_error, FailureAction::retry, committed);
  }

  http::ClientResponse res;
  std::exception_ptr error;
  {
    std::lock_guard lock(pipe->mutex);
    res = std::move(pipe->response);
    error = pipe->error;
  }
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const http::HttpClientError& e) {
      fail_transport(e, committed);
    }
  }
  if (res.status < 200 || res.status >= 300) fail_status(res, raw);
  if (!sse.saw_event()) fail("malformed", "the upstream answered a stream request without events");
  co_await deliver(splitter.finish());
  if (!saw_done && a.finish_reason.empty())
    fail("stream_error", "the stream ended without finishing", FailureAction::retry, committed);
  refuse_filtered(a, committed);
  if (!a.usage_reported) {
    a.usage.input_tokens = estimate_prompt_tokens(r);
    a.usage.output_tokens = static_cast<int64_t>((a.content.size() + a.reasoning.size()) / 4);
  }
  a.latency = duration_cast<microseconds>(Steady::now() - started);
  co_return a;
}

}  // namespace huntaze::ai_router
