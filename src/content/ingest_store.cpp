#include "content/ingest_store.hpp"

#include "content/api.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int kDeadlockAttempts = 3;

// $1 workspace, $2 platform, $3 items (jsonb), $4 now. Every statement ends
// with SELECT ord, id, status ORDER BY ord.
//
// Lookups by platform id are LATERAL ... LIMIT 1 on purpose: a plain join
// lets the planner, which cannot see how many items the jsonb holds, hash
// every row of the workspace instead of probing the unique index once per
// item - 420 ms instead of a few per batch once a workspace has 270k
// message keys.
constexpr const char* kEnsureFans = R"(
INSERT INTO content.fans (id, creator_id, platform, platform_fan_id, created_at, updated_at)
SELECT x.id, $1, $2, x.pid, $4, $4 FROM jsonb_to_recordset($3::jsonb) AS x(id uuid, pid text)
ON CONFLICT (creator_id, platform, platform_fan_id) DO NOTHING)";

constexpr const char* kUpsertFans = R"(
WITH input AS (
  SELECT * FROM jsonb_to_recordset($3::jsonb)
    AS x(ord int, id uuid, pid text, handle text, display_name text, tier text, notes text, tags text[])
), ins AS (
  INSERT INTO content.fans (id, creator_id, platform, platform_fan_id, handle, display_name, tier, notes, tags,
                            created_at, updated_at)
  SELECT id, $1, $2, pid, handle, display_name, tier, notes, coalesce(tags, '{}'), $4, $4 FROM input
  ON CONFLICT (creator_id, platform, platform_fan_id) DO NOTHING
  RETURNING id, platform_fan_id
), known AS (
  SELECT i.ord, f.id FROM input i
    CROSS JOIN LATERAL (SELECT id FROM content.fans
                         WHERE creator_id = $1 AND platform = $2 AND platform_fan_id = i.pid LIMIT 1) f
), upd AS (
  UPDATE content.fans f
     SET handle = coalesce(i.handle, f.handle), display_name = coalesce(i.display_name, f.display_name),
         tier = coalesce(i.tier, f.tier), notes = coalesce(i.notes, f.notes), tags = coalesce(i.tags, f.tags),
         updated_at = $4
    FROM known k JOIN input i ON i.ord = k.ord
   WHERE f.id = k.id
     AND (f.handle, f.display_name, f.tier, f.notes, f.tags) IS DISTINCT FROM
         (coalesce(i.handle, f.handle), coalesce(i.display_name, f.display_name), coalesce(i.tier, f.tier),
          coalesce(i.notes, f.notes), coalesce(i.tags, f.tags))
  RETURNING f.id, i.ord
)
SELECT i.ord, coalesce(ins.id, upd.id, k.id),
       CASE WHEN ins.id IS NOT NULL THEN 'created' WHEN upd.id IS NOT NULL THEN 'updated' ELSE 'unchanged' END
  FROM input i
  LEFT JOIN ins ON ins.platform_fan_id = i.pid
  LEFT JOIN upd ON upd.ord = i.ord
  LEFT JOIN known k ON k.ord = i.ord
 ORDER BY i.ord)";

// The key insert decides which messages are new; only those reach the
// partitioned table, and their fans' last-message times move forward.
constexpr const char* kInsertMessages = R"(
WITH input AS (
  SELECT * FROM jsonb_to_recordset($3::jsonb)
    AS x(ord int, id uuid, pid text, fan text, incoming boolean, body text, sent_at timestamptz, ppv bigint)
), resolved AS (
  SELECT i.*, f.id AS fan_id FROM input i
    CROSS JOIN LATERAL (SELECT id FROM content.fans
                         WHERE creator_id = $1 AND platform = $2 AND platform_fan_id = i.fan LIMIT 1) f
), keys AS (
  INSERT INTO content.message_keys (creator_id, platform, platform_message_id, message_id, sent_at)
  SELECT $1, $2, pid, id, sent_at FROM resolved
  ON CONFLICT DO NOTHING
  RETURNING message_id
), ins AS (
  INSERT INTO content.messages (fan_id, sent_at, id, creator_id, incoming, body, platform_message_id, ppv_price_cents)
  SELECT r.fan_id, r.sent_at, r.id, $1, r.incoming, r.body, r.pid, r.ppv
    FROM resolved r JOIN keys k ON k.message_id = r.id
  RETURNING fan_id, sent_at, incoming
), locked AS (
  -- The batch's fans locked in id order before any is written: concurrent
  -- batches over the same fans then queue instead of deadlocking (and
  -- waiting out deadlock_timeout, a second, before one of them is undone).
  SELECT id FROM content.fans WHERE id IN (SELECT fan_id FROM ins) ORDER BY id FOR NO KEY UPDATE
), touched AS (
  UPDATE content.fans f
     SET last_message_at = greatest(f.last_message_at, a.last_at),
         last_incoming_at = greatest(f.last_incoming_at, a.last_in)
    FROM (SELECT fan_id, max(sent_at) AS last_at, max(sent_at) FILTER (WHERE incoming) AS last_in
            FROM ins GROUP BY fan_id) a
    JOIN locked l ON l.id = a.fan_id
   WHERE f.id = a.fan_id
     -- Only when a time moves forward: a backfill of older history writes no
     -- fan row (each write rewrites all of the row's index entries).
     AND (f.last_message_at IS NULL OR a.last_at > f.last_message_at
          OR (a.last_in IS NOT NULL AND (f.last_incoming_at IS NULL OR a.last_in > f.last_incoming_at)))
)
SELECT i.ord, coalesce(k.message_id, mk.message_id), CASE WHEN k.message_id IS NOT NULL THEN 'created' ELSE 'unchanged' END
  FROM input i
  LEFT JOIN keys k ON k.message_id = i.id
  LEFT JOIN LATERAL (SELECT message_id FROM content.message_keys
                      WHERE creator_id = $1 AND platform = $2 AND platform_message_id = i.pid LIMIT 1) mk ON true
 ORDER BY i.ord)";

constexpr const char* kUpsertSubscriptions = R"(
WITH input AS (
  SELECT * FROM jsonb_to_recordset($3::jsonb)
    AS x(ord int, id uuid, pid text, fan text, price bigint, status text, started_at timestamptz,
         renews_at timestamptz)
), resolved AS (
  SELECT i.*, f.id AS fan_id FROM input i
    CROSS JOIN LATERAL (SELECT id FROM content.fans
                         WHERE creator_id = $1 AND platform = $2 AND platform_fan_id = i.fan LIMIT 1) f
), ins AS (
  INSERT INTO content.subscriptions (id, creator_id, fan_id, platform, platform_subscription_id, price_cents, status,
                                     started_at, renews_at, created_at, updated_at)
  SELECT id, $1, fan_id, $2, pid, price, status, started_at, renews_at, $4, $4 FROM resolved
  ON CONFLICT (creator_id, platform, platform_subscription_id) DO NOTHING
  RETURNING id
), known AS (
  SELECT i.ord, s.id FROM input i
    CROSS JOIN LATERAL (SELECT id FROM content.subscriptions
                         WHERE creator_id = $1 AND platform = $2 AND platform_subscription_id = i.pid LIMIT 1) s
), upd AS (
  UPDATE content.subscriptions s
     SET fan_id = r.fan_id, price_cents = r.price, status = r.status, started_at = r.started_at,
         renews_at = r.renews_at, updated_at = $4
    FROM known k JOIN resolved r ON r.ord = k.ord
   WHERE s.id = k.id
     AND (s.fan_id, s.price_cents, s.status, s.started_at, s.renews_at) IS DISTINCT FROM
         (r.fan_id, r.price, r.status, r.started_at, r.renews_at)
  RETURNING s.id, r.ord
)
SELECT i.ord, coalesce(ins.id, upd.id, k.id),
       CASE WHEN ins.id IS NOT NULL THEN 'created' WHEN upd.id IS NOT NULL THEN 'updated' ELSE 'unchanged' END
  FROM input i
  LEFT JOIN ins ON ins.id = i.id
  LEFT JOIN upd ON upd.ord = i.ord
  LEFT JOIN known k ON k.ord = i.ord
 ORDER BY i.ord)";

constexpr const char* kInsertTransactions = R"(
WITH input AS (
  SELECT * FROM jsonb_to_recordset($3::jsonb)
    AS x(ord int, id uuid, pid text, fan text, kind text, amount bigint, currency text, occurred_at timestamptz)
), resolved AS (
  SELECT i.*, f.id AS fan_id FROM input i
    CROSS JOIN LATERAL (SELECT id FROM content.fans
                         WHERE creator_id = $1 AND platform = $2 AND platform_fan_id = i.fan LIMIT 1) f
), ins AS (
  INSERT INTO content.transactions (id, creator_id, fan_id, platform, platform_transaction_id, kind, amount_cents,
                                    currency, occurred_at, created_at)
  SELECT id, $1, fan_id, $2, pid, kind, amount, currency, occurred_at, $4 FROM resolved
  ON CONFLICT (creator_id, platform, platform_transaction_id) DO NOTHING
  RETURNING id, fan_id, kind, amount_cents
), locked AS (
  -- In id order, as for messages: concurrent batches queue instead of deadlocking.
  SELECT id FROM content.fans WHERE id IN (SELECT fan_id FROM ins) ORDER BY id FOR NO KEY UPDATE
), spent AS (
  UPDATE content.fans f
     SET lifetime_spend_cents = f.lifetime_spend_cents + a.delta, updated_at = $4
    FROM (SELECT fan_id, sum(CASE WHEN kind = 'refund' THEN -amount_cents ELSE amount_cents END) AS delta
            FROM ins GROUP BY fan_id) a
    JOIN locked l ON l.id = a.fan_id
   WHERE f.id = a.fan_id
)
SELECT i.ord, coalesce(ins.id, t.id), CASE WHEN ins.id IS NOT NULL THEN 'created' ELSE 'unchanged' END
  FROM input i
  LEFT JOIN ins ON ins.id = i.id
  LEFT JOIN LATERAL (SELECT id FROM content.transactions
                      WHERE creator_id = $1 AND platform = $2 AND platform_transaction_id = i.pid LIMIT 1) t ON true
 ORDER BY i.ord)";

std::string time_text(SysTime t) { return format_iso8601(t); }

template <class Item, class KeyOf>
std::vector<std::string> fan_keys(const std::vector<Item>& items, KeyOf key_of) {
  std::vector<std::string> keys;
  keys.reserve(items.size());
  for (const auto& item : items) keys.push_back(key_of(item));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

}  // namespace

std::string_view to_string(ItemStatus status) noexcept {
  switch (status) {
    case ItemStatus::created: return "created";
    case ItemStatus::updated: return "updated";
    case ItemStatus::unchanged: return "unchanged";
  }
  return "?";
}

IngestStore::IngestStore(db::Database& db, MessagePartitions& partitions, const Clock& clock)
    : db_(db), partitions_(partitions), clock_(clock) {}

asio::awaitable<std::vector<StoredItem>> IngestStore::run(std::string_view sql, Uuid workspace,
                                                          const std::string& platform, std::string items_json,
                                                          size_t count) {
  const db::Timestamp now(clock_.now());
  const db::Json items{std::move(items_json)};
  std::optional<db::Result> rows;
  for (int attempt = 1;; ++attempt) {
    bool retry = false;
    try {
      rows.emplace(co_await db_.query(sql, workspace, platform, items, now));
    } catch (const db::DbError& e) {
      if (!e.is_serialization_failure() || attempt >= kDeadlockAttempts) throw;
      retry = true;  // the whole statement rolled back: running it again is safe
    }
    if (!retry) break;
  }
  std::vector<StoredItem> out(count);
  for (const auto& row : *rows) {
    const auto ord = row.get<int32_t>(0);
    if (ord < 0 || static_cast<size_t>(ord) >= count) continue;
    auto& item = out[static_cast<size_t>(ord)];
    item.id = row.get<std::optional<Uuid>>(1).value_or(Uuid{});
    const auto status = row.get<std::string>(2);
    item.status = status == "created" ? ItemStatus::created
                  : status == "updated" ? ItemStatus::updated
                                        : ItemStatus::unchanged;
  }
  co_return out;
}

asio::awaitable<void> IngestStore::ensure_fans(Uuid workspace, const std::string& platform,
                                               std::vector<std::string> platform_fan_ids) {
  if (platform_fan_ids.empty()) co_return;
  json::array input;
  input.reserve(platform_fan_ids.size());
  for (auto& id : platform_fan_ids) input.push_back(json::object{{"id", Uuid::v7().str()}, {"pid", std::move(id)}});
  const db::Timestamp now(clock_.now());
  const db::Json items{json::serialize(input)};
  co_await db_.query(kEnsureFans, workspace, platform, items, now);
}

asio::awaitable<std::vector<StoredItem>> IngestStore::fans(Uuid workspace, const std::string& platform,
                                                           const std::vector<FanItem>& items) {
  if (items.empty()) co_return std::vector<StoredItem>{};
  json::array input;
  input.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    json::value tags = nullptr;
    if (item.tags) tags = json::value_from(*item.tags);
    input.push_back(json::object{{"ord", i},
                                 {"id", Uuid::v7().str()},
                                 {"pid", item.platform_fan_id},
                                 {"handle", text_or_null(item.handle)},
                                 {"display_name", text_or_null(item.display_name)},
                                 {"tier", text_or_null(item.tier)},
                                 {"notes", text_or_null(item.notes)},
                                 {"tags", std::move(tags)}});
  }
  co_return co_await run(kUpsertFans, workspace, platform, json::serialize(input), items.size());
}

asio::awaitable<std::vector<StoredItem>> IngestStore::messages(Uuid workspace, const std::string& platform,
                                                               const std::vector<MessageItem>& items) {
  if (items.empty()) co_return std::vector<StoredItem>{};
  std::vector<std::chrono::year_month> months;
  for (const auto& item : items) months.push_back(utc_month(item.sent_at));
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  co_await partitions_.ensure(months);
  co_await ensure_fans(workspace, platform, fan_keys(items, [](const MessageItem& m) { return m.platform_fan_id; }));
  json::array input;
  input.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    json::value ppv = nullptr;
    if (item.ppv_price_cents) ppv = *item.ppv_price_cents;
    input.push_back(json::object{{"ord", i},
                                 {"id", Uuid::v7().str()},
                                 {"pid", item.platform_message_id},
                                 {"fan", item.platform_fan_id},
                                 {"incoming", item.incoming},
                                 {"body", item.body},
                                 {"sent_at", time_text(item.sent_at)},
                                 {"ppv", std::move(ppv)}});
  }
  co_return co_await run(kInsertMessages, workspace, platform, json::serialize(input), items.size());
}

asio::awaitable<std::vector<StoredItem>> IngestStore::subscriptions(Uuid workspace, const std::string& platform,
                                                                    const std::vector<SubscriptionItem>& items) {
  if (items.empty()) co_return std::vector<StoredItem>{};
  co_await ensure_fans(workspace, platform,
                       fan_keys(items, [](const SubscriptionItem& s) { return s.platform_fan_id; }));
  json::array input;
  input.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    json::value renews = nullptr;
    if (item.renews_at) renews = time_text(*item.renews_at);
    input.push_back(json::object{{"ord", i},
                                 {"id", Uuid::v7().str()},
                                 {"pid", item.platform_subscription_id},
                                 {"fan", item.platform_fan_id},
                                 {"price", item.price_cents},
                                 {"status", item.status},
                                 {"started_at", time_text(item.started_at)},
                                 {"renews_at", std::move(renews)}});
  }
  co_return co_await run(kUpsertSubscriptions, workspace, platform, json::serialize(input), items.size());
}

asio::awaitable<std::vector<StoredItem>> IngestStore::transactions(Uuid workspace, const std::string& platform,
                                                                   const std::vector<TransactionItem>& items) {
  if (items.empty()) co_return std::vector<StoredItem>{};
  co_await ensure_fans(workspace, platform,
                       fan_keys(items, [](const TransactionItem& t) { return t.platform_fan_id; }));
  json::array input;
  input.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    input.push_back(json::object{{"ord", i},
                                 {"id", Uuid::v7().str()},
                                 {"pid", item.platform_transaction_id},
                                 {"fan", item.platform_fan_id},
                                 {"kind", item.kind},
                                 {"amount", item.amount_cents},
                                 {"currency", item.currency},
                                 {"occurred_at", time_text(item.occurred_at)}});
  }
  co_return co_await run(kInsertTransactions, workspace, platform, json::serialize(input), items.size());
}

}  // namespace huntaze::content
