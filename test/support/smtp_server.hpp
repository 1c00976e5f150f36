// A small ESMTP server on loopback, with fault injection: the test double the
// mailer's integration tests send through with the real libcurl client.
//
//   test::SmtpServer smtp;                        // 127.0.0.1, free port, one thread
//   smtp.require_auth("mailer", "s3cret");        // AUTH PLAIN/LOGIN before MAIL
//   smtp.inject({.stage = test::SmtpStage::rcpt, .code = 451});   // the next RCPT only
//   ... send to smtp.url() ...
//   REQUIRE(smtp.wait_for_messages(1, 10s));
//   auto link = test::find_link(smtp.messages()[0].text());
//
// It speaks RFC 5321 as a mail submission server would: a 220 greeting,
// EHLO (advertising SIZE, 8BITMIME and, once credentials are required,
// AUTH PLAIN LOGIN) and HELO, AUTH PLAIN (with or without an
// initial response) and AUTH LOGIN, MAIL FROM (with SIZE=), RCPT TO, DATA
// (dot-unstuffed, ended by CRLF.CRLF), RSET, NOOP, VRFY, QUIT; bad sequences
// get 503, unknown commands 502. No STARTTLS.
//
// Thread-safety: every member may be called from any thread while the
// server's own thread serves connections. Catch2 assertions never run on it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace huntaze::test {

enum class SmtpStage {
  greeting,     // on connect, before the 220
  ehlo,         // EHLO or HELO
  mail,         // MAIL FROM
  rcpt,         // RCPT TO
  data,         // the DATA command (before 354)
  end_of_data,  // after the final "." (instead of 250)
};

struct SmtpFault {
  SmtpStage stage = SmtpStage::rcpt;
  enum class Action {
    reply,  // answer `code` (and `text`) instead of the success reply
    close,  // close the connection without answering
    stall,  // never answer; keeps reading until the client or the server closes
  };
  Action action = Action::reply;
  int code = 451;
  std::string text;  // default: a text fitting the code
};

struct SmtpMessage {
  std::string mail_from;                // the reverse-path, without <>
  std::vector<std::string> recipients;  // forward-paths, without <>
  std::string auth_user;                // who authenticated ("" without AUTH)
  std::string mail_params;              // what followed MAIL FROM:<...> ("SIZE=1234")
  std::string data;                     // the message as received, dot-unstuffed, CRLF kept

  // The value of the first header field `name` (case-insensitive), unfolded;
  // "" when absent.
  std::string header(std::string_view name) const;
  // The raw body (after the first blank line).
  std::string body() const;
  // The body decoded per Content-Transfer-Encoding (quoted-printable,
  // base64, or as is), CRLF turned into LF.
  std::string text() const;
};

// RFC 2045 quoted-printable, soft line breaks removed (CRLF kept otherwise).
std::string decode_quoted_printable(std::string_view encoded);
// Decodes a header value with RFC 2047 encoded-words (B and Q, UTF-8 only);
// whitespace between adjacent encoded-words is dropped.
std::string decode_header_words(std::string_view value);
// Standard base64, ignoring whitespace; "" when malformed.
std::string decode_base64(std::string_view encoded);
// The first http:// or https:// URL in `text`, up to whitespace or '>' ("" when none).
std::string find_link(std::string_view text);

class SmtpServer {
 public:
  SmtpServer();   // 127.0.0.1, a free port, its own thread
  ~SmtpServer();  // closes the listener and every connection, joins the thread
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  int port() const;
  std::string url() const;  // "smtp://127.0.0.1:<port>"

  // From now on MAIL needs AUTH with these credentials (530 before, 535 for
  // wrong ones) and EHLO advertises AUTH PLAIN LOGIN.
  void require_auth(std::string user, std::string password);
  // The next `times` times the stage is reached (any connection), play the
  // fault; times < 0: every time until clear_faults().
  void inject(SmtpFault fault, int times = 1);
  void clear_faults();

  // What the server keeps for the accessors below (the data of accepted
  // messages plus the logged command lines) is bounded: beyond `bytes`
  // (default 64 MiB) a message is refused after its data with 452 4.3.1
  // (transient) and a command line other than QUIT ends the connection with
  // 421, so a test that floods the server fails instead of eating memory.
  void set_capture_limit(size_t bytes);

  std::vector<SmtpMessage> messages() const;  // accepted messages, in order
  size_t message_count() const;
  // Waits until at least n messages were accepted or `timeout` passed.
  bool wait_for_messages(size_t n, std::chrono::milliseconds timeout) const;
  size_t connections() const;  // accepted so far
  // Every command line received, in order ("EHLO x", "MAIL FROM:<a> SIZE=9"),
  // with AUTH arguments replaced by "***".
  std::vector<std::string> commands() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace huntaze::test
