// The little XML S3 speaks, read and written by hand: the error body
// (<Error><Code>…</Code><Message>…</Message></Error>), the upload id of
// CreateMultipartUpload and the part list of CompleteMultipartUpload. These
// documents are flat and small, so a full XML parser would buy nothing.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace huntaze::storage {

// The text of the first <tag>…</tag> element (any namespace attributes on
// the tag allowed), with the five predefined entities and numeric character
// references unescaped; nullopt when there is none.
std::optional<std::string> xml_element_text(std::string_view xml, std::string_view tag);

// & < > " ' as entities.
std::string xml_escape(std::string_view text);

struct S3ErrorBody {
  std::string code;     // "NoSuchKey", "SlowDown", … ("" when the body had none)
  std::string message;  // S3's human text, cut to a few hundred bytes
};

// The <Error> document in `body`, or nullopt when there is none.
std::optional<S3ErrorBody> parse_s3_error(std::string_view body);

// The CompleteMultipartUpload request body for (part number, ETag) pairs.
std::string complete_multipart_xml(const std::vector<std::pair<int, std::string>>& parts);

}  // namespace huntaze::storage
