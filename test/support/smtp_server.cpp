#include "support/smtp_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "huntaze/http/message.hpp"

namespace huntaze::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxMessageBytes = 10u << 20;  // advertised as SIZE
constexpr size_t kMaxLineBytes = 64 * 1024;     // generous: RFC 5321 says 1000
constexpr size_t kMaxRecipients = 100;
constexpr size_t kDefaultCaptureBytes = 64u << 20;

using http::iequals;

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string default_text(int code) {
  switch (code / 100) {
    case 2:
      return "2.0.0 Ok";
    case 4:
      return "4.3.0 Try again later (injected)";
    default:
      return "5.7.1 Refused (injected)";
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<a@b> SIZE=9" -> address "a@b", params "SIZE=9"; nullopt without <...>.
std::optional<std::pair<std::string, std::string>> parse_path(std::string_view arg) {
  while (!arg.empty() && arg.front() == ' ') arg.remove_prefix(1);
  if (arg.empty() || arg.front() != '<') return std::nullopt;
  const size_t close = arg.find('>');
  if (close == std::string_view::npos) return std::nullopt;
  std::string address(arg.substr(1, close - 1));
  std::string_view params = arg.substr(close + 1);
  while (!params.empty() && params.front() == ' ') params.remove_prefix(1);
  return std::make_pair(std::move(address), std::string(params));
}

}  // namespace

// ---------------------------------------------------------------------------
// Decoding helpers

std::string decode_base64(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t padding = 0;
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding) return "";  // data after padding
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      return "";
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '=') {
      out += c;
      continue;
    }
    if (i + 2 < in.size() && in[i + 1] == '\r' && in[i + 2] == '\n') {  // soft break
      i += 2;
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '\n') {  // soft break, bare LF
      i += 1;
      continue;
    }
    if (i + 2 < in.size()) {
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += c;  // malformed: kept as is
  }
  return out;
}

std::string decode_header_words(std::string_view value) {
  std::string out;
  size_t i = 0;
  bool last_was_word = false;
  std::string pending_space;
  while (i < value.size()) {
    if (value.compare(i, 2, "=?") == 0) {
      // =?charset?enc?text?=
      const size_t q1 = value.find('?', i + 2);
      const size_t q2 = q1 == std::string_view::npos ? q1 : value.find('?', q1 + 1);
      const size_t end = q2 == std::string_view::npos ? q2 : value.find("?=", q2 + 1);
      if (end != std::string_view::npos) {
        const auto enc = value.substr(q1 + 1, q2 - q1 - 1);
        const auto text = value.substr(q2 + 1, end - q2 - 1);
        std::string decoded;
        if (iequals(enc, "B")) {
          decoded = decode_base64(text);
        } else {
          std::string q(text);
          std::replace(q.begin(), q.end(), '_', ' ');
          decoded = decode_quoted_printable(q);
        }
        if (!last_was_word) out += pending_space;
        pending_space.clear();
        out += decoded;
        last_was_word = true;
        i = end + 2;
        continue;
      }
    }
    const char c = value[i];
    if (c == ' ' || c == '\t') {
      pending_space += c;
    } else {
      out += pending_space;
      pending_space.clear();
      out += c;
      last_was_word = false;
    }
    ++i;
  }
  out += pending_space;
  return out;
}

std::string find_link(std::string_view text) {
  size_t best = std::string_view::npos;
  for (std::string_view scheme : {"https://", "http://"}) best = std::min(best, text.find(scheme));
  if (best == std::string_view::npos) return "";
  size_t end = best;
  while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '>' &&
         text[end] != '"')
    ++end;
  return std::string(text.substr(best, end - best));
}

// ---------------------------------------------------------------------------
// SmtpMessage

std::string SmtpMessage::header(std::string_view name) const {
  const size_t end = data.find("\r\n\r\n");
  std::string_view head(data.data(), end == std::string::npos ? data.size() : end + 2);
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !iequals(line.substr(0, colon), name)) continue;
    std::string value(line.substr(colon + 1));
    // Unfold: continuation lines start with a space or tab.
    while (pos < head.size() && (head[pos] == ' ' || head[pos] == '\t')) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string_view::npos) next = head.size();
      value += head.substr(pos, next - pos);
      pos = next + 2;
    }
    const size_t first = value.find_first_not_of(" \t");
    return first == std::string::npos ? "" : value.substr(first);
  }
  return "";
}

std::string SmtpMessage::body() const {
  const size_t end = data.find("\r\n\r\n");
  return end == std::string::npos ? "" : data.substr(end + 4);
}

std::string SmtpMessage::text() const {
  const std::string encoding = header("Content-Transfer-Encoding");
  std::string decoded = iequals(encoding, "quoted-printable") ? decode_quoted_printable(body())
                        : iequals(encoding, "base64")         ? decode_base64(body())
                                                              : body();
  std::string out;
  out.reserve(decoded.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    if (decoded[i] == '\r' && i + 1 < decoded.size() && decoded[i + 1] == '\n') continue;
    out += decoded[i];
  }
  return out;
}

// ---------------------------------------------------------------------------
// The server

struct SmtpServer::Impl {
  Impl() : acceptor(ioc) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    asio::co_spawn(ioc, accept_loop(), asio::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  void stop() {
    asio::post(ioc, [this] {
      stopping = true;
      error_code ignored;
      acceptor.close(ignored);
      for (auto& [ptr, weak] : sockets)
        if (auto s = weak.lock()) s->close(ignored);
    });
    thread.join();  // run() returns once every session has unwound
  }

  // Shared with callers (any thread).
  mutable std::mutex mutex;
  mutable std::condition_variable arrived;
  std::vector<SmtpMessage> accepted;
  std::vector<std::string> command_log;
  size_t captured = 0;  // bytes of accepted[].data and command_log together
  size_t capture_limit = kDefaultCaptureBytes;
  size_t connection_count = 0;
  std::string user, password;  // required credentials; empty user: no AUTH
  struct Armed {
    SmtpFault fault;
    int remaining;  // < 0: forever
  };
  std::deque<Armed> faults;

  // Touched only on the server thread.
  bool stopping = false;
  std::unordered_map<tcp::socket*, std::weak_ptr<tcp::socket>> sockets;

  int port = 0;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::thread thread;

  std::optional<SmtpFault> take_fault(SmtpStage stage) {
    std::lock_guard lock(mutex);
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (it->fault.stage != stage) continue;
      SmtpFault f = it->fault;
      if (it->remaining > 0 && --it->remaining == 0) faults.erase(it);
      return f;
    }
    return std::nullopt;
  }

  // Keeps a command line for commands(); false (nothing kept) once the
  // capture is full.
  bool log_command(std::string line) {
    std::lock_guard lock(mutex);
    if (captured + line.size() > capture_limit) return false;
    captured += line.size();
    command_log.push_back(std::move(line));
    return true;
  }

  // Keeps an accepted message; its number, or nullopt once the capture is full.
  std::optional<size_t> keep(SmtpMessage message) {
    size_t number;
    {
      std::lock_guard lock(mutex);
      if (captured + message.data.size() > capture_limit) return std::nullopt;
      captured += message.data.size();
      accepted.push_back(std::move(message));
      number = accepted.size();
    }
    arrived.notify_all();
    return number;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec || stopping) co_return;
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      sockets.emplace(s.get(), s);
      {
        std::lock_guard lock(mutex);
        ++connection_count;
      }
      asio::co_spawn(ioc, session(s), asio::detached);
    }
  }

  // One connection's conversation.
  struct Session {
    std::shared_ptr<tcp::socket> socket;
    std::string buffer;
    bool open = true;

    // `text` must live until the write completes (a named local of the caller).
    asio::awaitable<bool> write(const std::string& text) {
      if (!open) co_return false;
      auto [ec, n] = co_await asio::async_write(*socket, asio::buffer(text), use_tuple);
      (void)n;
      if (ec) open = false;
      co_return open;
    }
    asio::awaitable<bool> reply(int code, std::string_view text) {
      std::string line = std::to_string(code) + " ";
      line.append(text);
      line += "\r\n";
      co_return co_await write(line);
    }
    // A line without its CRLF; nullopt when the connection ended.
    asio::awaitable<std::optional<std::string>> read_line() {
      if (!open) co_return std::nullopt;
      auto [ec, n] = co_await asio::async_read_until(*socket, asio::dynamic_buffer(buffer, kMaxLineBytes), "\r\n",
                                                     use_tuple);
      if (ec) {
        open = false;
        co_return std::nullopt;
      }
      std::string line = buffer.substr(0, n - 2);
      buffer.erase(0, n);
      co_return line;
    }
    void close() {
      open = false;
      error_code ignored;
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
    }
    // Reads and discards until the peer or the server closes.
    asio::awaitable<void> stall() {
      std::array<char, 4096> sink;
      for (;;) {
        auto [ec, n] = co_await socket->async_read_some(asio::buffer(sink), use_tuple);
        (void)n;
        if (ec) break;
      }
      close();
    }
  };

  // Plays a fault; false when the session is over (close, stall).
  static asio::awaitable<bool> play(Session& s, const SmtpFault& f) {
    switch (f.action) {
      case SmtpFault::Action::close:
        s.close();
        co_return false;
      case SmtpFault::Action::stall:
        co_await s.stall();
        co_return false;
      case SmtpFault::Action::reply:
        break;
    }
    const std::string text = f.text.empty() ? default_text(f.code) : f.text;
    co_return co_await s.reply(f.code, text);
  }

  asio::awaitable<std::optional<std::string>> auth_plain(Session& s, std::string_view initial) {
    std::string response(initial);
    if (response.empty()) {
      if (!co_await s.reply(334, "")) co_return std::nullopt;
      auto line = co_await s.read_line();
      if (!line) co_return std::nullopt;
      response = *line;
    }
    if (response == "*") co_return std::nullopt;
    const std::string decoded = decode_base64(response);
    // authzid \0 authcid \0 passwd
    const size_t a = decoded.find('\0');
    const size_t b = a == std::string::npos ? a : decoded.find('\0', a + 1);
    if (b == std::string::npos) co_return std::string("\x01");  // malformed
    const std::string who = decoded.substr(a + 1, b - a - 1);
    const std::string pass = decoded.substr(b + 1);
    std::lock_guard lock(mutex);
    if (who == user && pass == password) co_return who;
    co_return std::string("\x01");
  }

  asio::awaitable<std::optional<std::string>> auth_login(Session& s, std::string_view initial) {
    std::string who;
    if (!initial.empty()) {
      who = decode_base64(initial);
    } else {
      if (!co_await s.reply(334, "VXNlcm5hbWU6")) co_return std::nullopt;  // "Username:"
      auto line = co_await s.read_line();
      if (!line || *line == "*") co_return std::nullopt;
      who = decode_base64(*line);
    }
    if (!co_await s.reply(334, "UGFzc3dvcmQ6")) co_return std::nullopt;  // "Password:"
    auto line = co_await s.read_line();
    if (!line || *line == "*") co_return std::nullopt;
    const std::string pass = decode_base64(*line);
    std::lock_guard lock(mutex);
    if (who == user && pass == password) co_return who;
    co_return std::string("\x01");
  }

  asio::awaitable<void> session(std::shared_ptr<tcp::socket> socket) {
    Session s{socket};
    co_await converse(s);
    s.close();
    sockets.erase(socket.get());
  }

  asio::awaitable<void> converse(Session& s) {
    bool greeted = true;
    if (auto f = take_fault(SmtpStage::greeting)) {
      if (!co_await play(s, *f)) co_return;
      greeted = f->code / 100 == 2;
    } else if (!co_await s.reply(220, "127.0.0.1 ESMTP huntaze-test-smtp")) {
      co_return;
    }
    bool helo = false;
    std::string authed;
    std::optional<SmtpMessage> txn;  // between MAIL and the end of DATA
    for (;;) {
      auto line = co_await s.read_line();
      if (!line) co_return;
      const size_t space = line->find(' ');
      const std::string verb = upper(std::string_view(*line).substr(0, space));
      const std::string_view arg =
          space == std::string::npos ? std::string_view() : std::string_view(*line).substr(space + 1);
      // QUIT is answered even when it can no longer be logged: the message
      // before it was accepted, and the client must not think otherwise.
      if (!log_command(verb == "AUTH" ? "AUTH " + upper(arg.substr(0, arg.find(' '))) + " ***" : *line) &&
          verb != "QUIT") {
        co_await s.reply(421, "4.3.1 Test server capture full; closing");
        co_return;
      }
      bool ok = true;

      if (verb == "QUIT") {
        co_await s.reply(221, "2.0.0 Bye");
        co_return;
      }
      if (!greeted) {
        ok = co_await s.reply(503, "5.5.1 No service; QUIT only");
      } else if (verb == "EHLO" || verb == "HELO") {
        if (auto f = take_fault(SmtpStage::ehlo)) {
          ok = co_await play(s, *f);
        } else {
          helo = true;
          txn.reset();
          if (verb == "HELO") {
            ok = co_await s.reply(250, "127.0.0.1");
          } else {
            bool auth;
            {
              std::lock_guard lock(mutex);
              auth = !user.empty();
            }
            std::string text = "250-127.0.0.1 greets " + std::string(arg) + "\r\n";
            text += "250-SIZE " + std::to_string(kMaxMessageBytes) + "\r\n";
            if (auth) text += "250-AUTH PLAIN LOGIN\r\n";
            text += "250 8BITMIME\r\n";
            ok = co_await s.write(text);
          }
        }
      } else if (verb == "NOOP") {
        ok = co_await s.reply(250, "2.0.0 Ok");
      } else if (verb == "RSET") {
        txn.reset();
        ok = co_await s.reply(250, "2.0.0 Ok");
      } else if (verb == "VRFY") {
        ok = co_await s.reply(252, "2.0.0 Cannot VRFY; send some mail and see");
      } else if (!helo) {
        ok = co_await s.reply(503, "5.5.1 Say EHLO first");
      } else if (verb == "AUTH") {
        bool offered;
        {
          std::lock_guard lock(mutex);
          offered = !user.empty();
        }
        const std::string mech = upper(arg.substr(0, arg.find(' ')));
        const std::string_view initial =
            arg.find(' ') == std::string_view::npos ? std::string_view() : arg.substr(arg.find(' ') + 1);
        if (!offered) {
          ok = co_await s.reply(503, "5.5.1 AUTH not offered");
        } else if (!authed.empty()) {
          ok = co_await s.reply(503, "5.5.1 Already authenticated");
        } else if (mech != "PLAIN" && mech != "LOGIN") {
          ok = co_await s.reply(504, "5.5.4 Unrecognized authentication type");
        } else {
          std::optional<std::string> who;
          if (mech == "PLAIN")
            who = co_await auth_plain(s, initial);
          else
            who = co_await auth_login(s, initial);
          if (!s.open) co_return;
          if (!who)
            ok = co_await s.reply(501, "5.7.0 Authentication cancelled");
          else if (*who == "\x01")
            ok = co_await s.reply(535, "5.7.8 Authentication credentials invalid");
          else {
            authed = *who;
            ok = co_await s.reply(235, "2.7.0 Authentication successful");
          }
        }
      } else if (verb == "MAIL") {
        bool need_auth;
        {
          std::lock_guard lock(mutex);
          need_auth = !user.empty();
        }
        std::optional<std::pair<std::string, std::string>> path;
        if (istarts_with(arg, "FROM:")) path = parse_path(arg.substr(5));
        if (txn) {
          ok = co_await s.reply(503, "5.5.1 Nested MAIL command");
        } else if (need_auth && authed.empty()) {
          ok = co_await s.reply(530, "5.7.0 Authentication required");
        } else if (!path) {
          ok = co_await s.reply(501, "5.5.4 Syntax: MAIL FROM:<address>");
        } else if (auto f = take_fault(SmtpStage::mail)) {
          ok = co_await play(s, *f);
        } else {
          size_t size = 0;
          if (const size_t at = upper(path->second).find("SIZE="); at != std::string::npos)
            size = std::strtoull(path->second.c_str() + at + 5, nullptr, 10);
          if (size > kMaxMessageBytes) {
            ok = co_await s.reply(552, "5.3.4 Message size exceeds fixed limit");
          } else {
            txn.emplace();
            txn->mail_from = path->first;
            txn->mail_params = path->second;
            txn->auth_user = authed;
            ok = co_await s.reply(250, "2.1.0 Ok");
          }
        }
      } else if (verb == "RCPT") {
        std::optional<std::pair<std::string, std::string>> path;
        if (istarts_with(arg, "TO:")) path = parse_path(arg.substr(3));
        if (!txn) {
          ok = co_await s.reply(503, "5.5.1 Need MAIL before RCPT");
        } else if (!path || path->first.empty()) {
          ok = co_await s.reply(501, "5.5.4 Syntax: RCPT TO:<address>");
        } else if (txn->recipients.size() >= kMaxRecipients) {
          ok = co_await s.reply(452, "4.5.3 Too many recipients");
        } else if (auto f = take_fault(SmtpStage::rcpt)) {
          ok = co_await play(s, *f);
        } else {
          txn->recipients.push_back(path->first);
          ok = co_await s.reply(250, "2.1.5 Ok");
        }
      } else if (verb == "DATA") {
        if (!txn) {
          ok = co_await s.reply(503, "5.5.1 Need MAIL command");
        } else if (txn->recipients.empty()) {
          ok = co_await s.reply(554, "5.5.1 No valid recipients");
        } else if (auto f = take_fault(SmtpStage::data)) {
          ok = co_await play(s, *f);
        } else if (!co_await s.reply(354, "End data with <CR><LF>.<CR><LF>")) {
          co_return;
        } else {
          bool too_big = false;
          for (;;) {
            auto data_line = co_await s.read_line();
            if (!data_line) co_return;
            if (*data_line == ".") break;
            std::string_view l = *data_line;
            if (!l.empty() && l.front() == '.') l.remove_prefix(1);  // dot-unstuffing
            if (txn->data.size() + l.size() + 2 > kMaxMessageBytes) too_big = true;
            if (!too_big) {
              txn->data.append(l);
              txn->data += "\r\n";
            }
          }
          if (too_big) {
            ok = co_await s.reply(552, "5.3.4 Message size exceeds fixed limit");
          } else if (auto f = take_fault(SmtpStage::end_of_data)) {
            ok = co_await play(s, *f);
          } else if (const auto number = keep(std::move(*txn)); !number) {
            ok = co_await s.reply(452, "4.3.1 Insufficient system storage (test server capture full)");
          } else {
            const std::string queued = "2.0.0 Ok: queued as " + std::to_string(*number);
            ok = co_await s.reply(250, queued);
          }
          txn.reset();
        }
      } else if (verb == "STARTTLS") {
        ok = co_await s.reply(502, "5.5.1 STARTTLS not available");
      } else {
        ok = co_await s.reply(502, "5.5.2 Command not recognized");
      }
      if (!ok) co_return;
    }
  }
};

// ---------------------------------------------------------------------------
// SmtpServer

SmtpServer::SmtpServer() : impl_(std::make_unique<Impl>()) {}
SmtpServer::~SmtpServer() { impl_->stop(); }

int SmtpServer::port() const { return impl_->port; }
std::string SmtpServer::url() const { return "smtp://127.0.0.1:" + std::to_string(impl_->port); }

void SmtpServer::require_auth(std::string user, std::string password) {
  std::lock_guard lock(impl_->mutex);
  impl_->user = std::move(user);
  impl_->password = std::move(password);
}

void SmtpServer::inject(SmtpFault fault, int times) {
  if (times == 0) return;
  std::lock_guard lock(impl_->mutex);
  impl_->faults.push_back({std::move(fault), times});
}

void SmtpServer::set_capture_limit(size_t bytes) {
  std::lock_guard lock(impl_->mutex);
  impl_->capture_limit = bytes;
}

void SmtpServer::clear_faults() {
  std::lock_guard lock(impl_->mutex);
  impl_->faults.clear();
}

std::vector<SmtpMessage> SmtpServer::messages() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted;
}

size_t SmtpServer::message_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->accepted.size();
}

bool SmtpServer::wait_for_messages(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->arrived.wait_for(lock, timeout, [&] { return impl_->accepted.size() >= n; });
}

size_t SmtpServer::connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connection_count;
}

std::vector<std::string> SmtpServer::commands() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->command_log;
}

}  // namespace huntaze::test
