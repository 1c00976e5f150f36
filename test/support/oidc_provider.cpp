#include "support/oidc_provider.hpp"

#include <csignal>
#include <stdexcept>

#include "support/harness.hpp"

namespace huntaze::test {

namespace json = boost::json;
using namespace std::chrono_literals;

OidcTestProvider::OidcTestProvider() {
  const std::string script = require_env("HUNTAZE_TEST_OIDC_PROVIDER");
  process_ = std::make_unique<ChildProcess>("/usr/bin/env", std::vector<std::string>{"node", script});
  const std::string ready = process_->wait_for_line("ready ", 30s);
  port_ = std::stoi(ready.substr(6));
}

OidcTestProvider::~OidcTestProvider() {
  process_->signal(SIGTERM);
  if (!process_->wait(5s)) process_->signal(SIGKILL);
}

void OidcTestProvider::put(const std::string& path, const json::value& body) {
  BrowserHop hop = control_.request("PUT", issuer() + path, json::serialize(body));
  if (hop.status / 100 != 2)
    throw std::runtime_error("PUT " + path + " answered " + std::to_string(hop.status) + ": " + hop.body);
}

void OidcTestProvider::set_clients(const json::array& clients) { put("/test/clients", clients); }

void OidcTestProvider::set_login(const std::string& sub, const std::string& email, bool email_verified,
                                 const std::string& name) {
  put("/test/login", json::object{{"sub", sub}, {"email", email}, {"email_verified", email_verified}, {"name", name}});
}

void OidcTestProvider::set_fault(const std::string& mode) { put("/test/fault", json::object{{"mode", mode}}); }

void OidcTestProvider::set_token_status(int status) { put("/test/token_status", json::object{{"status", status}}); }

void OidcTestProvider::set_metadata_status(int status) {
  put("/test/metadata_status", json::object{{"status", status}});
}

void OidcTestProvider::rotate_keys() { put("/test/rotate", json::object{}); }

int64_t OidcTestProvider::served(const std::string& endpoint) {
  BrowserHop hop = control_.request("GET", issuer() + "/test/stats");
  if (hop.status != 200) throw std::runtime_error("GET /test/stats answered " + std::to_string(hop.status));
  return json::parse(hop.body).at(endpoint).to_number<int64_t>();
}

}  // namespace huntaze::test
