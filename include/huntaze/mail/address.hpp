// What counts as an email address the mail area can deliver to; other
// modules (auth: sign-up, invitations) accept exactly these.
// Thread-safety: pure function.
#pragma once

#include <string_view>

namespace huntaze::mail {

// A single ASCII address local@domain: a dot-atom local part (at most 64
// bytes) and a host name of letters, digits and hyphens in dot-separated
// labels, 254 bytes at most. No display name, comments, quoted local parts,
// address literals or non-ASCII (SMTPUTF8 is not supported).
bool plausible_address(std::string_view address);

}  // namespace huntaze::mail
