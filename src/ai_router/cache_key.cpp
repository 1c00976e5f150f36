#include "ai_router/cache_key.hpp"

#include <cstdio>

#include "huntaze/core/digest.hpp"

namespace huntaze::ai_router {

namespace {

// Every item ends in a terminator or carries its own length, so the
// concatenation can be read back one way only.
void put_number(std::string& out, char tag, long long value) {
  out += tag;
  out += std::to_string(value);
  out += ';';
}

void put_string(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

void put_double(std::string& out, char tag, const std::optional<double>& value) {
  out += tag;
  if (!value) {
    out += '-';
    return;
  }
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%.17g", *value);
  out += '+';
  out.append(buf, static_cast<size_t>(n));
  out += ';';
}

template <class Int>
void put_optional_int(std::string& out, char tag, const std::optional<Int>& value) {
  out += tag;
  if (!value) {
    out += '-';
    return;
  }
  out += '+';
  out += std::to_string(*value);
  out += ';';
}

}  // namespace

std::string canonical_request(const AiRequest& request, std::string_view route) {
  std::string out = "c1\n";
  put_string(out, request.workspace);
  put_string(out, route);
  put_number(out, 'm', static_cast<long long>(request.messages.size()));
  for (const auto& m : request.messages) {
    put_string(out, m.role);
    put_string(out, m.content);
    put_number(out, 'i', static_cast<long long>(m.image_urls.size()));
    for (const auto& url : m.image_urls) put_string(out, url);
  }
  const Params& p = request.params;
  put_double(out, 't', p.temperature);
  put_double(out, 'p', p.top_p);
  put_optional_int(out, 'x', p.max_tokens);
  put_optional_int(out, 's', p.seed);
  put_number(out, 'S', static_cast<long long>(p.stop.size()));
  for (const auto& s : p.stop) put_string(out, s);
  put_number(out, 'j', p.json ? 1 : 0);
  return out;
}

std::string cache_key(const AiRequest& request, std::string_view route) {
  std::string key(kCacheKeyPrefix);
  key += hex_digest(DigestKind::sha256, canonical_request(request, route));
  return key;
}

}  // namespace huntaze::ai_router
