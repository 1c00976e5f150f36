// What an ingestion batch may contain: the envelope
// {"platform": "onlyfans", "items": [...]} and the four item kinds, checked
// item by item. A bad item is reported with its problems and skipped; the
// good items of the batch are stored. An item that repeats an earlier
// item's platform id in the same batch is reported, not stored twice.
//
// Pure functions over parsed JSON (no I/O): unit-tested in
// test/unit/content_pieces_test.cpp.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/error.hpp"

namespace huntaze::content {

enum class IngestKind { fans, messages, subscriptions, transactions };
std::optional<IngestKind> parse_ingest_kind(std::string_view text) noexcept;
std::string_view to_string(IngestKind kind) noexcept;

// Limits of the fields (bytes unless said otherwise).
inline constexpr size_t kMaxPlatformId = 128;
inline constexpr size_t kMaxPlatform = 32;
inline constexpr size_t kMaxHandle = 100;
inline constexpr size_t kMaxDisplayName = 200;
inline constexpr size_t kMaxTier = 32;
inline constexpr size_t kMaxNotes = 4000;
inline constexpr size_t kMaxTags = 20;
inline constexpr size_t kMaxTag = 40;
inline constexpr size_t kMaxMessageBody = 10'000;
inline constexpr int64_t kMaxAmountCents = 1'000'000'000;  // ten million dollars
static_assert(kMaxAmountCents <= INT32_MAX, "content.messages.ppv_price_cents is an integer column");

struct FanItem {
  std::string platform_fan_id;
  std::optional<std::string> handle, display_name, tier, notes;
  std::optional<std::vector<std::string>> tags;  // replaces the fan's tags when present
};

struct MessageItem {
  std::string platform_message_id;
  std::string platform_fan_id;
  bool incoming = true;
  std::string body;
  SysTime sent_at;
  std::optional<int64_t> ppv_price_cents;
};

struct SubscriptionItem {
  std::string platform_subscription_id;
  std::string platform_fan_id;
  int64_t price_cents = 0;
  std::string status;  // active | expired | canceled
  SysTime started_at;
  std::optional<SysTime> renews_at;
};

struct TransactionItem {
  std::string platform_transaction_id;
  std::string platform_fan_id;
  std::string kind;  // tip | ppv | subscription | refund | other
  int64_t amount_cents = 0;
  std::string currency;  // ISO 4217, upper case
  SysTime occurred_at;
};

// One item's outcome, in the batch's order.
struct ItemProblem {
  size_t index = 0;
  std::vector<ErrorDetail> problems;  // fields relative to the item
};

template <class Item>
struct ParsedItems {
  std::vector<Item> items;
  std::vector<size_t> indexes;  // each good item's position in the batch
  std::vector<ItemProblem> rejected;
};

struct Envelope {
  std::string platform;
  const boost::json::array* items = nullptr;  // into the parsed body
};

// Throws ApiError 400 (invalid_json / invalid_request) for a body that is
// not {"platform": "...", "items": [...]}, 413 batch_too_large for more
// than max_items items.
Envelope read_envelope(const boost::json::value& body, size_t max_items);

// Messages dated outside [earliest, latest] are rejected.
struct MessageWindow {
  SysTime earliest;
  SysTime latest;
};

ParsedItems<FanItem> parse_fans(const boost::json::array& items);
ParsedItems<MessageItem> parse_messages(const boost::json::array& items, const MessageWindow& window);
ParsedItems<SubscriptionItem> parse_subscriptions(const boost::json::array& items);
ParsedItems<TransactionItem> parse_transactions(const boost::json::array& items);

// A whole batch from its body: JSON, envelope, and the kind's items (only
// messages use `window`). Throws what read_envelope throws, and 400
// invalid_json for a body that is not JSON. Pure: large bodies run it on the
// compute pool.
struct PreparedBatch {
  std::string platform;
  size_t received = 0;
  std::vector<size_t> indexes;  // each good item's position in the batch
  std::vector<ItemProblem> rejected;
  std::variant<std::vector<FanItem>, std::vector<MessageItem>, std::vector<SubscriptionItem>,
               std::vector<TransactionItem>>
      items;
};
PreparedBatch prepare_batch(IngestKind kind, std::string_view body, const MessageWindow& window, size_t max_items);

}  // namespace huntaze::content
