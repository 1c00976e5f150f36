#include "auth/oidc_provider.hpp"

#include <boost/json.hpp>

#include "auth/jws.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/http/message.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr size_t kMaxProviderAnswer = 256 * 1024;
constexpr auto kMinForcedRefresh = 1min;
// After a failed fetch, sign-ins fail at once for this long instead of each
// asking a provider that is down (or being hammered) again.
constexpr auto kFailureBackoff = 5s;

http::ClientRequest bounded_request(std::string method, std::string url) {
  http::ClientRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.connect_timeout = 5s;
  req.total_timeout = 10s;
  req.idle_timeout = 0ms;  // total_timeout bounds it
  req.max_response_bytes = kMaxProviderAnswer;
  req.headers.emplace_back("accept", "application/json");
  return req;
}

}  // namespace

std::string s256_challenge(std::string_view code_verifier) {
  return crypto::base64url_encode(crypto::sha256(code_verifier));
}

OidcProvider::OidcProvider(http::HttpClient& client, const Clock& clock, OidcProviderConfig config,
                           const OidcConfig& oidc)
    : client_(client), clock_(clock), config_(std::move(config)), oidc_(oidc) {}

asio::awaitable<std::string> OidcProvider::fetch(const std::string& url) {
  {
    std::lock_guard lock(mutex_);
    if (failed_at_ && clock_.now() - *failed_at_ < kFailureBackoff)
      throw OidcError("provider_unavailable", config_.name + ": failed moments ago; not asking again yet");
  }
  http::ClientResponse res;
  std::string failure;
  try {
    res = co_await client_.send(bounded_request("GET", url));
    if (res.status != 200) failure = "GET " + url + " answered " + std::to_string(res.status);
  } catch (const http::HttpClientError& e) {
    failure = "GET " + url + ": " + e.what();
  }
  std::lock_guard lock(mutex_);
  if (!failure.empty()) {
    failed_at_ = clock_.now();
    throw OidcError("provider_unavailable", failure);
  }
  failed_at_.reset();
  co_return std::move(res.body);
}

asio::awaitable<ProviderMetadata> OidcProvider::metadata() {
  const SysTime now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    if (metadata_ && now - metadata_fetched_ < oidc_.metadata_ttl) co_return *metadata_;
  }
  std::string issuer = config_.issuer;
  while (issuer.ends_with('/')) issuer.pop_back();
  const std::string body = co_await fetch(issuer + "/.well-known/openid-configuration");
  const std::optional<json::object> doc = parse_json_object(body);
  if (!doc) throw OidcError("provider_unavailable", config_.name + ": discovery is not a JSON object");
  const json::object& o = *doc;
  // OIDC Discovery §4.3: the document must name exactly the issuer we asked.
  const json::string* named_issuer = string_claim(o, "issuer");
  if (!named_issuer || *named_issuer != config_.issuer)
    throw OidcError("provider_unavailable", config_.name + ": the discovery document names another issuer");
  ProviderMetadata m;
  const std::pair<std::string_view, std::string*> endpoints[] = {{"authorization_endpoint", &m.authorization_endpoint},
                                                                 {"token_endpoint", &m.token_endpoint},
                                                                 {"jwks_uri", &m.jwks_uri}};
  for (const auto& [key, url] : endpoints) {
    const json::string* given = string_claim(o, key);
    if (!given || !acceptable_provider_url(*given))
      throw OidcError("provider_unavailable", config_.name + ": discovery lacks an https endpoint");
    *url = std::string(*given);
  }
  if (const auto* methods = o.if_contains("code_challenge_methods_supported"); methods && methods->is_array()) {
    bool s256 = false;
    for (const auto& method : methods->get_array()) s256 = s256 || (method.is_string() && method.get_string() == "S256");
    if (!s256) throw OidcError("provider_unavailable", config_.name + ": the provider does not offer PKCE S256");
  }
  std::lock_guard lock(mutex_);
  // A slower fetch that began earlier must not replace a newer answer.
  if (metadata_ && metadata_fetched_ > now) co_return *metadata_;
  metadata_ = m;
  metadata_fetched_ = now;
  co_return m;
}

std::string OidcProvider::authorization_url(const ProviderMetadata& metadata,
                                            const AuthorizationRequest& request) const {
  std::string scopes;
  for (const auto& s : config_.scopes) scopes += (scopes.empty() ? "" : " ") + s;
  std::string url = metadata.authorization_endpoint;
  url += metadata.authorization_endpoint.find('?') == std::string::npos ? '?' : '&';
  url += "response_type=code&client_id=" + http::percent_encode(config_.client_id) +
         "&redirect_uri=" + http::percent_encode(request.redirect_uri) + "&scope=" + http::percent_encode(scopes) +
         "&state=" + http::percent_encode(request.state) + "&nonce=" + http::percent_encode(request.nonce) +
         "&code_challenge=" + http::percent_encode(request.code_challenge) + "&code_challenge_method=S256";
  return url;
}

asio::awaitable<std::string> OidcProvider::exchange_code(const std::string& code, const std::string& code_verifier,
                                                         const std::string& redirect_uri) {
  const ProviderMetadata m = co_await metadata();
  http::ClientRequest req = bounded_request("POST", m.token_endpoint);
  req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
  req.body = "grant_type=authorization_code&code=" + http::percent_encode(code) +
             "&redirect_uri=" + http::percent_encode(redirect_uri) +
             "&code_verifier=" + http::percent_encode(code_verifier);
  if (config_.token_auth == TokenEndpointAuth::client_secret_basic) {
    // RFC 6749 §2.3.1: each half form-encoded before base64.
    const std::string credentials =
        http::percent_encode(config_.client_id) + ":" + http::percent_encode(config_.client_secret.reveal());
    req.headers.emplace_back("authorization", "Basic " + crypto::base64_encode(credentials));
  } else {
    req.body += "&client_id=" + http::percent_encode(config_.client_id) +
                "&client_secret=" + http::percent_encode(config_.client_secret.reveal());
  }
  http::ClientResponse res;
  try {
    res = co_await client_.send(std::move(req));
  } catch (const http::HttpClientError& e) {
    throw OidcError("provider_unavailable", config_.name + ": token endpoint: " + e.what());
  }
  const std::optional<json::object> answer = parse_json_object(res.body);
  if (res.status != 200 || !answer) {
    // The provider's error code (invalid_grant, ...) helps an operator; its
    // description is free text of unknown length and is left out.
    const json::string* code = answer ? string_claim(*answer, "error") : nullptr;
    const std::string error = code ? std::string(std::string_view(*code).substr(0, 64)) : std::string();
    throw OidcError(res.status >= 500 ? "provider_unavailable" : "token_exchange_failed",
                    config_.name + ": token endpoint answered " + std::to_string(res.status) +
                        (error.empty() ? "" : " " + error));
  }
  const json::string* id_token = string_claim(*answer, "id_token");
  if (!id_token || id_token->empty())
    throw OidcError("token_exchange_failed", config_.name + ": the answer has no id_token");
  co_return std::string(*id_token);
}

asio::awaitable<std::shared_ptr<const KeySet>> OidcProvider::keys(bool refresh_now) {
  const SysTime now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    const bool fresh = keys_ && now - keys_fetched_ < oidc_.metadata_ttl;
    if (fresh && !refresh_now) co_return keys_;
    if (fresh && refresh_now) {
      if (now - last_forced_refresh_ < kMinForcedRefresh) co_return keys_;
      last_forced_refresh_ = now;
    }
  }
  const ProviderMetadata m = co_await metadata();
  const std::string body = co_await fetch(m.jwks_uri);
  std::shared_ptr<const KeySet> set;
  try {
    set = std::make_shared<const KeySet>(KeySet::parse(body));
  } catch (const std::invalid_argument& e) {
    throw OidcError("provider_unavailable", config_.name + ": jwks: " + e.what());
  }
  std::lock_guard lock(mutex_);
  if (keys_ && keys_fetched_ > now) co_return keys_;  // a newer set arrived meanwhile
  keys_ = set;
  keys_fetched_ = now;
  co_return set;
}

asio::awaitable<IdTokenClaims> OidcProvider::verify(const std::string& id_token, const std::string& nonce) {
  auto parsed = parse_id_token(id_token);
  if (auto* error = std::get_if<IdTokenError>(&parsed))
    throw OidcError(std::string(to_string(*error)), config_.name + ": ID token refused");
  const auto& token = std::get<ParsedIdToken>(parsed);
  auto set = co_await keys(false);
  const VerifyKey* key = set->find(token.kid, token.alg);
  if (!key) {
    set = co_await keys(true);
    key = set->find(token.kid, token.alg);
  }
  const IdTokenExpectations expected{config_.issuer, config_.client_id, nonce, clock_.now(), oidc_.leeway};
  auto verified = verify_id_token(token, key, expected);
  if (auto* error = std::get_if<IdTokenError>(&verified))
    throw OidcError(std::string(to_string(*error)), config_.name + ": ID token refused");
  co_return std::get<IdTokenClaims>(std::move(verified));
}

}  // namespace huntaze::auth
