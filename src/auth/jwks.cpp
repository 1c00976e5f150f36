#include "auth/jwks.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json.hpp>
#include <optional>
#include <stdexcept>

#include "auth/jws.hpp"
#include "huntaze/core/crypto.hpp"

namespace huntaze::auth {

namespace json = boost::json;

namespace {

constexpr int kMinRsaBits = 2048;
constexpr size_t kMaxRsaModulusBytes = 1024;  // 8192 bits
constexpr size_t kP256CoordinateBytes = 32;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBuildPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::optional<std::string> decoded_member(const json::object& jwk, std::string_view name) {
  const json::string* text = string_claim(jwk, name);
  return text ? crypto::base64url_decode(*text) : std::nullopt;
}

std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM_BLD* build) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(build));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

std::shared_ptr<EVP_PKEY> rsa_key(const json::object& jwk) {
  auto n = decoded_member(jwk, "n");
  auto e = decoded_member(jwk, "e");
  if (!n || !e || n->empty() || e->empty() || n->size() > kMaxRsaModulusBytes || e->size() > 8) return nullptr;
  BignumPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  BignumPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e || BN_num_bits(bn_n.get()) < kMinRsaBits) return nullptr;
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!build || OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return nullptr;
  return from_params("RSA", build.get());
}

std::shared_ptr<EVP_PKEY> p256_key(const json::object& jwk) {
  const json::string* crv = string_claim(jwk, "crv");
  if (!crv || *crv != "P-256") return nullptr;
  auto x = decoded_member(jwk, "x");
  auto y = decoded_member(jwk, "y");
  if (!x || !y || x->size() != kP256CoordinateBytes || y->size() != kP256CoordinateBytes) return nullptr;
  // The uncompressed point; OpenSSL checks that it lies on the curve.
  std::string point = "\x04" + *x + *y;
  ParamBuildPtr build(OSSL_PARAM_BLD_new());
  char group[] = "prime256v1";
  if (!build ||
      OSSL_PARAM_BLD_push_utf8_string(build.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group) - 1) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(build.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return nullptr;
  return from_params("EC", build.get());
}

// The DER ECDSA-Sig-Value OpenSSL verifies, from the JWS r || s.
std::optional<std::string> der_from_jws(std::string_view signature) {
  if (signature.size() != 2 * kP256CoordinateBytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes, kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + kP256CoordinateBytes, kP256CoordinateBytes, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace

KeySet KeySet::parse(std::string_view text) {
  const std::optional<json::object> doc = parse_json_object(text);
  const json::array* keys = nullptr;
  if (doc) {
    if (const auto* k = doc->if_contains("keys")) keys = k->if_array();
  }
  if (!keys) throw std::invalid_argument("not a JSON Web Key Set (an object with a \"keys\" array)");
  KeySet set;
  size_t examined = 0;
  for (const auto& entry : *keys) {
    if (set.keys_.size() == kMaxKeys || examined++ == kMaxExamined) break;
    const auto* jwk = entry.if_object();
    if (!jwk) continue;
    if (const json::string* use = string_claim(*jwk, "use"); use && *use != "sig") continue;
    // The algorithm follows from the key type. Everything that can be
    // refused by looking is refused before a key is built (the costly part).
    const json::string* kty = string_claim(*jwk, "kty");
    const std::string_view alg = !kty ? std::string_view() : *kty == "RSA" ? kRs256 : *kty == "EC" ? kEs256 : "";
    if (alg.empty()) continue;
    // A key that names its algorithm is used with that one only.
    if (const json::string* named = string_claim(*jwk, "alg"); named && *named != alg) continue;
    VerifyKey key;
    const json::string* kid = string_claim(*jwk, "kid");
    key.kid = kid ? std::string(*kid) : std::string();
    key.alg = std::string(alg);
    key.key = alg == kRs256 ? rsa_key(*jwk) : p256_key(*jwk);
    if (!key.key) continue;
    set.keys_.push_back(std::move(key));
  }
  return set;
}

const VerifyKey* KeySet::find(std::string_view kid, std::string_view alg) const {
  const VerifyKey* only = nullptr;
  size_t candidates = 0;
  for (const auto& key : keys_) {
    if (key.alg != alg) continue;
    if (!kid.empty() && key.kid == kid) return &key;
    ++candidates;
    only = &key;
  }
  return kid.empty() && candidates == 1 ? only : nullptr;
}

bool verify_signature(const VerifyKey& key, std::string_view signing_input, std::string_view signature) {
  std::string der;
  if (key.alg == kEs256) {
    auto converted = der_from_jws(signature);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  } else if (key.alg != kRs256) {
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) != 1) return false;
  // RSA keys default to PKCS#1 v1.5 padding: exactly RS256.
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

}  // namespace huntaze::auth
