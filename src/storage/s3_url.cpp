#include "storage/s3_url.hpp"

#include <charconv>

#include "storage/sigv4.hpp"

namespace huntaze::storage {
namespace {

bool host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool ipv6_char(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

bool looks_like_ipv4(std::string_view name) noexcept {
  int dots = 0;
  for (char c : name) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace

std::optional<S3Origin> parse_s3_origin(std::string_view url) {
  S3Origin origin;
  std::string_view default_port;
  if (url.starts_with("https://")) {
    origin.scheme = "https";
    default_port = "443";
    url.remove_prefix(8);
  } else if (url.starts_with("http://")) {
    origin.scheme = "http";
    default_port = "80";
    url.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  if (url.ends_with('/')) url.remove_suffix(1);
  std::string_view host = url;
  std::string_view port;
  if (url.starts_with('[')) {
    const size_t close = url.find(']');
    if (close == std::string_view::npos || close < 3) return std::nullopt;
    for (char c : url.substr(1, close - 1))
      if (!ipv6_char(c)) return std::nullopt;
    host = url.substr(0, close + 1);
    std::string_view rest = url.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    const size_t colon = url.find(':');
    if (colon != std::string_view::npos) {
      host = url.substr(0, colon);
      port = url.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
    if (host.empty() || host.front() == '.' || host.front() == '-') return std::nullopt;
    for (char c : host)
      if (!host_char(c)) return std::nullopt;
  }
  if (!port.empty()) {
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535 || port.front() == '0')
      return std::nullopt;
  }
  origin.authority = std::string(host);
  if (!port.empty() && port != default_port) origin.authority.append(":").append(port);
  return origin;
}

bool valid_bucket_name(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '-') return false;
  return name.find("..") == std::string_view::npos && !looks_like_ipv4(name);
}

S3Location s3_location(const S3Origin& origin, std::string_view bucket, std::string_view key, bool path_style) {
  S3Location loc;
  if (path_style) {
    loc.host = origin.authority;
    loc.path.append("/").append(bucket).append("/").append(key);
  } else {
    loc.host.append(bucket).append(".").append(origin.authority);
    loc.path.append("/").append(key);
  }
  loc.url = origin.scheme + "://" + loc.host + sigv4::canonical_uri(loc.path);
  return loc;
}

std::string attachment_disposition(std::string_view name) {
  std::string quoted;
  bool plain = true;
  for (char c : name) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f) {
      plain = false;
      quoted += '_';
    } else if (c == '"' || c == '\\') {
      quoted += '_';
    } else {
      quoted += c;
    }
  }
  std::string out = "attachment; filename=\"" + quoted + "\"";
  if (!plain) out.append("; filename*=UTF-8''").append(sigv4::uri_encode(name));
  return out;
}

}  // namespace huntaze::storage
