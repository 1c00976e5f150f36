#include "storage/s3_xml.hpp"

#include "huntaze/core/strings.hpp"

#include <charconv>
#include <cstdint>

namespace huntaze::storage {
namespace {

constexpr size_t kMaxMessageBytes = 300;

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// One entity at the start of `s` (which begins with '&'): appends what it
// stands for and returns its length, or 0 when it is not one we know.
size_t unescape_one(std::string_view s, std::string& out) {
  const size_t semi = s.find(';');
  if (semi == std::string_view::npos || semi > 12) return 0;
  const std::string_view name = s.substr(1, semi - 1);
  if (name == "amp")
    out += '&';
  else if (name == "lt")
    out += '<';
  else if (name == "gt")
    out += '>';
  else if (name == "quot")
    out += '"';
  else if (name == "apos")
    out += '\'';
  else if (name.size() > 1 && name.front() == '#') {
    const bool hex = name[1] == 'x' || name[1] == 'X';
    const std::string_view digits = name.substr(hex ? 2 : 1);
    uint32_t cp = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || cp == 0 || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    append_utf8(out, cp);
  } else {
    return 0;
  }
  return semi + 1;
}

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '&') {
      const size_t n = unescape_one(text.substr(i), out);
      if (n > 0) {
        i += n;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

// Where the content of the first <tag> or <tag attr…> starts, and the
// position of its '<' (npos when absent).
std::pair<size_t, size_t> open_tag(std::string_view xml, std::string_view tag) {
  size_t from = 0;
  for (;;) {
    const size_t lt = xml.find('<', from);
    if (lt == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
    const std::string_view rest = xml.substr(lt + 1);
    if (rest.starts_with(tag) && rest.size() > tag.size()) {
      const char next = rest[tag.size()];
      if (next == '>') return {lt, lt + 1 + tag.size() + 1};
      if (next == ' ' || next == '\t' || next == '\r' || next == '\n') {
        const size_t gt = xml.find('>', lt);
        if (gt == std::string_view::npos) return {std::string_view::npos, std::string_view::npos};
        if (xml[gt - 1] != '/') return {lt, gt + 1};
      }
    }
    from = lt + 1;
  }
}

std::string printable(std::string text) {
  const bool cut = text.size() > kMaxMessageBytes;
  text = clean_utf8(text, kMaxMessageBytes);
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (cut) text += "...";
  return text;
}

}  // namespace

std::optional<std::string> xml_element_text(std::string_view xml, std::string_view tag) {
  const auto [lt, content] = open_tag(xml, tag);
  if (lt == std::string_view::npos) return std::nullopt;
  const std::string close = "</" + std::string(tag) + ">";
  const size_t end = xml.find(close, content);
  if (end == std::string_view::npos) return std::nullopt;
  return unescape(xml.substr(content, end - content));
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::optional<S3ErrorBody> parse_s3_error(std::string_view body) {
  auto inner = xml_element_text(body, "Error");
  if (!inner) return std::nullopt;
  // Code and Message are searched in the escaped document, not in the
  // unescaped text of <Error>, so escaped markup in a message stays text.
  const auto [lt, content] = open_tag(body, "Error");
  const std::string_view error = body.substr(content);
  S3ErrorBody out;
  out.code = printable(xml_element_text(error, "Code").value_or(""));
  out.message = printable(xml_element_text(error, "Message").value_or(""));
  return out;
}

std::string complete_multipart_xml(const std::vector<std::pair<int, std::string>>& parts) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& [number, etag] : parts) {
    out.append("<Part><PartNumber>").append(std::to_string(number)).append("</PartNumber><ETag>");
    out.append(xml_escape(etag)).append("</ETag></Part>");
  }
  out.append("</CompleteMultipartUpload>");
  return out;
}

}  // namespace huntaze::storage
