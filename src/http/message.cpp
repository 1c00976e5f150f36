#include "huntaze/http/message.hpp"

#include <algorithm>
#include <cctype>

#include "huntaze/core/log.hpp"

namespace huntaze::http {

namespace {
// ASCII case folding: header names are ASCII, and std::tolower's locale
// lookup per character showed up in request profiles.
constexpr char fold(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  items_.emplace_back(std::move(name), std::move(value));
}

void Headers::remove(std::string_view name) {
  items_.erase(std::remove_if(items_.begin(), items_.end(), [&](const auto& kv) { return iequals(kv.first, name); }),
               items_.end());
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : path_params)
    if (k == name) return v;
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::json_text(int status, std::string json) {
  return text(status, std::move(json), "application/json");
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  return r;
}

Response Response::streamed(int status, std::string content_type, StreamProducer producer) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.stream = std::move(producer);
  return r;
}

Response error_response(int status, std::string_view code, std::string_view message, std::string_view request_id,
                        const std::vector<ErrorDetail>& details) {
  std::string body = "{\"error\":{\"code\":";
  log::append_json_string(body, code);
  body += ",\"message\":";
  log::append_json_string(body, message);
  body += ",\"request_id\":";
  log::append_json_string(body, request_id);
  body += ",\"details\":[";
  for (size_t i = 0; i < details.size(); ++i) {
    body += i ? ",{\"field\":" : "{\"field\":";
    log::append_json_string(body, details[i].field);
    body += ",\"message\":";
    log::append_json_string(body, details[i].message);
    body += '}';
  }
  body += "]}}";
  return Response::json_text(status, std::move(body));
}

Response error_response(const ApiError& error, std::string_view request_id) {
  Response res = error_response(error.status(), error.code(), error.what(), request_id, error.details());
  if (error.retry_after() > 0) res.headers.set("Retry-After", std::to_string(error.retry_after()));
  return res;
}

}  // namespace huntaze::http
