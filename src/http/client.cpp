#include "huntaze/http/client.hpp"

#include "huntaze/http/message.hpp"

namespace huntaze::http {

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return {};
}

std::string_view to_string(HttpClientError::Kind kind) noexcept {
  using K = HttpClientError::Kind;
  switch (kind) {
    case K::connect:
      return "connect";
    case K::timeout:
      return "timeout";
    case K::tls:
      return "tls";
    case K::too_large:
      return "too_large";
    case K::blocked:
      return "blocked";
    case K::protocol:
      return "protocol";
    case K::cancelled:
      return "cancelled";
    case K::other:
      return "other";
  }
  return "other";
}

}  // namespace huntaze::http
