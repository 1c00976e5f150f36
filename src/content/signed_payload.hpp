// Signed request bodies, in the scheme Stripe uses for its webhooks (and
// that Huntaze's own ingestion webhooks use too, so connector authors meet
// one format):
//
//   <Name>-Signature: t=1763719200,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// v1 is the hex HMAC-SHA256 of "<t>.<body>" under the shared secret; there
// may be several v1 entries (during a secret rotation), any one matching is
// enough. The timestamp must be within the tolerance of now, so a captured
// request cannot be replayed later.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/secret.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::content {

enum class SignatureCheck { ok, malformed, stale, mismatch };
std::string_view to_string(SignatureCheck check) noexcept;

// The header value for `body` signed at `timestamp` (Unix seconds).
std::string sign_payload(std::string_view secret, int64_t timestamp, std::string_view body);

SignatureCheck verify_payload(std::string_view header, std::string_view secret, std::string_view body, SysTime now,
                              std::chrono::seconds tolerance);

// The ingestion webhook secret of a workspace: derived from the configured
// content.ingest.webhook_key, the workspace and the secret's generation, so
// nothing secret is stored and rotating is a counter bump. "whsec_" + 43
// base64url characters.
std::string webhook_secret(const Secret& key, Uuid workspace, int generation);

}  // namespace huntaze::content
