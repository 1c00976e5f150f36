#include "media/analysis.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

#include "huntaze/core/crypto.hpp"
#include "huntaze/core/strings.hpp"
#include "media/keyframe_grid.hpp"

namespace huntaze::media {

namespace json = boost::json;

namespace {

constexpr size_t kMaxTranscriptBytes = 8000;

constexpr const char* kSystemPrompt =
    "You analyze short videos for a content creator. You see one contact sheet: keyframes of the video in time "
    "order, left to right and top to bottom, each labelled with its time. Answer with one JSON object and nothing "
    "else, with exactly these keys:\n"
    "  \"description\": what happens in the video, in two or three sentences;\n"
    "  \"tags\": up to 20 short lower-case topic tags;\n"
    "  \"captions\": 3 caption ideas the creator could post with the video;\n"
    "  \"quality_issues\": the problems you see, from this list only: dark, blurry, shaky, vertical, horizontal, "
    "noisy, overexposed, low_resolution, no_subject, cropped (an empty list when there are none);\n"
    "  \"content_rating\": one of general, suggestive, explicit.";

std::string describe(const VideoInfo& info, const std::vector<double>& cells) {
  char line[256];
  std::snprintf(line, sizeof line, "Duration %.1f s, %dx%d (%s), %.0f fps, video %s, %s.", info.duration_seconds,
                info.display_width, info.display_height,
                info.display_height > info.display_width ? "vertical" : "horizontal", info.frame_rate,
                info.video_codec.c_str(), info.has_audio ? "with audio" : "no audio");
  std::string out = line;
  out += " Keyframes at:";
  for (double s : cells) out += " " + clock_label(s);
  out += ".";
  return out;
}

// The first balanced {...} in the answer (models wrap JSON in prose or fences).
std::optional<std::string_view> object_in(std::string_view text) {
  const size_t open = text.find('{');
  if (open == std::string_view::npos) return std::nullopt;
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = open; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{')
      ++depth;
    else if (c == '}' && --depth == 0)
      return text.substr(open, i - open + 1);
  }
  return std::nullopt;
}

std::string clean_text(const json::value* v, const char* field, size_t max_bytes, bool required) {
  if (!v || v->is_null()) {
    if (required) throw AnalysisInvalid(std::string(field) + " is missing");
    return "";
  }
  if (!v->is_string()) throw AnalysisInvalid(std::string(field) + " must be text");
  std::string s(trim(std::string_view(v->get_string())));
  if (required && s.empty()) throw AnalysisInvalid(std::string(field) + " is empty");
  return clean_utf8(s, max_bytes);
}

std::vector<std::string> text_list(const json::value* v, const char* field, size_t max_items, size_t max_bytes) {
  std::vector<std::string> out;
  if (!v || v->is_null()) return out;
  if (!v->is_array()) throw AnalysisInvalid(std::string(field) + " must be a list");
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) continue;
    std::string s = clean_text(&item, field, max_bytes, false);
    if (s.empty() || std::find(out.begin(), out.end(), s) != out.end()) continue;
    out.push_back(std::move(s));
    if (out.size() == max_items) break;
  }
  return out;
}

}  // namespace

ai_router::AiRequest vision_request(const VisionInput& in) {
  std::string user = describe(in.info, in.cell_seconds);
  if (in.transcript && !in.transcript->empty()) {
    user += "\nTranscript of the audio:\n";
    user += clean_utf8(*in.transcript, kMaxTranscriptBytes);
  } else {
    user += "\nNo speech transcript.";
  }
  ai_router::AiRequest request;
  request.task = "vision";
  ai_router::Message system{"system", kSystemPrompt, {}};
  ai_router::Message question{
      "user", std::move(user), {"data:image/jpeg;base64," + crypto::base64_encode(in.grid_jpeg)}};
  request.messages.push_back(std::move(system));
  request.messages.push_back(std::move(question));
  request.params.json = true;
  request.params.temperature = 0.2;
  request.params.max_tokens = 800;
  return request;
}

std::string validate_analysis(std::string_view answer) {
  auto object_text = object_in(answer);
  if (!object_text) throw AnalysisInvalid("the answer holds no JSON object");
  boost::system::error_code ec;
  json::value parsed = json::parse(*object_text, ec);
  if (ec || !parsed.is_object()) throw AnalysisInvalid("the answer is not valid JSON");
  const json::object& o = parsed.get_object();

  json::object out;
  out["description"] = clean_text(o.if_contains("description"), "description", 2000, true);

  json::array tags;
  for (auto& t : text_list(o.if_contains("tags"), "tags", 40, 40)) {
    const json::value tag(ascii_lower(t));
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
    if (tags.size() == 20) break;
  }
  out["tags"] = std::move(tags);

  auto captions = text_list(o.if_contains("captions"), "captions", 5, 300);
  if (captions.empty()) throw AnalysisInvalid("captions is missing or empty");
  json::array caption_array;
  for (auto& c : captions) caption_array.push_back(json::value(c));
  out["captions"] = std::move(caption_array);

  json::array issues;
  for (auto& word : text_list(o.if_contains("quality_issues"), "quality_issues", 20, 40)) {
    const std::string w = ascii_lower(word);
    if (std::find(kQualityIssues.begin(), kQualityIssues.end(), w) != kQualityIssues.end() &&
        std::find(issues.begin(), issues.end(), json::value(w)) == issues.end())
      issues.push_back(json::value(w));
  }
  out["quality_issues"] = std::move(issues);

  const std::string rating = ascii_lower(clean_text(o.if_contains("content_rating"), "content_rating", 20, true));
  if (rating != "general" && rating != "suggestive" && rating != "explicit")
    throw AnalysisInvalid("content_rating must be general, suggestive or explicit");
  out["content_rating"] = rating;
  return json::serialize(out);
}

}  // namespace huntaze::media
