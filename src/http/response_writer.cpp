#include "http/response_writer.hpp"

#include <boost/beast/http/status.hpp>

#include <ctime>

namespace huntaze::http {

namespace {

// The Date header, formatted at most once per second per thread.
const std::string& http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_second = now;
  }
  return cached;
}

bool safe_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (c == '\r' || c == '\n' || c == ':' || c == ' ') return false;
  for (char c : value)
    if (c == '\r' || c == '\n') return false;
  return true;
}

bool framing_header(std::string_view name) {
  switch (name.size()) {  // cheap filter before comparing
    case 4: return iequals(name, "Date");
    case 10: return iequals(name, "Connection");
    case 14: return iequals(name, "Content-Length");
    case 17: return iequals(name, "Transfer-Encoding");
    default: return false;
  }
}

}  // namespace

bool status_has_no_body(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

std::string serialize_head(const Response& res, const WireOptions& o) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(res.status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : res.headers.items()) {
    if (framing_header(name) || !safe_header(name, value)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Date: ";
  out += http_date();
  out += "\r\n";
  if (!o.keep_alive) out += "Connection: close\r\n";
  else if (o.http10) out += "Connection: keep-alive\r\n";
  if (!status_has_no_body(res.status)) {
    if (o.chunked) {
      out += "Transfer-Encoding: chunked\r\n";
    } else {
      out += "Content-Length: ";
      out += std::to_string(res.stream && res.stream_length ? *res.stream_length : res.body.size());
      out += "\r\n";
    }
  }
  out += "\r\n";
  return out;
}

}  // namespace huntaze::http
