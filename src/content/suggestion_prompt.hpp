// The prompts of reply suggestions and the reading of their answers. Pure
// functions, unit-tested without a model.
//
// Two calls per suggestion request:
//   classify  the fan's latest message -> one Category (JSON answer)
//   generate  persona + fan profile + conversation + category -> `count`
//             replies as plain text separated by lines holding only "---"
//             (plain text streams readably over SSE; JSON would not).
//
// Nothing time-dependent goes into a prompt, so the same conversation asks
// the same question and the router's cache answers a repeat.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/ai_router/router.hpp"

namespace huntaze::content {

enum class Category { purchase_intent, small_talk, complaint, custom_request, spam, unclassified };
std::string_view to_string(Category category) noexcept;
std::optional<Category> parse_category(std::string_view text) noexcept;

struct PriceItem {
  std::string item;
  int64_t price_cents = 0;
};

struct Persona {
  std::string voice, tone, emoji_habits;
  std::vector<std::string> dos, donts, languages;
  std::vector<PriceItem> price_list;
};

struct FanProfile {
  std::string platform;
  std::string name;  // display name, else handle, else ""
  std::string tier;
  int64_t lifetime_spend_cents = 0;
  std::vector<std::string> tags;
  std::string notes;
};

struct Turn {
  bool incoming = true;  // from the fan
  std::string body;
};

// What an active offer looks like to the prompt.
struct OfferLine {
  std::string title;
  std::string kind;  // discount | bundle | ppv
  int64_t price_cents = 0;
  int discount_percent = 0;
};

struct SuggestionContext {
  Persona persona;
  FanProfile fan;
  std::vector<Turn> history;  // oldest first; ends with the message to answer
  std::vector<OfferLine> offers;
  Category category = Category::unclassified;
  int count = 2;
};

std::vector<ai_router::Message> classify_messages(std::string_view fan_message);
// What the classifier answered: {"category": "..."} or a bare word; an
// answer naming no category is unclassified.
Category read_category(std::string_view answer);

std::vector<ai_router::Message> generate_messages(const SuggestionContext& context);
inline constexpr size_t kMaxReplyBytes = 2000;

// The replies in a generation answer: split on "---" lines, trimmed, list
// markers and surrounding quotes removed, made valid UTF-8 without NUL and
// cut to kMaxReplyBytes, empty ones and repeats dropped, at most `count`.
std::vector<std::string> read_suggestions(std::string_view answer, int count);

}  // namespace huntaze::content
