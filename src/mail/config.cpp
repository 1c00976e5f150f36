#include "huntaze/mail/config.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "mail/message.hpp"

namespace huntaze::mail {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Empty when `url` is an acceptable smtp:// or smtps:// URL, else why not.
std::string url_problem(std::string_view url) {
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return "must not contain spaces or control characters";
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) return "must be smtp://host[:port] or smtps://host[:port]";
  const std::string scheme = lower(url.substr(0, colon));
  if (scheme != "smtp" && scheme != "smtps") return "scheme must be smtp or smtps, got '" + scheme + "'";
  std::string_view rest = url.substr(colon + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) return "must not have a query or fragment";
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos)
    return "must not carry credentials; use mail.username and mail.password";
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return "has an unterminated IPv6 address";
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "has garbage after the IPv6 address";
      has_port = true;
      port = after.substr(1);
    }
  } else if (const size_t c = authority.rfind(':'); c != std::string_view::npos) {
    has_port = true;
    host = authority.substr(0, c);
    port = authority.substr(c + 1);
  }
  if (host.empty()) return "has no host";
  if (has_port) {
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
      return "has an invalid port";
    const int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) return "port must be 1..65535";
  }
  return "";
}

}  // namespace

std::string_view to_string(StartTls mode) noexcept {
  switch (mode) {
    case StartTls::auto_:
      return "auto";
    case StartTls::required:
      return "required";
    case StartTls::off:
      return "off";
  }
  return "required";
}

MailConfig parse_mail_config(config::Node node) {
  using std::chrono::milliseconds;
  using namespace std::chrono_literals;
  MailConfig c;
  c.url = node.get_string("url", c.url);
  if (!c.url.empty())
    if (auto problem = url_problem(c.url); !problem.empty()) node.fail("url", problem);
  c.from = node.get_string("from", c.from);
  if (c.from.empty()) {
    if (c.enabled()) node.fail("from", "is required when mail.url is set");
  } else if (!plausible_address(c.from)) {
    node.fail("from", "must be a single plain address local@domain (no display name: see from_name)");
  }
  c.from_name = node.get_string("from_name", c.from_name);
  if (!valid_sender_name(c.from_name))
    node.fail("from_name", "must be one line of UTF-8, at most 256 bytes");
  c.username = node.get_string("username", c.username);
  if (!one_line(c.username))
    node.fail("username", "must be one line (no CR, LF or NUL)");
  c.password = node.get_secret("password");
  if (!one_line(c.password.reveal()))
    node.fail("password", "must be one line (no CR, LF or NUL)");
  if (!c.password.empty() && c.username.empty()) node.fail("password", "is set but mail.username is empty");
  const auto mode = node.get_enum("starttls", std::string(to_string(c.starttls)), {"auto", "required", "off"});
  c.starttls = mode == "auto" ? StartTls::auto_ : mode == "off" ? StartTls::off : StartTls::required;
  // A send must end well within the mail.send job's 5-minute attempt
  // timeout (src/mail/jobs.cpp), or the job would cut it off every time.
  c.connect_timeout = node.get_duration("connect_timeout", c.connect_timeout, 100ms, milliseconds(240'000));
  c.timeout = node.get_duration("timeout", c.timeout, 100ms, milliseconds(240'000));
  if (c.timeout < c.connect_timeout) node.fail("timeout", "must be at least connect_timeout");
  c.threads = static_cast<int>(node.get_int("threads", c.threads, 1, 8));
  node.finish();
  return c;
}

}  // namespace huntaze::mail
