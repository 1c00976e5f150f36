// The outbound email's text (src/mail/message.hpp), the `mail:` section and
// the mail.send job payload.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "huntaze/core/config.hpp"
#include "huntaze/mail/config.hpp"
#include "huntaze/mail/jobs.hpp"
#include "mail/message.hpp"
#include "mail/smtp_mailer.hpp"
#include "support/config_parse.hpp"
#include "support/smtp_server.hpp"

using namespace huntaze;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

SysTime at(int y, unsigned m, unsigned d, std::chrono::seconds time_of_day) {
  return SysTime(std::chrono::sys_days(std::chrono::year(y) / m / d).time_since_epoch()) + time_of_day;
}

// Physical lines of `text` split at CRLF; fails on a bare CR or LF.
std::vector<std::string> crlf_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      REQUIRE(i + 1 < text.size());
      REQUIRE(text[i + 1] == '\n');
      lines.push_back(text.substr(start, i - start));
      start = i + 2;
      ++i;
    } else {
      REQUIRE(text[i] != '\n');
    }
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

size_t longest_line(const std::string& text) {
  size_t longest = 0;
  for (const auto& line : crlf_lines(text)) longest = std::max(longest, line.size());
  return longest;
}

// The text a reader gets back from a header value we wrote.
std::string unfold_and_decode(const std::string& value) {
  std::string unfolded;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value.compare(i, 2, "\r\n") == 0) {
      ++i;
      continue;
    }
    unfolded += value[i];
  }
  return test::decode_header_words(unfolded);
}

// What the quoted-printable body decodes to, with CRLF as LF.
std::string decoded_body(const std::string& encoded) {
  test::SmtpMessage m;
  m.data = "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded;
  return m.text();
}

bool refused_permanently(const mail::Email& email) {
  try {
    mail::validate_email(email);
  } catch (const mail::MailError& e) {
    return e.permanent();
  }
  return false;
}

mail::MailConfig parse(const std::string& yaml) {
  return test::parse_section(yaml, "mail", mail::parse_mail_config);
}

std::string error_of(const std::string& yaml) {
  return test::config_error([&] { parse(yaml); });
}

}  // namespace

TEST_CASE("mail message: the headers with CRLF line endings and a quoted-printable body", "[mail]") {
  const mail::Email email{"ada@example.com", "Verify your email",
                          "Hello Ada,\n\nopen https://app.huntaze.com/verify?token=abc=def to verify.\n"};
  const auto text =
      mail::build_message(email, {"no-reply@huntaze.com", "Huntaze"}, at(2026, 11, 21, 10h + 5min + 7s), "0193-abc");
  const auto lines = crlf_lines(text);
  REQUIRE(lines.size() >= 10);
  CHECK(lines[0] == "Date: Sat, 21 Nov 2026 10:05:07 +0000");
  CHECK(lines[1] == "From: \"Huntaze\" <no-reply@huntaze.com>");
  CHECK(lines[2] == "To: ada@example.com");
  CHECK(lines[3] == "Subject: Verify your email");
  CHECK(lines[4] == "Message-ID: <0193-abc@huntaze.com>");
  CHECK(lines[5] == "MIME-Version: 1.0");
  CHECK(lines[6] == "Content-Type: text/plain; charset=utf-8");
  CHECK(lines[7] == "Content-Transfer-Encoding: quoted-printable");
  CHECK(lines[8] == "");
  CHECK(text.ends_with("\r\n"));
  CHECK(longest_line(text) <= 78);
  // '=' in the link is encoded, and decodes back to the link.
  CHECK_THAT(text, Contains("token=3Dabc=3Ddef"));
  const auto body = decoded_body(text.substr(text.find("\r\n\r\n") + 4));
  CHECK(body == email.text);
  CHECK(test::find_link(body) == "https://app.huntaze.com/verify?token=abc=def");
}

TEST_CASE("mail message: dates are RFC 5322 in UTC", "[mail]") {
  CHECK(mail::format_rfc5322_date(at(2000, 2, 29, 0s)) == "Tue, 29 Feb 2000 00:00:00 +0000");
  CHECK(mail::format_rfc5322_date(at(1999, 12, 31, 23h + 59min + 59s) + 999ms) == "Fri, 31 Dec 1999 23:59:59 +0000");
}

TEST_CASE("mail message: non-ASCII subjects and names become RFC 2047 encoded-words", "[mail]") {
  const std::string subject = "Vérifiez votre adresse ✉ — 你好，欢迎来到 Huntaze！请验证您的电子邮件地址以继续使用";
  const auto encoded = mail::encode_header_text("Subject", subject);
  CHECK(encoded.starts_with("=?UTF-8?B?"));
  CHECK(unfold_and_decode(encoded) == subject);
  const auto lines = crlf_lines("Subject: " + encoded);
  CHECK(lines.size() > 1);  // folded
  for (const auto& line : lines) {
    CHECK(line.size() <= 76);
    for (size_t w = line.find("=?UTF-8?B?"); w != std::string::npos; w = line.find("=?UTF-8?B?", w + 2)) {
      const size_t end = line.find("?=", w + 10);
      REQUIRE(end != std::string::npos);
      CHECK(end + 2 - w <= 75);
    }
  }

  const auto from = mail::format_mailbox("Équipe Huntaze", "no-reply@huntaze.com");
  CHECK(from.starts_with("=?UTF-8?B?"));
  CHECK(from.ends_with(" <no-reply@huntaze.com>"));
  CHECK(unfold_and_decode(from) == "Équipe Huntaze <no-reply@huntaze.com>");
  // ASCII names are quoted, with quotes and backslashes escaped.
  CHECK(mail::format_mailbox("Ada \"The\" Lovelace\\", "a@b.io") == "\"Ada \\\"The\\\" Lovelace\\\\\" <a@b.io>");
  CHECK(mail::format_mailbox("", "a@b.io") == "a@b.io");
  // Text that looks like an encoded-word is encoded so it reads back as written.
  const auto tricky = mail::encode_header_text("Subject", "=?UTF-8?B?SGk=?=");
  CHECK(tricky != "=?UTF-8?B?SGk=?=");
  CHECK(unfold_and_decode(tricky) == "=?UTF-8?B?SGk=?=");
  // "B" is standard base64: '+' and '/', padded with '=' (not base64url).
  CHECK(mail::encode_header_text("Subject", "é") == "=?UTF-8?B?w6k=?=");
  CHECK(mail::encode_header_text("Subject", "é?") == "=?UTF-8?B?w6k/?=");
  CHECK(mail::encode_header_text("Subject", "ó>?") == "=?UTF-8?B?w7M+Pw==?=");
  CHECK(mail::encode_header_text("Subject", "漢字") == "=?UTF-8?B?5ryi5a2X?=");
}

TEST_CASE("mail message: long ASCII subjects are folded at spaces and unfold to the original", "[mail]") {
  std::string subject;
  for (int i = 0; i < 30; ++i) subject += "word" + std::to_string(i) + (i % 7 == 0 ? "  " : " ");
  subject += "end";
  const auto encoded = mail::encode_header_text("Subject", subject);
  CHECK(encoded.find("=?") == std::string::npos);
  for (const auto& line : crlf_lines("Subject: " + encoded)) CHECK(line.size() <= 78);
  std::string unfolded = encoded;
  for (size_t p; (p = unfolded.find("\r\n")) != std::string::npos;) unfolded.erase(p, 2);
  CHECK(unfolded == subject);
  // A word too long for a line falls back to encoded-words.
  const std::string long_word(120, 'x');
  const auto fallback = mail::encode_header_text("Subject", long_word);
  CHECK(fallback.starts_with("=?UTF-8?B?"));
  CHECK(unfold_and_decode(fallback) == long_word);
}

TEST_CASE("mail message: header injection and implausible addresses are refused", "[mail]") {
  CHECK(refused_permanently({"ada@example.com\r\nBcc: eve@evil.com", "Hi", "x"}));
  CHECK(refused_permanently({"ada@example.com", "Hi\r\nBcc: eve@evil.com", "x"}));
  CHECK(refused_permanently({"ada@example.com", "Hi\nthere", "x"}));
  CHECK(refused_permanently({"ada@example.com", "Hi\rthere", "x"}));
  CHECK(refused_permanently({"ada@example.com", std::string("Hi\0there", 8), "x"}));
  CHECK(refused_permanently({"ada@example.com", "Hi", std::string("a\0b", 3)}));
  CHECK(refused_permanently({"ada@example.com", "\xff\xfe", "x"}));
  CHECK(refused_permanently({"ada@example.com", "Hi", "caf\xc3"}));
  // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8.
  for (const char* bad : {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80"}) {
    CHECK(refused_permanently({"ada@example.com", bad, "x"}));
    CHECK(refused_permanently({"ada@example.com", "Hi", bad}));
  }
  CHECK_FALSE(refused_permanently({"ada@example.com", "\xf4\x8f\xbf\xbf \xed\x9f\xbf", "\xef\xbf\xbd"}));
  CHECK(refused_permanently({"ada@example.com", std::string(999, 'a'), "x"}));
  CHECK_FALSE(refused_permanently({"ada@example.com", "", ""}));

  for (const char* bad : {"", "ada", "@example.com", "ada@", "ada@@example.com", "a@b@example.com",
                          "Ada <ada@example.com>", "<ada@example.com>", "ada @example.com", "ada@exa mple.com",
                          "ada@example.com,eve@evil.com", ".ada@example.com", "ada.@example.com",
                          "a..da@example.com", "ada@-example.com", "ada@example-.com", "ada@example..com",
                          "ada@[127.0.0.1]", "\"ada\"@example.com", "adà@example.com", "ada@exämple.com",
                          "ada@example.com\n"}) {
    INFO(bad);
    CHECK_FALSE(mail::plausible_address(bad));
    CHECK(refused_permanently({bad, "Hi", "x"}));
  }
  for (const char* good : {"ada@example.com", "a.b+tag@mail.example.co.uk", "o'brien@example.ie",
                           "x_y-z=1@sub-domain.example", "user@localhost"}) {
    INFO(good);
    CHECK(mail::plausible_address(good));
  }
  CHECK(mail::plausible_address(std::string(64, 'a') + "@example.com"));
  CHECK_FALSE(mail::plausible_address(std::string(65, 'a') + "@example.com"));
  const std::string label(63, 'd');
  const std::string long_domain = label + "." + label + "." + label + "." + std::string(57, 'd');  // 249 bytes
  CHECK(mail::plausible_address("abc@" + long_domain));   // 253 bytes
  CHECK(mail::plausible_address("abcd@" + long_domain));  // 254 bytes
  CHECK_FALSE(mail::plausible_address("abcde@" + long_domain));

  // The sender is checked too.
  const mail::Email ok{"ada@example.com", "Hi", "x"};
  CHECK_THROWS_AS(mail::build_message(ok, {"no-reply@huntaze.com", "Huntaze\r\nBcc: eve@evil.com"}, SysTime{}, "id"),
                  mail::MailError);
  CHECK_THROWS_AS(mail::build_message(ok, {"Huntaze <no-reply@huntaze.com>", ""}, SysTime{}, "id"),
                  mail::MailError);
}

TEST_CASE("mail message: the body is at most 1 MiB of UTF-8", "[mail]") {
  CHECK_FALSE(refused_permanently({"ada@example.com", "Hi", std::string(1 << 20, 'a')}));
  CHECK(refused_permanently({"ada@example.com", "Hi", std::string((1 << 20) + 1, 'a')}));
}

TEST_CASE("mail message: quoted-printable keeps lines within 76 characters and round-trips", "[mail]") {
  const std::vector<std::string> samples = {
      "",
      "short",
      std::string(1000, 'a'),
      std::string(300, '='),
      std::string(200, 'e') + "\xc3\xa9" + std::string(200, 'e'),
      "trailing space \ntrailing tab\t\nend",
      "   \n\t\n",
      ".leading dot\n..two dots\n.\nmiddle . dot",
      "mixed\r\nline\rendings\n\nhere\r\n",
      "Grüße aus Köln — 你好 ✉ emoji 😀 " + std::string(80, '-'),
      std::string(74, 'x') + " " + std::string(74, 'y') + ".",
      std::string(75, 'x') + "." + std::string(75, 'y'),
      "From the start of a line\nFrom again",
  };
  for (const auto& sample : samples) {
    INFO(sample.substr(0, 60));
    const auto qp = mail::quoted_printable(sample);
    const auto lines = crlf_lines(qp);
    for (const auto& line : lines) {
      CHECK(line.size() <= 76);
      CHECK_FALSE(line.starts_with("."));  // nothing for SMTP dot-stuffing to touch
      if (!line.empty()) CHECK((line.back() != ' ' && line.back() != '\t'));
      for (char c : line) CHECK((c >= 0x20 && c < 0x7f));
    }
    if (!sample.empty()) CHECK(qp.ends_with("\r\n"));
    // Normalised line endings: CRLF, CR and LF all read back as one LF.
    std::string expected;
    for (size_t i = 0; i < sample.size(); ++i) {
      if (sample[i] == '\r') {
        expected += '\n';
        if (i + 1 < sample.size() && sample[i + 1] == '\n') ++i;
      } else {
        expected += sample[i];
      }
    }
    if (!expected.empty() && expected.back() != '\n') expected += '\n';
    CHECK(decoded_body(qp) == expected);
  }
  CHECK(mail::quoted_printable("a=b é \n") == "a=3Db =C3=A9=20\r\n");
}

TEST_CASE("mail message: mail_job validates the email and carries it as JSON", "[mail]") {
  const auto job = mail::mail_job({"ada@example.com", "Vérifiez", "Line 1\n\"quoted\"\n"});
  CHECK(job.kind == "mail.send");
  CHECK(job.queue.empty());  // the kind's queue, "mail"
  const auto payload = boost::json::parse(job.payload).as_object();
  CHECK(payload.at("to").as_string() == "ada@example.com");
  CHECK(payload.at("subject").as_string() == "Vérifiez");
  CHECK(payload.at("text").as_string() == "Line 1\n\"quoted\"\n");
  CHECK(payload.size() == 3);
  try {
    mail::mail_job({"not an address", "Hi", "x"});
    FAIL("mail_job accepted an invalid address");
  } catch (const mail::MailError& e) {
    CHECK(e.permanent());
  }
}

TEST_CASE("mail config: defaults and a full section compared for equality", "[mail]") {
  const auto defaults = parse("{}");
  CHECK_FALSE(defaults.enabled());
  CHECK(defaults.url.empty());
  CHECK(defaults.starttls == mail::StartTls::required);
  CHECK(defaults.connect_timeout == 10s);
  CHECK(defaults.timeout == 30s);
  CHECK(defaults.threads == 1);
  CHECK(defaults == mail::MailConfig{});

  const auto c = parse(R"(
mail:
  url: smtp://smtp.example.com:587
  from: no-reply@huntaze.com
  from_name: Huntaze ✉
  username: mailer
  password: s3cret
  starttls: auto
  connect_timeout: 5s
  timeout: 1m
  threads: 4
)");
  CHECK(c.enabled());
  CHECK(c.url == "smtp://smtp.example.com:587");
  CHECK(c.from == "no-reply@huntaze.com");
  CHECK(c.from_name == "Huntaze ✉");
  CHECK(c.username == "mailer");
  CHECK(c.password.reveal() == "s3cret");
  CHECK(c.starttls == mail::StartTls::auto_);
  CHECK(c.connect_timeout == 5s);
  CHECK(c.timeout == 60s);
  CHECK(c.threads == 4);
  CHECK(c == parse("mail: {url: 'smtp://smtp.example.com:587', from: no-reply@huntaze.com, from_name: Huntaze ✉, "
                   "username: mailer, password: s3cret, starttls: auto, connect_timeout: 5s, timeout: 60s, "
                   "threads: 4}"));
  CHECK_FALSE(c == parse("mail: {url: 'smtp://smtp.example.com:587', from: no-reply@huntaze.com, from_name: "
                         "Huntaze ✉, username: mailer, password: other, starttls: auto, connect_timeout: 5s, "
                         "timeout: 60s, threads: 4}"));
  CHECK(parse("mail: {url: 'smtps://[::1]:465/huntaze.com', from: a@b.io, starttls: off}").starttls ==
        mail::StartTls::off);
  CHECK(parse("mail: {url: 'SMTP://localhost', from: a@b.io}").enabled());
}

TEST_CASE("mail config: the SMTP mailer refuses a hand-built sender the message could never carry", "[mail]") {
  boost::asio::io_context io;
  metrics::Registry registry;
  mail::MailConfig c;
  c.url = "smtp://127.0.0.1:25";
  c.from = "no-reply@huntaze.com";
  c.from_name = "Huntaze";
  CHECK(mail::make_smtp_mailer(io.get_executor(), c, registry));
  c.from_name = "Huntaze\r\nBcc: eve@evil.com";
  CHECK_THROWS_AS(mail::make_smtp_mailer(io.get_executor(), c, registry), std::invalid_argument);
  c.from_name = std::string(257, 'n');
  CHECK_THROWS_AS(mail::make_smtp_mailer(io.get_executor(), c, registry), std::invalid_argument);
  c.from_name = "Huntaze";
  c.from = "Huntaze <no-reply@huntaze.com>";
  CHECK_THROWS_AS(mail::make_smtp_mailer(io.get_executor(), c, registry), std::invalid_argument);
}

TEST_CASE("mail config: bad values are errors naming the key", "[mail]") {
  CHECK_THAT(error_of("mail: {url: 'http://smtp.example.com', from: a@b.io}"), Contains("mail.url"));
  CHECK_THAT(error_of("mail: {url: 'http://smtp.example.com', from: a@b.io}"), Contains("smtp or smtps"));
  CHECK_THAT(error_of("mail: {url: 'smtp://user:pw@smtp.example.com', from: a@b.io}"), Contains("credentials"));
  CHECK_THAT(error_of("mail: {url: 'smtp://', from: a@b.io}"), Contains("no host"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host:99999', from: a@b.io}"), Contains("port"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host:', from: a@b.io}"), Contains("port"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host?x=1', from: a@b.io}"), Contains("query"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host'}"), Contains("mail.from"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: 'Huntaze <a@b.io>'}"), Contains("mail.from"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: \"a@b.io\\r\\nBcc: e@evil.com\"}"), Contains("mail.from"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, from_name: \"x\\ny\"}"), Contains("mail.from_name"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, from_name: \"x\\0y\"}"), Contains("mail.from_name"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, from_name: " + std::string(257, 'n') + "}"),
             Contains("mail.from_name"));
  CHECK(error_of("mail: {url: 'smtp://host', from: a@b.io, from_name: " + std::string(256, 'n') + "}") == "no error");
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, username: \"u\\r\\nMAIL\"}"), Contains("mail.username"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, username: u, password: \"p\\nw\"}"),
             Contains("mail.password"));
  CHECK_THAT(error_of("mail: {url: 'smtp://ho st', from: a@b.io}"), Contains("mail.url"));
  CHECK_THAT(error_of("mail: {url: 'smtp://[::1', from: a@b.io}"), Contains("IPv6"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, password: pw}"), Contains("mail.password"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, starttls: maybe}"), Contains("mail.starttls"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, threads: 9}"), Contains("mail.threads"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, threads: 0}"), Contains("mail.threads"));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, connect_timeout: 20s, timeout: 10s}"),
             Contains("mail.timeout"));
  // Longer than the mail.send job's attempt could ever wait for.
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, timeout: 5m}"), Contains("mail.timeout"));
  CHECK(parse("mail: {url: 'smtp://host', from: a@b.io, timeout: 4m}").timeout == std::chrono::minutes(4));
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, hots: x}"), Contains("mail.hots"));
  // The password never shows in an error.
  CHECK_THAT(error_of("mail: {url: 'smtp://host', from: a@b.io, password: hunter2}"),
             !Contains("hunter2"));
}
