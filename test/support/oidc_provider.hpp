// A real OpenID Connect provider on loopback for the sign-in tests: the npm
// package oidc-provider, run by node from test/support/oidc/provider.mjs
// (installed by scripts/test; HUNTAZE_TEST_OIDC_PROVIDER names the script).
// Logins and consent complete without forms, as the test account set with
// set_login(); set_fault() makes its token endpoint answer tampered, re-signed
// or failing ID tokens (see test/support/oidc/README.md).
//
// Thread-safety: one thread uses it.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "support/browser.hpp"
#include "support/child_process.hpp"

namespace huntaze::test {

class OidcTestProvider {
 public:
  OidcTestProvider();  // starts node and waits for "ready <port>"
  ~OidcTestProvider();

  std::string issuer() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Replaces the registered clients: an array of
  // {client_id, client_secret, redirect_uris, id_token_signed_response_alg}.
  void set_clients(const boost::json::array& clients);
  void set_login(const std::string& sub, const std::string& email, bool email_verified,
                 const std::string& name = "Test User");
  // none, tamper, nonce, audience, expired, issuer, new_kid, unknown_kid,
  // alg_none, hs256, unverified_email
  void set_fault(const std::string& mode);
  void set_token_status(int status);     // 0: normal answers
  void set_metadata_status(int status);  // discovery and JWKS; 0: normal answers
  void rotate_keys();                 // publish k3 from now on
  // Requests served: "discovery", "jwks", "token".
  int64_t served(const std::string& endpoint);

 private:
  void put(const std::string& path, const boost::json::value& body);

  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
  Browser control_;
};

}  // namespace huntaze::test
