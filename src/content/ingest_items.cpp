#include "content/ingest_items.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "content/json_fields.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace json = boost::json;

namespace {

bool platform_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxPlatform) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

bool currency_code(std::string_view s) {
  return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Runs `parse` on each item; collects the good ones and the problems of the
// rest, and rejects a platform id already seen in the batch.
template <class Item, class Parse, class KeyOf>
ParsedItems<Item> parse_all(const json::array& items, Parse parse, KeyOf key_of) {
  ParsedItems<Item> out;
  std::map<std::string, size_t, std::less<>> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    std::vector<ErrorDetail> problems;
    std::optional<Item> item;
    if (!items[i].is_object()) {
      problems.push_back({"", "must be an object"});
    } else {
      Fields f(items[i].get_object(), problems);
      item = parse(f);
      if (f.failed()) item.reset();
    }
    if (item) {
      auto [at, fresh] = seen.emplace(key_of(*item), i);
      if (!fresh) {
        problems.push_back({"", "repeats the platform id of item " + std::to_string(at->second)});
        item.reset();
      }
    }
    if (item) {
      out.items.push_back(std::move(*item));
      out.indexes.push_back(i);
    } else {
      out.rejected.push_back({i, std::move(problems)});
    }
  }
  return out;
}

}  // namespace

std::optional<IngestKind> parse_ingest_kind(std::string_view text) noexcept {
  if (text == "fans") return IngestKind::fans;
  if (text == "messages") return IngestKind::messages;
  if (text == "subscriptions") return IngestKind::subscriptions;
  if (text == "transactions") return IngestKind::transactions;
  return std::nullopt;
}

std::string_view to_string(IngestKind kind) noexcept {
  switch (kind) {
    case IngestKind::fans: return "fans";
    case IngestKind::messages: return "messages";
    case IngestKind::subscriptions: return "subscriptions";
    case IngestKind::transactions: return "transactions";
  }
  return "?";
}

Envelope read_envelope(const json::value& body, size_t max_items) {
  if (!body.is_object()) throw ApiError(400, "invalid_json", "the body must be one JSON object");
  const auto& object = body.get_object();
  std::vector<ErrorDetail> problems;
  Envelope e;
  const auto* platform = object.if_contains("platform");
  if (!platform || !platform->is_string() || !platform_name(platform->get_string()))
    problems.push_back({"platform", "must be 1 to 32 characters of a-z, 0-9, '_', '-' or '.' (e.g. onlyfans)"});
  else
    e.platform = std::string(platform->get_string());
  const auto* items = object.if_contains("items");
  if (!items || !items->is_array())
    problems.push_back({"items", "must be an array of items"});
  else
    e.items = &items->get_array();
  if (!problems.empty()) throw ApiError::bad_request("the batch is malformed", std::move(problems));
  if (e.items->size() > max_items)
    throw ApiError(413, "batch_too_large",
                   "a batch holds at most " + std::to_string(max_items) + " items; split it");
  return e;
}

ParsedItems<FanItem> parse_fans(const json::array& items) {
  return parse_all<FanItem>(
      items,
      [](Fields& f) {
        FanItem item;
        item.platform_fan_id = f.token("platform_fan_id", kMaxPlatformId).value_or("");
        item.handle = f.text("handle", kMaxHandle, Need::optional);
        item.display_name = f.text("display_name", kMaxDisplayName, Need::optional);
        item.tier = f.text("tier", kMaxTier, Need::optional);
        item.notes = f.text("notes", kMaxNotes, Need::optional, true);
        item.tags = f.texts("tags", kMaxTags, kMaxTag);
        return std::optional<FanItem>(std::move(item));
      },
      [](const FanItem& item) { return item.platform_fan_id; });
}

ParsedItems<MessageItem> parse_messages(const json::array& items, const MessageWindow& window) {
  return parse_all<MessageItem>(
      items,
      [&window](Fields& f) {
        MessageItem item;
        item.platform_message_id = f.token("platform_message_id", kMaxPlatformId).value_or("");
        item.platform_fan_id = f.token("platform_fan_id", kMaxPlatformId).value_or("");
        item.incoming = f.word("direction", {"in", "out"}).value_or("in") == "in";
        item.body = f.text("body", kMaxMessageBody, Need::optional, true).value_or("");
        if (auto at = f.time("sent_at")) {
          if (*at < window.earliest)
            f.problem("sent_at", "is older than the archive horizon (" + format_iso8601(window.earliest) + ")");
          else if (*at > window.latest)
            f.problem("sent_at", "is too far in the future");
          item.sent_at = *at;
        }
        item.ppv_price_cents = f.integer("ppv_price_cents", 0, kMaxAmountCents, Need::optional);
        return std::optional<MessageItem>(std::move(item));
      },
      [](const MessageItem& item) { return item.platform_message_id; });
}

ParsedItems<SubscriptionItem> parse_subscriptions(const json::array& items) {
  return parse_all<SubscriptionItem>(
      items,
      [](Fields& f) {
        SubscriptionItem item;
        item.platform_subscription_id = f.token("platform_subscription_id", kMaxPlatformId).value_or("");
        item.platform_fan_id = f.token("platform_fan_id", kMaxPlatformId).value_or("");
        item.price_cents = f.integer("price_cents", 0, kMaxAmountCents).value_or(0);
        item.status = f.word("status", {"active", "expired", "canceled"}).value_or("");
        item.started_at = f.time("started_at").value_or(SysTime{});
        item.renews_at = f.time("renews_at", Need::optional);
        return std::optional<SubscriptionItem>(std::move(item));
      },
      [](const SubscriptionItem& item) { return item.platform_subscription_id; });
}

ParsedItems<TransactionItem> parse_transactions(const json::array& items) {
  return parse_all<TransactionItem>(
      items,
      [](Fields& f) {
        TransactionItem item;
        item.platform_transaction_id = f.token("platform_transaction_id", kMaxPlatformId).value_or("");
        item.platform_fan_id = f.token("platform_fan_id", kMaxPlatformId).value_or("");
        item.kind = f.word("kind", {"tip", "ppv", "subscription", "refund", "other"}).value_or("");
        item.amount_cents = f.integer("amount_cents", 0, kMaxAmountCents).value_or(0);
        item.currency = f.token("currency", 3, Need::optional).value_or("USD");
        if (!currency_code(item.currency)) f.problem("currency", "must be a three-letter ISO 4217 code such as USD");
        item.occurred_at = f.time("occurred_at").value_or(SysTime{});
        return std::optional<TransactionItem>(std::move(item));
      },
      [](const TransactionItem& item) { return item.platform_transaction_id; });
}

PreparedBatch prepare_batch(IngestKind kind, std::string_view body, const MessageWindow& window, size_t max_items) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  if (ec) throw ApiError(400, "invalid_json", "the body is not valid JSON: " + ec.message());
  const Envelope envelope = read_envelope(parsed, max_items);
  PreparedBatch batch;
  batch.platform = envelope.platform;
  batch.received = envelope.items->size();
  auto take = [&batch](auto parsed_items) {
    batch.indexes = std::move(parsed_items.indexes);
    batch.rejected = std::move(parsed_items.rejected);
    batch.items = std::move(parsed_items.items);
  };
  switch (kind) {
    case IngestKind::fans: take(parse_fans(*envelope.items)); break;
    case IngestKind::messages: take(parse_messages(*envelope.items, window)); break;
    case IngestKind::subscriptions: take(parse_subscriptions(*envelope.items)); break;
    case IngestKind::transactions: take(parse_transactions(*envelope.items)); break;
  }
  return batch;
}

}  // namespace huntaze::content
