// The whole binary as `huntaze serve` builds it (App), on a fresh database,
// with its mail going to a loopback SMTP server, driven through HTTP like a
// client would: the auth tests' fixture.
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "app/app.hpp"
#include "huntaze/auth/access.hpp"
#include "support/app_config.hpp"
#include "support/harness.hpp"
#include "support/http_client.hpp"
#include "support/smtp_server.hpp"

namespace huntaze::test::autht {

using namespace std::chrono_literals;
namespace json = boost::json;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::vector<std::string> set_cookies;
  json::value body;
  std::string raw;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string code() const {
    if (!body.is_object() || !body.as_object().contains("error")) return "";
    return std::string(body.at("error").at("code").as_string());
  }
  std::string str(std::string_view key) const { return std::string(body.at(key).as_string()); }
};

// The sum of every series of `name` in a Prometheus text page.
inline double metric_sum(const std::string& page, const std::string& name) {
  double total = 0;
  size_t pos = 0;
  while ((pos = page.find(name, pos)) != std::string::npos) {
    const bool line_start = pos == 0 || page[pos - 1] == '\n';
    const size_t after = pos + name.size();
    pos = after;
    if (!line_start || after >= page.size() || (page[after] != '{' && page[after] != ' ')) continue;
    const size_t eol = page.find('\n', after);
    const size_t space = page.rfind(' ', eol);
    total += std::stod(page.substr(space + 1, eol - space - 1));
  }
  return total;
}

inline app::AppConfig app_config(const std::string& db_url, const redis::RedisConfig& redis, const SmtpServer& smtp) {
  app::AppConfig c = app_config_for(db_url, redis);
  c.database.pool_max = 8;
  c.compute.threads = 2;
  c.jobs.poll_interval = 50ms;
  c.jobs.admin_api = true;
  c.ai.http_api = true;  // a route outside auth that takes its workspace from X-Huntaze-Workspace
  c.mail.url = smtp.url();
  c.mail.from = "noreply@huntaze.test";
  c.mail.starttls = mail::StartTls::off;
  c.auth.jwt.keys = {{"k1", Secret("test-signing-key-0123456789-abcdefghijklmnop")}};
  c.auth.password = {.memory_kib = 8 * 1024, .iterations = 1, .parallelism = 1};  // fast, still argon2id
  c.auth.public_url = "https://app.huntaze.test";
  c.auth.cookies.allowed_origins = {"https://app.huntaze.test"};
  // Tests share 127.0.0.1, email addresses and the shared Redis: the limits
  // are out of the way unless a test sets its own (with a Redis of its own).
  for (auto* rule : {&c.auth.rate_limits.ip, &c.auth.rate_limits.login_ip, &c.auth.rate_limits.signup_ip,
                     &c.auth.rate_limits.reset_ip, &c.auth.rate_limits.login_account,
                     &c.auth.rate_limits.reset_account})
    rule->limit = 1'000'000;
  c.auth.rate_limits.user.limit = 100'000;
  return c;
}

class AuthApp {
 public:
  explicit AuthApp(const std::function<void(app::AppConfig&)>& adjust = {},
                   std::optional<redis::RedisConfig> redis = std::nullopt)
      : url(fresh_database_url()) {
    auto config = app_config(url, redis.value_or(shared_redis_config()), smtp);
    if (adjust) adjust(config);
    app = std::make_unique<app::App>(std::move(config));
    app->start();
  }
  ~AuthApp() {
    app->request_stop();
    app->wait();
  }

  // One request on a fresh connection. `headers`: extra lines, each ending in \r\n.
  Reply call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& headers = "") {
    HttpConnection conn(app->port());
    std::string raw = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + headers;
    if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT")
      raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    raw += "\r\n" + body;
    conn.send(raw);
    HttpResponse r = conn.read_response(method == "HEAD");
    Reply out;
    out.status = r.status;
    out.headers = r.headers;
    out.raw = r.body;
    out.set_cookies = r.set_cookies;
    boost::system::error_code ec;
    if (!r.body.empty()) out.body = json::parse(r.body, ec);
    return out;
  }
  Reply as(const std::string& token, const std::string& method, const std::string& path,
           const std::string& body = "", const std::string& headers = "") {
    return call(method, path, body, "Authorization: Bearer " + token + "\r\n" + headers);
  }

  // The token in the link of the newest mail to `to` whose subject contains
  // `subject_part`; waits for it to arrive.
  std::string mailed_token(const std::string& to, const std::string& subject_part, size_t nth = 1) {
    std::string token;
    const bool found = eventually(
        [&] {
          size_t seen = 0;
          for (const auto& m : smtp.messages()) {
            if (m.recipients.empty() || m.recipients[0] != to) continue;
            if (decode_header_words(m.header("Subject")).find(subject_part) == std::string::npos) continue;
            if (++seen < nth) continue;
            const std::string link = find_link(m.text());
            const auto at = link.find("token=");
            if (at == std::string::npos) return false;
            token = link.substr(at + 6);
            return true;
          }
          return false;
        },
        20s);
    if (!found) throw std::runtime_error("no mail '" + subject_part + "' to " + to);
    return token;
  }

  struct User {
    std::string email;
    std::string password;
    std::string access;
    std::string refresh;
    std::string id;
    std::string workspace;  // the one made at sign-up
  };

  // Sign-up, verification through the mailed link, login.
  User sign_up_and_log_in(const std::string& email, const std::string& password = "correct horse battery") {
    json::object body{{"email", email}, {"password", password}, {"display_name", "Tester"}};
    Reply r = call("POST", "/api/v1/auth/signup", json::serialize(body));
    if (r.status != 202) throw std::runtime_error("signup: " + std::to_string(r.status) + " " + r.raw);
    const std::string token = mailed_token(email, "Confirm");
    r = call("POST", "/api/v1/auth/verify-email", json::serialize(json::object{{"token", token}}));
    if (r.status != 200) throw std::runtime_error("verify: " + r.raw);
    User u = log_in(email, password);
    Reply me = as(u.access, "GET", "/api/v1/me");
    u.workspace = std::string(me.body.at("workspaces").at(0).at("id").as_string());
    return u;
  }

  User log_in(const std::string& email, const std::string& password) {
    Reply r = call("POST", "/api/v1/auth/login",
                   json::serialize(json::object{{"email", email}, {"password", password}}));
    if (r.status != 200) throw std::runtime_error("login: " + std::to_string(r.status) + " " + r.raw);
    return User{email, password, r.str("access_token"), r.str("refresh_token"), r.str("user_id"), ""};
  }

  // Adds `user` to the owner's workspace with `role` through an invitation;
  // `nth`: which invitation mail to `user` this is.
  void join(const User& owner, const User& user, const std::string& role, size_t nth = 1) {
    Reply r = as(owner.access, "POST", "/api/v1/workspaces/" + owner.workspace + "/invitations",
                 json::serialize(json::object{{"email", user.email}, {"role", role}}));
    REQUIRE(r.status == 201);
    const std::string token = mailed_token(user.email, "Invitation", nth);
    r = as(user.access, "POST", "/api/v1/invitations/accept", json::serialize(json::object{{"token", token}}));
    REQUIRE(r.status == 200);
    CHECK(r.str("role") == role);
  }

  std::string scalar(const std::string& sql) { return admin_scalar(url, sql); }

  SmtpServer smtp;
  std::string url;
  std::unique_ptr<app::App> app;
};

}  // namespace huntaze::test::autht
