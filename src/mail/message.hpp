// The RFC 5322 text of an outbound email, and the checks that keep a caller's
// strings from turning into extra headers or recipients.
//
// The message is 7-bit clean: headers are ASCII (non-ASCII display names and
// subjects become RFC 2047 encoded-words), the body is UTF-8 in
// quoted-printable, every line ends in CRLF and no line exceeds 78
// characters. SMTP dot-stuffing is left to libcurl, which turns every
// "CRLF." of an upload into "CRLF.." and adds the final "CRLF.CRLF" (its
// smtp.c, Curl_smtp_escape_eob); a body line starting with '.' is encoded
// as "=2E" anyway, so the message survives relays that get it wrong.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "huntaze/core/clock.hpp"
#include "huntaze/mail/address.hpp"  // plausible_address
#include "huntaze/mail/mailer.hpp"

namespace huntaze::mail {

inline constexpr size_t kMaxAddressBytes = 254;
inline constexpr size_t kMaxSubjectBytes = 998;
inline constexpr size_t kMaxBodyBytes = 1 << 20;  // 1 MiB of text, before encoding
inline constexpr size_t kMaxNameBytes = 256;

// No CR, LF or NUL: the string cannot end a header or an SMTP command line
// early (or be cut short as a C string).
bool one_line(std::string_view text);

// What the From: display name (mail.from_name) may be: one line of valid
// UTF-8, at most kMaxNameBytes.
bool valid_sender_name(std::string_view name);

// Throws MailError (permanent) naming the field when the email cannot be
// sent: an implausible `to`, a subject that is not one line (CR, LF or NUL),
// not UTF-8 or over 998 bytes, or a body with NUL, invalid UTF-8 or over
// 1 MiB. An empty subject or body is allowed.
void validate_email(const Email& email);

// The domain of a plausible address ("example.com" for "a@example.com").
std::string_view domain_of(std::string_view address);

// "Sat, 21 Nov 2026 10:00:00 +0000" (RFC 5322 §3.3, always UTC).
std::string format_rfc5322_date(SysTime t);

// `text` as one header field body: verbatim when it is printable ASCII, has
// no "=?" and fits a line after `name: `; otherwise RFC 2047 encoded-words
// (=?UTF-8?B?...?=, each at most 75 characters, split on UTF-8 character
// boundaries) folded over lines with CRLF SP. `name` only sets the width of
// the first line.
std::string encode_header_text(std::string_view name, std::string_view text);

// The From: value: "\"Name\" <addr>" with the name quoted (backslash and
// quote escaped) when ASCII, encoded-words when not; just "addr" without a
// name.
std::string format_mailbox(std::string_view name, std::string_view address);

// `text` with line endings normalised to CRLF, as quoted-printable (RFC 2045
// §6.7): lines of at most 76 characters with soft breaks, '=' and bytes
// outside printable ASCII as =XX, a space or tab before a line end as =20 /
// =09, a '.' at the start of a line as =2E. Ends with CRLF unless empty.
std::string quoted_printable(std::string_view text);

struct Sender {
  std::string address;
  std::string name;  // may be empty
};

// The whole message: Date, From, To, Subject, Message-ID (<message_id_local@
// from-domain>), MIME-Version, Content-Type text/plain; charset=utf-8,
// Content-Transfer-Encoding quoted-printable, a blank line, the body.
// Validates `email` (validate_email) and `from` (MailError, permanent).
std::string build_message(const Email& email, const Sender& from, SysTime date, std::string_view message_id_local);

}  // namespace huntaze::mail
