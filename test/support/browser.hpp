// A browser for sign-in flows that hop between sites: one libcurl handle
// with its in-memory cookie jar, following redirects itself so that a test
// sees every hop and the walk stops at the first address off loopback (the
// web app's page, which tests do not serve).
//
//   Browser browser;
//   auto hops = browser.navigate("http://127.0.0.1:8080/api/v1/auth/oidc/x/start");
//   hops.back().location;   // where it would have gone next
//
// Thread-safety: one thread uses a Browser.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace huntaze::test {

struct BrowserHop {
  std::string method;
  std::string url;
  int status = 0;
  std::string location;                  // the Location header, "" when none
  std::vector<std::string> set_cookies;  // every Set-Cookie, as sent
  std::string body;
  // The value of a cookie this hop set ("" for a cleared one), or nullopt.
  std::optional<std::string> cookie_set(const std::string& name) const;
};

class Browser {
 public:
  Browser();
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // GETs `url` and follows redirects (GET) while they lead to 127.0.0.1, at
  // most `max_hops` requests; returns every response in order.
  std::vector<BrowserHop> navigate(const std::string& url, int max_hops = 12);
  // One request, no redirect followed (cookies still sent and kept).
  BrowserHop request(const std::string& method, const std::string& url, const std::string& body = "",
                     const std::string& content_type = "application/json");

 private:
  void* curl_;  // CURL*
};

}  // namespace huntaze::test
