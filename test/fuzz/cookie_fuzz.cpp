// libFuzzer target: the Cookie header parser and the CSRF double-submit check
// (src/auth/cookies.hpp).
//
// The input is the value of the request's Cookie headers (several headers
// where it holds '\n', which no single header value can). Then:
// - find_cookie() never throws, and what it finds lies inside one of those
//   header values, holds no ';' and is at most 4 KiB;
// - check_csrf() passes exactly when the hz_csrf cookie is present and not
//   empty, X-CSRF-Token repeats it, and the Origin is absent or allowed; it
//   otherwise refuses with 403 csrf_failed and nothing else.
//
// Seeds: test/fuzz/corpus/cookie/. Built as `cookie_fuzz` with
// -DHUNTAZE_FUZZ=ON (clang); replayed by `fuzz_replay` in every build.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "auth/cookies.hpp"
#include "fuzz_check.hpp"
#include "huntaze/core/error.hpp"

namespace {

using namespace huntaze;

constexpr std::string_view kAllowedOrigin = "https://app.example";

bool inside(std::string_view part, std::string_view whole) {
  const auto* begin = whole.data();
  return part.data() >= begin && part.data() + part.size() <= begin + whole.size();
}

void check_find(const http::Request& req, std::string_view name) {
  const auto value = auth::find_cookie(req, name);
  if (!value) return;
  FUZZ_CHECK(value->size() <= 4096);
  FUZZ_CHECK(value->find(';') == std::string_view::npos);
  bool found = false;
  for (const auto& [header, text] : req.headers.items()) found = found || inside(*value, text);
  FUZZ_CHECK(found);
}

// Whether check_csrf() lets `req` through; any refusal must be its 403.
bool csrf_passes(const http::Request& req, const auth::CookieConfig& config) {
  try {
    auth::check_csrf(req, config);
    return true;
  } catch (const ApiError& e) {
    FUZZ_CHECK(e.status() == 403);
    FUZZ_CHECK(e.code() == "csrf_failed");
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  http::Request req;
  req.method = "POST";
  for (size_t start = 0;;) {
    const size_t end = input.find('\n', start);
    req.headers.add("Cookie", std::string(input.substr(start, end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  for (std::string_view name : {auth::kAccessCookie, auth::kRefreshCookie, auth::kCsrfCookie, std::string_view("a"),
                                std::string_view("")})
    check_find(req, name);

  // A copy: adding headers below may move the strings the view points into.
  const auto found = auth::find_cookie(req, auth::kCsrfCookie);
  const std::optional<std::string> csrf = found ? std::optional<std::string>(*found) : std::nullopt;
  const bool usable = csrf && !csrf->empty();
  auth::CookieConfig config;
  config.allowed_origins = {std::string(kAllowedOrigin)};

  FUZZ_CHECK(!csrf_passes(req, config));  // no X-CSRF-Token header
  http::Request echoed = req;
  echoed.headers.set(std::string(auth::kCsrfHeader), csrf.value_or(""));
  FUZZ_CHECK(csrf_passes(echoed, config) == usable);
  echoed.headers.set("Origin", std::string(kAllowedOrigin));
  FUZZ_CHECK(csrf_passes(echoed, config) == usable);
  echoed.headers.set("Origin", "https://evil.example");
  FUZZ_CHECK(!csrf_passes(echoed, config));
  http::Request wrong = req;
  wrong.headers.set(std::string(auth::kCsrfHeader), csrf.value_or("") + "x");
  FUZZ_CHECK(!csrf_passes(wrong, config));
  return 0;
}
