#include "mail/message.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::mail {

namespace {

constexpr size_t kMaxLocalBytes = 64;
constexpr size_t kMaxDomainBytes = 253;
constexpr size_t kMaxLabelBytes = 63;
// RFC 5322 §2.1.1: lines SHOULD NOT exceed 78 characters; RFC 2047 §2 keeps
// lines with encoded-words to 76, and each encoded-word to 75.
constexpr size_t kLineWidth = 78;
constexpr size_t kEncodedLineWidth = 76;
constexpr size_t kEncodedWordMax = 75;
constexpr std::string_view kWordPrefix = "=?UTF-8?B?";
constexpr std::string_view kWordSuffix = "?=";
// Quoted-printable lines, soft-break '=' included (RFC 2045 §6.7 rule 5).
constexpr size_t kQpLineWidth = 76;

[[noreturn]] void refuse(const std::string& message) { throw MailError(true, message); }

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// RFC 5322 atext.
bool is_atext(char c) {
  if (is_alnum(c)) return true;
  constexpr std::string_view specials = "!#$%&'*+-/=?^_`{|}~";
  return specials.find(c) != std::string_view::npos;
}

bool printable_ascii(std::string_view s) {
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// Bytes of the UTF-8 sequence starting with `lead` (1 for anything else, so
// that a cut never loops).
size_t sequence_length(unsigned char lead) {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}

// `text` as encoded-words, each carrying whole UTF-8 characters; the first
// no longer than first_max characters, the others no longer than
// kEncodedWordMax.
std::vector<std::string> encoded_words(std::string_view text, size_t first_max) {
  std::vector<std::string> words;
  const size_t overhead = kWordPrefix.size() + kWordSuffix.size();
  size_t pos = 0;
  while (pos < text.size() || words.empty()) {
    const size_t max_chars = words.empty() ? first_max : kEncodedWordMax;
    // Base64 characters available, in whole quanta of 4, hence input bytes.
    const size_t b64 = max_chars > overhead ? (max_chars - overhead) / 4 * 4 : 0;
    const size_t budget = std::max<size_t>(b64 / 4 * 3, 4);  // a 4-byte character always fits somewhere
    size_t end = pos;
    while (end < text.size()) {
      const size_t n = std::min(sequence_length(static_cast<unsigned char>(text[end])), text.size() - end);
      if (end + n - pos > budget) break;
      end += n;
    }
    std::string word(kWordPrefix);
    word += crypto::base64_encode(text.substr(pos, end - pos));  // RFC 2047's "B" encoding
    word += kWordSuffix;
    words.push_back(std::move(word));
    pos = end;
    if (text.empty()) break;
  }
  return words;
}

// Joins tokens with single spaces, folding (CRLF before the space) so that
// lines stay within `width` where the tokens allow. `used` is the length of
// the line before the first token.
std::string fold(const std::vector<std::string>& tokens, size_t used, size_t width) {
  std::string out;
  size_t column = used;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto& t = tokens[i];
    if (i == 0) {
      out += t;
      column += t.size();
      continue;
    }
    if (column + 1 + t.size() > width) {
      out += "\r\n ";
      column = 1;
    } else {
      out += ' ';
      ++column;
    }
    out += t;
    column += t.size();
  }
  return out;
}

// Plain folding of printable ASCII at its spaces (CRLF inserted before a
// space, so unfolding restores the text exactly); nullopt when a piece would
// not fit a line or the text cannot be folded safely.
std::optional<std::string> fold_plain(std::string_view text, size_t used) {
  if (!printable_ascii(text) || text.find("=?") != std::string_view::npos) return std::nullopt;
  if (used + text.size() <= kLineWidth) return std::string(text);
  if (text.front() == ' ' || text.back() == ' ') return std::nullopt;
  // Pieces start at a run of spaces followed by a non-space (none is blank).
  std::vector<std::string_view> pieces;
  size_t start = 0;
  for (size_t i = 1; i < text.size(); ++i)
    if (text[i] == ' ' && text[i - 1] != ' ') {
      pieces.push_back(text.substr(start, i - start));
      start = i;
    }
  pieces.push_back(text.substr(start));
  std::string out;
  size_t column = used;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto p = pieces[i];
    if (i > 0 && column + p.size() > kLineWidth) {
      out += "\r\n";
      column = 0;
    }
    if (column + p.size() > kLineWidth) return std::nullopt;  // a piece longer than a line
    out += p;
    column += p.size();
  }
  return out;
}

std::string hex2(unsigned char c) {
  constexpr char digits[] = "0123456789ABCDEF";
  return {'=', digits[c >> 4], digits[c & 15]};
}

}  // namespace

bool one_line(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

bool valid_sender_name(std::string_view name) {
  return name.size() <= kMaxNameBytes && one_line(name) && is_clean_utf8(name);
}

bool plausible_address(std::string_view a) {
  if (a.empty() || a.size() > kMaxAddressBytes) return false;
  const size_t at = a.find('@');
  if (at == std::string_view::npos || a.find('@', at + 1) != std::string_view::npos) return false;
  const auto local = a.substr(0, at);
  const auto domain = a.substr(at + 1);
  // Local part: dot-atom.
  if (local.empty() || local.size() > kMaxLocalBytes || local.front() == '.' || local.back() == '.' ||
      local.find("..") != std::string_view::npos)
    return false;
  for (char c : local)
    if (c != '.' && !is_atext(c)) return false;
  // Domain: LDH labels.
  if (domain.empty() || domain.size() > kMaxDomainBytes) return false;
  size_t start = 0;
  for (;;) {
    const size_t dot = domain.find('.', start);
    const auto label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > kMaxLabelBytes || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string_view domain_of(std::string_view address) {
  const size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

void validate_email(const Email& email) {
  if (!plausible_address(email.to)) refuse("mail: 'to' is not a single plausible address local@domain");
  if (!one_line(email.subject)) refuse("mail: the subject must be one line (no CR, LF or NUL)");
  if (email.subject.size() > kMaxSubjectBytes) refuse("mail: the subject is longer than 998 bytes");
  if (!is_clean_utf8(email.subject)) refuse("mail: the subject is not valid UTF-8");
  if (email.text.size() > kMaxBodyBytes) refuse("mail: the body is larger than 1 MiB");
  if (email.text.find('\0') != std::string::npos) refuse("mail: the body contains a NUL byte");
  if (!is_clean_utf8(email.text)) refuse("mail: the body is not valid UTF-8");
}

std::string format_rfc5322_date(SysTime t) {
  using namespace std::chrono;
  static constexpr std::array<const char*, 7> days_of_week = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const weekday wd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%s, %u %s %04d %02d:%02d:%02d +0000", days_of_week[wd.c_encoding()],
                              static_cast<unsigned>(ymd.day()), months[static_cast<unsigned>(ymd.month()) - 1],
                              static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                              static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return std::string(buf, static_cast<size_t>(n));
}

std::string encode_header_text(std::string_view name, std::string_view text) {
  const size_t used = name.size() + 2;  // "Name: "
  if (auto plain = fold_plain(text, used)) return *plain;
  const size_t first_max = kEncodedLineWidth > used ? kEncodedLineWidth - used : 0;
  return fold(encoded_words(text, std::min(first_max, kEncodedWordMax)), used, kEncodedLineWidth);
}

std::string format_mailbox(std::string_view name, std::string_view address) {
  const std::string angle = "<" + std::string(address) + ">";
  if (name.empty()) return std::string(address);
  constexpr size_t used = 6;  // "From: "
  if (printable_ascii(name) && name.find("=?") == std::string_view::npos) {
    std::string quoted = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    quoted += '"';
    if (used + quoted.size() + 1 + angle.size() <= kLineWidth) return quoted + " " + angle;
  }
  const size_t first_max = std::min(kEncodedLineWidth - used, kEncodedWordMax);
  auto tokens = encoded_words(name, first_max);
  tokens.push_back(angle);
  return fold(tokens, used, kEncodedLineWidth);
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 16);
  // Split into lines at CRLF, CR or LF.
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r' && text[i] != '\n') continue;
    lines.push_back(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < text.size()) lines.push_back(text.substr(start));

  std::string token;
  for (const auto line : lines) {
    size_t column = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      const auto c = static_cast<unsigned char>(line[i]);
      const bool last = i + 1 == line.size();
      const bool literal = (c >= 33 && c <= 126 && c != '=' && !(c == '.' && column == 0)) ||
                           ((c == ' ' || c == '\t') && !last);
      token = literal ? std::string(1, static_cast<char>(c)) : hex2(c);
      // Room for a soft break '=' unless this token ends the line.
      const size_t limit = last ? kQpLineWidth : kQpLineWidth - 1;
      if (column + token.size() > limit) {
        out += "=\r\n";
        column = 0;
        if (c == '.') token = hex2(c);  // now at the start of a line
      }
      out += token;
      column += token.size();
    }
    out += "\r\n";
  }
  return out;
}

std::string build_message(const Email& email, const Sender& from, SysTime date, std::string_view message_id_local) {
  validate_email(email);
  if (!plausible_address(from.address)) refuse("mail: the sender is not a plausible address local@domain");
  if (!valid_sender_name(from.name))
    refuse("mail: the sender name must be one line of UTF-8, at most 256 bytes");
  std::string m;
  m.reserve(email.text.size() * 11 / 10 + 1024);
  m += "Date: " + format_rfc5322_date(date) + "\r\n";
  m += "From: " + format_mailbox(from.name, from.address) + "\r\n";
  m += "To: " + email.to + "\r\n";
  m += "Subject: " + encode_header_text("Subject", email.subject) + "\r\n";
  m += "Message-ID: <";
  m += message_id_local;
  m += "@";
  m += domain_of(from.address);
  m += ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n";
  m += "\r\n";
  m += quoted_printable(email.text);
  return m;
}

}  // namespace huntaze::mail
