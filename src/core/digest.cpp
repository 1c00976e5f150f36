#include "huntaze/core/digest.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace huntaze {

std::string hex_digest(DigestKind kind, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const EVP_MD* md = kind == DigestKind::sha1 ? EVP_sha1() : EVP_sha256();
  if (EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr) != 1)
    throw std::runtime_error("message digest failed");
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string digest_bytes(DigestKind kind, std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) throw std::runtime_error("message digest failed");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  bool ok = EVP_DigestInit_ex(ctx, kind == DigestKind::sha1 ? EVP_sha1() : EVP_sha256(), nullptr) == 1;
  for (auto part : parts) ok = ok && EVP_DigestUpdate(ctx, part.data(), part.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx, digest, &length) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("message digest failed");
  return std::string(reinterpret_cast<const char*>(digest), length);
}

struct StreamingDigest::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

StreamingDigest::StreamingDigest(DigestKind kind) : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, kind == DigestKind::sha1 ? EVP_sha1() : EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("message digest failed");
}
StreamingDigest::~StreamingDigest() = default;
StreamingDigest::StreamingDigest(StreamingDigest&&) noexcept = default;
StreamingDigest& StreamingDigest::operator=(StreamingDigest&&) noexcept = default;

void StreamingDigest::update(std::string_view data) {
  if (!ctx_) throw std::logic_error("digest already finished");
  if (EVP_DigestUpdate(ctx_->md, data.data(), data.size()) != 1) throw std::runtime_error("message digest failed");
}

std::string StreamingDigest::finish() {
  if (!ctx_) throw std::logic_error("digest already finished");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const bool ok = EVP_DigestFinal_ex(ctx_->md, digest, &length) == 1;
  ctx_.reset();
  if (!ok) throw std::runtime_error("message digest failed");
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 0xf];
  }
  return out;
}

}  // namespace huntaze
