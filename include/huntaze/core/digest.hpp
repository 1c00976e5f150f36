// Message digests as lower-case hex (OpenSSL EVP underneath).
// Thread-safety: pure functions.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace huntaze {

enum class DigestKind { sha1, sha256 };

// Throws std::runtime_error if OpenSSL fails (it does not in practice).
std::string hex_digest(DigestKind kind, std::string_view data);

// The raw digest of the concatenated parts, without concatenating them.
std::string digest_bytes(DigestKind kind, std::initializer_list<std::string_view> parts);

// A digest fed piece by piece: a file hashed while it streams in.
// Thread-safety: one owner at a time; move-only.
class StreamingDigest {
 public:
  explicit StreamingDigest(DigestKind kind);
  ~StreamingDigest();
  StreamingDigest(StreamingDigest&&) noexcept;
  StreamingDigest& operator=(StreamingDigest&&) noexcept;
  StreamingDigest(const StreamingDigest&) = delete;
  StreamingDigest& operator=(const StreamingDigest&) = delete;

  void update(std::string_view data);
  // The raw digest; the object is then spent (further calls throw).
  std::string finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// Lower-case hex of any bytes (a MAC, a random token).
std::string to_hex(std::string_view bytes);

}  // namespace huntaze
