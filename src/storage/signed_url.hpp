// Signed download links for blobs the binary serves itself (local storage):
// the link names the key and an expiry time and carries an HMAC-SHA256 of
// both under the server's secret, so it works without a session until it
// expires, and any change to the key or the time breaks it.
//
//   ?expires=<unix seconds>&sig=<base64url HMAC("GET\n" key "\n" expires)>
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace huntaze::storage {

// The query string (without '?') for `key` valid until `expires_unix`.
std::string sign_download(std::string_view secret, std::string_view key, int64_t expires_unix);

enum class LinkCheck { ok, expired, bad_signature, malformed };

// Checks the query's `expires` and `sig` values for `key` at `now_unix`.
// The signature is compared in constant time, and before the expiry, so a
// forged link learns nothing from which answer it gets first.
LinkCheck check_download(std::string_view secret, std::string_view key, std::string_view expires,
                         std::string_view sig, int64_t now_unix);

}  // namespace huntaze::storage
