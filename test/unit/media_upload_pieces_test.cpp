// The pure pieces behind uploads and downloads: sniffing a container from
// its first bytes, the Range header, and validating the vision model's answer.
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "huntaze/http/byte_range.hpp"
#include "media/analysis.hpp"
#include "media/media_config.hpp"
#include "media/sniff.hpp"
#include "support/config_parse.hpp"

using namespace huntaze;

namespace {

std::string box(std::string_view type, std::string_view payload) {
  const uint32_t size = static_cast<uint32_t>(8 + payload.size());
  std::string out;
  for (int shift : {24, 16, 8, 0}) out += static_cast<char>((size >> shift) & 0xff);
  out += type;
  out += payload;
  return out;
}

}  // namespace

TEST_CASE("sniff tells MP4, MOV, WebM and Matroska from their first bytes", "[media]") {
  auto mp4 = media::sniff(box("ftyp", std::string("isom\0\0\2\0isomiso2", 16)));
  REQUIRE(mp4);
  CHECK(mp4->container == "mp4");
  CHECK(mp4->content_type == "video/mp4");
  auto mov = media::sniff(box("ftyp", std::string("qt  \0\0\2\0qt  ", 12)));
  REQUIRE(mov);
  CHECK(mov->container == "mov");
  auto old_mov = media::sniff(box("moov", std::string(32, '\0')));
  REQUIRE(old_mov);
  CHECK(old_mov->extension == "mov");

  const std::string ebml("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04", 20);
  auto webm = media::sniff(ebml);
  REQUIRE(webm);
  CHECK(webm->container == "webm");
  std::string mkv = ebml;
  mkv.replace(mkv.find("webm"), 4, "matr");
  auto matroska = media::sniff(mkv);
  REQUIRE(matroska);
  CHECK(matroska->extension == "mkv");

  CHECK_FALSE(media::sniff(""));
  CHECK_FALSE(media::sniff("hello, this is a text file named .mp4"));
  CHECK_FALSE(media::sniff(std::string("RIFF\x10\0\0\0AVI LIST", 16)));
  CHECK_FALSE(media::sniff(box("ftyp", "")));                      // a box too small to name a brand
  CHECK_FALSE(media::sniff(std::string("\0\0\0\4ftypisom", 12)));  // a size smaller than its header
  CHECK_FALSE(media::sniff(std::string("\xFF\xD8\xFF\xE0", 4)));   // a JPEG
}

TEST_CASE("the Range header: one range, suffixes, open ends, and what is ignored or unsatisfiable", "[http]") {
  using http::RangeAnswer;
  auto r = http::parse_range(std::nullopt, 1000);
  CHECK(r.answer == RangeAnswer::whole);
  r = http::parse_range("bytes=0-99", 1000);
  REQUIRE(r.answer == RangeAnswer::partial);
  CHECK(r.range.first == 0);
  CHECK(r.range.last == 99);
  CHECK(r.range.length() == 100);
  r = http::parse_range("bytes=990-2000", 1000);
  CHECK(r.range.last == 999);
  r = http::parse_range("bytes=500-", 1000);
  CHECK(r.range.first == 500);
  CHECK(r.range.last == 999);
  r = http::parse_range("bytes=-10", 1000);
  CHECK(r.range.first == 990);
  CHECK(r.range.last == 999);
  r = http::parse_range("bytes=-5000", 1000);
  CHECK(r.range.first == 0);
  CHECK(http::parse_range(" BYTES=1-2 ", 1000).answer == RangeAnswer::partial);

  CHECK(http::parse_range("bytes=1000-", 1000).answer == RangeAnswer::unsatisfiable);
  CHECK(http::parse_range("bytes=-0", 1000).answer == RangeAnswer::unsatisfiable);
  CHECK(http::parse_range("bytes=0-", 0).answer == RangeAnswer::unsatisfiable);

  for (const char* ignored : {"items=0-1", "bytes=5-1", "bytes=a-b", "bytes=0-1,5-6", "bytes=", "bytes=-",
                              "bytes=99999999999999999999-", "bytes=+1-2"})
    CHECK(http::parse_range(std::string_view(ignored), 1000).answer == RangeAnswer::whole);
}

TEST_CASE("the vision answer is validated against its schema", "[media]") {
  const std::string good =
      R"(Here you go: ```json {"description":"  A cat {sleeps}. ","tags":["Cat","cat","sofa",7],)"
      R"("captions":["Nap time"],"quality_issues":["Dark","blurry","weird"],"content_rating":"General",)"
      R"("other":1} ``` hope it helps)";
  const std::string out = media::validate_analysis(good);
  CHECK(out == R"({"description":"A cat {sleeps}.","tags":["cat","sofa"],"captions":["Nap time"],)"
               R"("quality_issues":["dark","blurry"],"content_rating":"general"})");

  CHECK_THROWS_AS(media::validate_analysis("no json here"), media::AnalysisInvalid);
  CHECK_THROWS_AS(media::validate_analysis("{not json}"), media::AnalysisInvalid);
  CHECK_THROWS_AS(media::validate_analysis(R"({"captions":["x"],"content_rating":"general"})"),
                  media::AnalysisInvalid);  // no description
  CHECK_THROWS_AS(media::validate_analysis(R"({"description":"d","captions":[],"content_rating":"general"})"),
                  media::AnalysisInvalid);
  CHECK_THROWS_AS(media::validate_analysis(R"({"description":"d","captions":["c"],"content_rating":"nsfw"})"),
                  media::AnalysisInvalid);
  CHECK_THROWS_AS(media::validate_analysis(R"({"description":5,"captions":["c"],"content_rating":"general"})"),
                  media::AnalysisInvalid);
  // Long fields are cut, not refused; at most 20 tags and 5 captions.
  std::string tags, captions;
  for (int i = 0; i < 30; ++i) tags += std::string(i ? "," : "") + "\"t" + std::to_string(i) + "\"";
  for (int i = 0; i < 9; ++i) captions += std::string(i ? "," : "") + "\"c" + std::to_string(i) + "\"";
  const std::string many = R"({"description":")" + std::string(5000, 'x') + R"(","tags":[)" + tags +
                           R"(],"captions":[)" + captions + R"(],"content_rating":"explicit"})";
  boost::json::value v = boost::json::parse(media::validate_analysis(many));
  CHECK(v.at("description").as_string().size() == 2000);
  CHECK(v.at("tags").as_array().size() == 20);
  CHECK(v.at("captions").as_array().size() == 5);
  CHECK(v.at("quality_issues").as_array().empty());
}

namespace {

media::MediaConfig parse_media(const std::string& yaml) {
  return test::parse_section(yaml, "media", media::parse_media_config);
}
std::string media_error(const std::string& yaml) {
  return test::config_error([&] { parse_media(yaml); });
}

}  // namespace

TEST_CASE("the media section: defaults, the S3 backend checked at start, and limits", "[media][config]") {
  const auto defaults = parse_media("");
  CHECK(defaults.storage.backend == "local");
  CHECK(defaults.storage.spool_dir == defaults.storage.local_root / ".spool");
  CHECK(defaults.max_upload == 2ull << 30);
  CHECK_FALSE(defaults.rendition.enabled);

  const auto s3 = parse_media(
      "media: {storage: {backend: s3, s3: {endpoint: 'http://127.0.0.1:9000', bucket: clips, access_key: AK, "
      "secret_key: sk-secret-value, part_size: 8MiB, multipart_threshold: 8MiB}}}");
  CHECK(s3.storage.backend == "s3");
  CHECK(s3.storage.s3.part_size == 8u << 20);
  CHECK(s3.storage.s3.temp_dir == s3.storage.spool_dir.string());

  using Catch::Matchers::Contains;
  CHECK_THAT(media_error("media: {storage: {backend: s3}}"), Contains("media.storage.s3"));
  CHECK_THAT(media_error("media: {storage: {backend: ftp}}"), Contains("media.storage.backend"));
  const std::string bad_threshold = media_error(
      "media: {storage: {backend: s3, s3: {endpoint: 'http://127.0.0.1:9000', bucket: clips, access_key: AK, "
      "secret_key: sk-secret-value, part_size: 8MiB, multipart_threshold: 9MiB}}}");
  CHECK_THAT(bad_threshold, Contains("multipart_threshold"));
  CHECK(bad_threshold.find("sk-secret-value") == std::string::npos);
  CHECK_THAT(media_error("media: {link_key: short}"), Contains("media.link_key"));
  CHECK_THAT(media_error("media: {max_upload: 1KiB}"), Contains("media.max_upload"));
  CHECK_THAT(media_error("media: {grid: {frames: 0}}"), Contains("media.grid.frames"));
  CHECK_THAT(media_error("media: {surprise: 1}"), Contains("surprise"));
}
