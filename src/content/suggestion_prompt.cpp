#include "content/suggestion_prompt.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "content/money.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::content {

namespace json = boost::json;

namespace {

constexpr Category kCategories[] = {Category::purchase_intent, Category::small_talk, Category::complaint,
                                    Category::custom_request, Category::spam};

// What the writer should keep in mind for each category.
std::string_view guidance(Category c) {
  switch (c) {
    case Category::purchase_intent:
      return "The fan wants to buy: answer warmly and make it easy, naming a price or an offer when one fits.";
    case Category::small_talk:
      return "The fan is chatting or flirting: keep the conversation going and make them feel noticed.";
    case Category::complaint:
      return "The fan is unhappy: acknowledge it sincerely, do not sell, offer to make it right.";
    case Category::custom_request:
      return "The fan asks for custom content: show interest, ask for the details needed, quote from the price "
             "list when it has the item.";
    case Category::spam:
    case Category::unclassified:
      return "";
  }
  return "";
}

// Strips "1. ", "2) ", "- ", "* ", "Reply 1:" and surrounding quotes models
// like to add - but not the digits of a reply that starts with a time or an
// amount ("9:30 works for me", "2.5k of you").
std::string_view strip_markers(std::string_view s) {
  s = trim(s);
  size_t i = 0;
  while (i < s.size() && i < 2 && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i > 0 && i + 1 < s.size() && (s[i] == '.' || s[i] == ')') && (s[i + 1] == ' ' || s[i + 1] == '\t'))
    s = trim(s.substr(i + 1));
  if (s.starts_with("- ") || s.starts_with("* ")) s = trim(s.substr(2));
  for (std::string_view label : {"Reply 1:", "Reply 2:", "Reply 3:", "Reply:"})
    if (s.starts_with(label)) s = trim(s.substr(label.size()));
  if (s.size() >= 2 && ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\'')))
    s = trim(s.substr(1, s.size() - 2));
  return s;
}

}  // namespace

std::string_view to_string(Category category) noexcept {
  switch (category) {
    case Category::purchase_intent: return "purchase_intent";
    case Category::small_talk: return "small_talk";
    case Category::complaint: return "complaint";
    case Category::custom_request: return "custom_request";
    case Category::spam: return "spam";
    case Category::unclassified: return "unclassified";
  }
  return "unclassified";
}

std::optional<Category> parse_category(std::string_view text) noexcept {
  for (auto c : kCategories)
    if (text == to_string(c)) return c;
  if (text == "unclassified") return Category::unclassified;
  return std::nullopt;
}

std::vector<ai_router::Message> classify_messages(std::string_view fan_message) {
  std::string system =
      "You sort messages that fans send to a content creator. Answer with JSON {\"category\": \"<one of: "
      "purchase_intent, small_talk, complaint, custom_request, spam>\"}. purchase_intent: wants to buy or asks "
      "prices; small_talk: chatting or flirting; complaint: unhappy with something; custom_request: asks for "
      "personalised content; spam: advertising, scams or links.";
  return {{"system", std::move(system), {}}, {"user", std::string(fan_message), {}}};
}

Category read_category(std::string_view answer) {
  boost::system::error_code ec;
  json::value v = json::parse(answer, ec);
  if (!ec && v.is_object()) {
    if (const auto* c = v.get_object().if_contains("category"); c && c->is_string())
      if (auto parsed = parse_category(ascii_lower(trim(c->get_string())))) return *parsed;
  }
  // A bare word, or the category somewhere in free text: the first one named wins.
  const std::string text = ascii_lower(answer);
  size_t best = std::string::npos;
  Category found = Category::unclassified;
  for (auto c : kCategories) {
    const size_t at = text.find(to_string(c));
    if (at < best) {
      best = at;
      found = c;
    }
  }
  return found;
}

std::vector<ai_router::Message> generate_messages(const SuggestionContext& ctx) {
  const Persona& p = ctx.persona;
  std::string system = "You write replies that a content creator sends to a fan";
  if (!ctx.fan.platform.empty()) system += " on " + ctx.fan.platform;
  system += ". Write as the creator, in first person, in the creator's own voice.\n";
  if (!p.voice.empty()) system += "Voice: " + p.voice + "\n";
  if (!p.tone.empty()) system += "Tone: " + p.tone + "\n";
  if (!p.dos.empty()) system += "Always: " + join(p.dos, "; ") + "\n";
  if (!p.donts.empty()) system += "Never: " + join(p.donts, "; ") + "\n";
  if (!p.emoji_habits.empty()) system += "Emoji: " + p.emoji_habits + "\n";
  if (!p.languages.empty()) system += "Languages the creator writes in: " + join(p.languages, ", ") + "\n";
  if (!p.price_list.empty()) {
    system += "Price list:\n";
    for (const auto& item : p.price_list) system += "- " + item.item + ": " + dollars(item.price_cents) + "\n";
  }
  if (!ctx.offers.empty()) {
    system += "Offers running now:\n";
    for (const auto& o : ctx.offers) {
      system += "- " + o.title + " (" + o.kind;
      if (o.discount_percent > 0) system += ", " + std::to_string(o.discount_percent) + "% off";
      if (o.price_cents > 0) system += ", " + dollars(o.price_cents);
      system += ")\n";
    }
  }
  const FanProfile& f = ctx.fan;
  system += "About the fan:";
  if (!f.name.empty()) system += " name " + f.name + ";";
  if (!f.tier.empty()) system += " tier " + f.tier + ";";
  system += " has spent " + dollars(f.lifetime_spend_cents) + " in total;";
  if (!f.tags.empty()) system += " tags " + join(f.tags, ", ") + ";";
  if (!f.notes.empty()) system += " notes: " + f.notes;
  system += "\n";
  if (auto g = guidance(ctx.category); !g.empty()) system += std::string(g) + "\n";
  system += "Write exactly " + std::to_string(ctx.count) +
            " different replies to the fan's last message, each under 300 characters. Put a line containing only "
            "--- between them, and nothing else before, between or after.";

  std::vector<ai_router::Message> out;
  out.push_back({"system", std::move(system), {}});
  for (const auto& turn : ctx.history) out.push_back({turn.incoming ? "user" : "assistant", turn.body, {}});
  return out;
}

std::vector<std::string> read_suggestions(std::string_view answer, int count) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    // Model output is input: valid UTF-8 without NUL (PostgreSQL refuses
    // both) and of bounded length, whatever the prompt asked for.
    const std::string text = clean_utf8(strip_markers(current), kMaxReplyBytes);
    if (!text.empty() && static_cast<int>(out.size()) < count &&
        std::find(out.begin(), out.end(), text) == out.end())
      out.push_back(text);
    current.clear();
  };
  while (!answer.empty()) {
    const size_t eol = answer.find('\n');
    const std::string_view line = answer.substr(0, eol);
    answer = eol == std::string_view::npos ? std::string_view() : answer.substr(eol + 1);
    if (trim(line) == "---") {
      flush();
      continue;
    }
    if (!current.empty()) current += '\n';
    current += line;
  }
  flush();
  return out;
}

}  // namespace huntaze::content
