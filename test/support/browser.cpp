#include "support/browser.hpp"

#include <curl/curl.h>

#include <stdexcept>

namespace huntaze::test {

namespace {

size_t collect_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

size_t collect_header(char* data, size_t size, size_t count, void* out) {
  auto* hop = static_cast<BrowserHop*>(out);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name == "location") hop->location = value;
    if (name == "set-cookie") hop->set_cookies.push_back(value);
  }
  return size * count;
}

bool on_loopback(const std::string& url) { return url.starts_with("http://127.0.0.1:"); }

}  // namespace

std::optional<std::string> BrowserHop::cookie_set(const std::string& name) const {
  for (const auto& c : set_cookies)
    if (c.starts_with(name + "=")) return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
  return std::nullopt;
}

Browser::Browser() : curl_(curl_easy_init()) {
  if (!curl_) throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, "");  // the in-memory cookie engine
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
}

Browser::~Browser() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

BrowserHop Browser::request(const std::string& method, const std::string& url, const std::string& body,
                            const std::string& content_type) {
  CURL* curl = static_cast<CURL*>(curl_);
  BrowserHop hop;
  hop.method = method;
  hop.url = url;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &hop.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hop);
  curl_slist* headers = nullptr;
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  hop.status = static_cast<int>(status);
  return hop;
}

std::vector<BrowserHop> Browser::navigate(const std::string& start, int max_hops) {
  std::vector<BrowserHop> hops;
  std::string url = start;
  for (int i = 0; i < max_hops; ++i) {
    hops.push_back(request("GET", url));
    const BrowserHop& hop = hops.back();
    if (hop.status < 300 || hop.status >= 400 || hop.location.empty()) return hops;
    // Relative Locations are resolved against this hop's origin.
    std::string next = hop.location;
    if (next.starts_with("/")) next = url.substr(0, url.find('/', url.find("://") + 3)) + next;
    if (!on_loopback(next)) return hops;
    url = next;
  }
  throw std::runtime_error("more than " + std::to_string(max_hops) + " redirects from " + start);
}

}  // namespace huntaze::test
