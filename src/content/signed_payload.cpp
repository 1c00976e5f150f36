#include "content/signed_payload.hpp"

#include <charconv>
#include <vector>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/digest.hpp"

namespace huntaze::content {

namespace {

std::string signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  return to_hex(crypto::hmac_sha256(secret, message));
}

}  // namespace

std::string_view to_string(SignatureCheck check) noexcept {
  switch (check) {
    case SignatureCheck::ok: return "ok";
    case SignatureCheck::malformed: return "malformed";
    case SignatureCheck::stale: return "stale";
    case SignatureCheck::mismatch: return "mismatch";
  }
  return "?";
}

std::string sign_payload(std::string_view secret, int64_t timestamp, std::string_view body) {
  const std::string t = std::to_string(timestamp);
  return "t=" + t + ",v1=" + signature(secret, t, body);
}

SignatureCheck verify_payload(std::string_view header, std::string_view secret, std::string_view body, SysTime now,
                              std::chrono::seconds tolerance) {
  if (header.size() > 4096 || secret.empty()) return SignatureCheck::malformed;
  std::string_view timestamp;
  std::vector<std::string_view> candidates;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with("t=")) timestamp = part.substr(2);
    else if (part.starts_with("v1=")) candidates.push_back(part.substr(3));
    // Other schemes (v0, a future v2) are ignored, as Stripe specifies.
  }
  int64_t seconds = 0;
  const auto parsed = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
  if (timestamp.empty() || timestamp.size() > 12 || parsed.ec != std::errc() ||
      parsed.ptr != timestamp.data() + timestamp.size() || candidates.empty())
    return SignatureCheck::malformed;
  const auto signed_at = std::chrono::sys_seconds(std::chrono::seconds(seconds));
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - signed_at);
  if (age > tolerance || age < -tolerance) return SignatureCheck::stale;
  const std::string expected = signature(secret, timestamp, body);
  bool match = false;
  for (auto candidate : candidates) match |= crypto::constant_time_equal(candidate, expected);
  return match ? SignatureCheck::ok : SignatureCheck::mismatch;
}

std::string webhook_secret(const Secret& key, Uuid workspace, int generation) {
  const std::string label = "huntaze-ingest-webhook:" + workspace.str() + ":" + std::to_string(generation);
  return "whsec_" + crypto::base64url_encode(crypto::hmac_sha256(key.reveal(), label));
}

}  // namespace huntaze::content
