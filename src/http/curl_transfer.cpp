#include "http/curl_transfer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>

#include "huntaze/http/message.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::http::detail {

namespace {

namespace ip = boost::asio::ip;
using Kind = HttpClientError::Kind;

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return c > 32 && c < 127 && !std::strchr("()<>@,;:\\\"/[]?={}", c);
  });
}

// CR/LF would end the header line early (request smuggling); curl's lists are
// C strings, so a NUL would silently cut the value short.
bool breaks_header_line(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

size_t on_body(char* data, size_t size, size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (n > t->request.max_response_bytes - std::min(t->body_bytes, t->request.max_response_bytes)) {
    t->abort_reason.emplace(Kind::too_large,
                            "response body exceeds " + std::to_string(t->request.max_response_bytes) + " bytes");
    return 0;  // curl aborts with CURLE_WRITE_ERROR
  }
  t->body_bytes += n;
  if (!t->request.on_chunk) {
    t->response.body.append(data, n);
    return n;
  }
  try {
    t->request.on_chunk(std::string_view(data, n));
  } catch (...) {
    t->chunk_failure = std::current_exception();
    return 0;
  }
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > kMaxResponseHeaderBytes) {
    t->abort_reason.emplace(Kind::protocol,
                            "response headers exceed " + std::to_string(kMaxResponseHeaderBytes) + " bytes");
    return 0;  // curl aborts with CURLE_WRITE_ERROR
  }
  try {
    parse_header_line(t->response, std::string_view(data, n));
  } catch (...) {  // out of memory
    return 0;
  }
  return n;
}

std::optional<ip::address> address_of(const curl_sockaddr* a) {
  if (a->family == AF_INET && a->addrlen >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a->addr);
    return ip::address(ip::address_v4(ntohl(in->sin_addr.s_addr)));
  }
  if (a->family == AF_INET6 && a->addrlen >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a->addr);
    ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
    return ip::address(ip::address_v6(bytes, in6->sin6_scope_id));
  }
  return std::nullopt;
}

// The host of the URL curl is fetching now (the effective URL, so that a
// followed redirect is judged by its own host).
std::string current_host(CURL* easy, const std::string& fallback_url) {
  char* url = nullptr;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  char* host = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url && *url ? url : fallback_url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_HOST, &host, 0) != CURLUE_OK)
    return {};
  std::string out(host);
  curl_free(host);
  return out;
}

// Every connection curl makes goes through here, after DNS and for every
// address it tries, which is where the SSRF guard belongs: no URL spelling
// (decimal, octal, a name resolving to 10.x) gets past it.
curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* a) noexcept {
  auto* t = static_cast<Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  try {
    if (t->request.untrusted_url) {
      auto address = address_of(a);
      if (!address) {
        t->abort_reason.emplace(Kind::blocked, "untrusted URLs may only reach IP addresses");
        return CURL_SOCKET_BAD;
      }
      if (auto reason = ssrf::check(*address, current_host(t->easy, t->request.url), *t->settings.allow)) {
        t->abort_reason.emplace(Kind::blocked, *reason);
        return CURL_SOCKET_BAD;
      }
    }
  } catch (...) {
    return CURL_SOCKET_BAD;
  }
  int fd = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  if (fd >= 0 && t->settings.connections_opened) t->settings.connections_opened->inc();
  return fd;
}

template <class T>
void set(CURL* easy, CURLoption option, T value) {
  if (CURLcode rc = curl_easy_setopt(easy, option, value); rc != CURLE_OK)
    throw HttpClientError(Kind::other, std::string("curl_easy_setopt: ") + curl_easy_strerror(rc));
}

}  // namespace

void Transfer::setup(const EasySettings& s) {
  settings = s;
  const auto& r = request;
  if (!is_token(r.method)) throw HttpClientError(Kind::other, "invalid HTTP method '" + r.method + "'");
  easy = curl_easy_init();
  if (!easy) throw HttpClientError(Kind::other, "curl_easy_init failed");

  set(easy, CURLOPT_URL, r.url.c_str());
  set(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  set(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(easy, CURLOPT_FOLLOWLOCATION, 0L);
  set(easy, CURLOPT_NOSIGNAL, 1L);  // we are multi-threaded: no SIGALRM for DNS timeouts
  set(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  set(easy, CURLOPT_PIPEWAIT, 1L);  // wait to multiplex on an HTTP/2 connection being set up
  set(easy, CURLOPT_ERRORBUFFER, error_buffer);
  set(easy, CURLOPT_PRIVATE, static_cast<void*>(this));
  set(easy, CURLOPT_WRITEFUNCTION, &on_body);
  set(easy, CURLOPT_WRITEDATA, static_cast<void*>(this));
  set(easy, CURLOPT_HEADERFUNCTION, &on_header);
  set(easy, CURLOPT_HEADERDATA, static_cast<void*>(this));
  set(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  set(easy, CURLOPT_OPENSOCKETFUNCTION, &on_open_socket);
  set(easy, CURLOPT_OPENSOCKETDATA, static_cast<void*>(this));
  set(easy, CURLOPT_CLOSESOCKETFUNCTION, s.close_socket);
  set(easy, CURLOPT_CLOSESOCKETDATA, s.close_socket_data);
  set(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
  set(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.total_timeout.count()));
  if (r.idle_timeout.count() > 0) {
    set(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(easy, CURLOPT_LOW_SPEED_TIME,
        static_cast<long>(std::chrono::ceil<std::chrono::seconds>(r.idle_timeout).count()));
  }
  // Refuses early when Content-Length already says too much; the body
  // callback enforces the cap on what actually arrives.
  set(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_response_bytes));
  set(easy, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode
  set(easy, CURLOPT_USERAGENT, s.config->user_agent.c_str());
  if (!s.config->ca_file.empty()) set(easy, CURLOPT_CAINFO, s.config->ca_file.c_str());
  if (r.untrusted_url) {
    // A proxy would connect to the target for us, out of the guard's sight;
    // a pooled connection was checked for another URL or not at all.
    set(easy, CURLOPT_NOPROXY, "*");
    set(easy, CURLOPT_FRESH_CONNECT, 1L);
  }

  if (r.method == "GET" && r.body.empty()) {
    set(easy, CURLOPT_HTTPGET, 1L);
  } else if (r.method == "HEAD") {
    set(easy, CURLOPT_NOBODY, 1L);
  } else if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    set(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    set(easy, CURLOPT_POSTFIELDS, r.body.data());  // request.body lives as long as the transfer
    if (r.method != "POST") set(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else {
    set(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }

  bool has_expect = false;
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name) || breaks_header_line(value))
      throw HttpClientError(Kind::other, "invalid request header '" + name + "'");
    if (iequals(name, "expect")) has_expect = true;
    // "Name;" is curl's spelling of a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* next = curl_slist_append(header_list, line.c_str());
    if (!next) throw HttpClientError(Kind::other, "out of memory");
    header_list = next;
  }
  // curl would otherwise send "Expect: 100-continue" with larger bodies and
  // wait up to a second for a 100 that many servers never send.
  if (!has_expect) {
    curl_slist* next = curl_slist_append(header_list, "Expect:");
    if (!next) throw HttpClientError(Kind::other, "out of memory");
    header_list = next;
  }
  set(easy, CURLOPT_HTTPHEADER, header_list);
}

void Transfer::finish(CURLcode result) {
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    curl_off_t ttfb = 0;
    curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
    response.time_to_first_byte = std::chrono::microseconds(ttfb);
  } else if (chunk_failure) {
    failure.emplace(Kind::other, "on_chunk threw");
  } else if (abort_reason) {
    failure = abort_reason;
  } else {
    std::string message = error_buffer[0] ? error_buffer : curl_easy_strerror(result);
    failure.emplace(error_kind(result), message);
  }
}

void Transfer::fail(HttpClientError::Kind kind, const std::string& message) {
  if (!failure) failure.emplace(kind, message);
}

void Transfer::release_easy() noexcept {
  if (easy) curl_easy_cleanup(easy);
  easy = nullptr;
  if (header_list) curl_slist_free_all(header_list);
  header_list = nullptr;
}

HttpClientError::Kind error_kind(CURLcode code) noexcept {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Kind::timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return Kind::connect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return Kind::tls;
    case CURLE_FILESIZE_EXCEEDED:
      return Kind::too_large;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
      return Kind::protocol;
    case CURLE_ABORTED_BY_CALLBACK:
      return Kind::cancelled;
    default:
      return Kind::other;
  }
}

void parse_header_line(ClientResponse& response, std::string_view line) {
  if (line.rfind("HTTP/", 0) == 0) {  // a new response: interim ones are forgotten
    response.headers.clear();
    return;
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {  // obsolete line folding
    if (!response.headers.empty() && !trim(line).empty()) {
      auto& value = response.headers.back().second;
      value += ' ';
      value += trim(line);
    }
    return;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return;  // the blank line that ends the block
  response.headers.emplace_back(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
}

}  // namespace huntaze::http::detail
