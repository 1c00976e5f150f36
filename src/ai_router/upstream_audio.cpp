#include "ai_router/upstream_audio.hpp"

#include <boost/json.hpp>

#include "ai_router/upstream.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::ai_router {

namespace {

// Form field values come from our configuration or the caller; quotes and
// line breaks would break the part headers.
std::string header_safe(std::string_view text) {
  std::string out;
  for (char c : text) out += (c == '"' || c == '\r' || c == '\n') ? '_' : c;
  return out;
}

void field(std::string& body, const std::string& boundary, std::string_view name, std::string_view value) {
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n";
  body += value;
  body += "\r\n";
}

}  // namespace

std::pair<std::string, std::string> transcription_body(const Deployment& d, const TranscribeRequest& r) {
  std::string boundary;
  do boundary = "huntaze-" + Uuid::v7().str();
  while (r.audio.find(boundary) != std::string::npos);
  std::string body;
  body.reserve(r.audio.size() + 1024);
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
          header_safe(r.filename) + "\"\r\nContent-Type: " + header_safe(r.content_type) + "\r\n\r\n";
  body += r.audio;
  body += "\r\n";
  if (!d.model.empty()) field(body, boundary, "model", header_safe(d.model));
  field(body, boundary, "response_format", "json");
  if (!r.language.empty()) field(body, boundary, "language", header_safe(r.language));
  body += "--" + boundary + "--\r\n";
  return {std::move(body), std::move(boundary)};
}

boost::asio::awaitable<std::string> call_transcription(http::HttpClient& client, const Deployment& d,
                                                       const TranscribeRequest& r, std::chrono::milliseconds timeout) {
  auto [body, boundary] = transcription_body(d, r);
  http::ClientRequest req;
  req.method = "POST";
  req.url = d.url();
  req.headers = request_headers(d, false);
  req.headers[0].second = "multipart/form-data; boundary=" + boundary;  // content-type comes first
  if (!r.request_id.empty()) req.headers.emplace_back("x-request-id", r.request_id);
  req.body = std::move(body);
  set_timeouts(req, timeout);
  // Not streamed: transcribing may take a while before the first byte comes
  // back, which the idle limit would also bound; the total timeout covers it.
  req.idle_timeout = std::chrono::milliseconds(0);
  http::ClientResponse res;
  std::optional<http::HttpClientError> transport;
  try {
    res = co_await client.send(std::move(req));
  } catch (const http::HttpClientError& e) {
    transport = e;
  }
  if (transport) fail_transport(*transport, false);
  if (res.status < 200 || res.status >= 300) fail_status(res, res.body);
  boost::system::error_code ec;
  auto v = boost::json::parse(res.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("text") || !v.as_object().at("text").is_string())
    fail("malformed", "the transcription answer has no text", FailureAction::retry);
  co_return std::string(v.as_object().at("text").as_string());
}

}  // namespace huntaze::ai_router
