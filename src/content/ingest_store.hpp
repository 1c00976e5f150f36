// Writes validated ingestion batches (ingest_items.hpp) in a few statements
// per batch, whatever its size: the items travel as one jsonb parameter that
// the SQL unpacks with jsonb_to_recordset.
//
// Idempotency: fans and subscriptions are upserts keyed on the platform id
// that write only when a value changed; messages and transactions are
// insert-once on the platform id (a re-sent one is "unchanged", even if its
// text differs: platforms do not edit history). Fans referenced by
// messages, subscriptions or transactions but not yet known are created
// with just their platform id, so the order in which a connector sends the
// kinds does not matter.
//
// Thread-safety: safe from any coroutine. Concurrent batches touching the
// same fans may deadlock in PostgreSQL; the statement is retried then.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "content/ingest_items.hpp"
#include "content/message_partitions.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::content {

enum class ItemStatus { created, updated, unchanged };
std::string_view to_string(ItemStatus status) noexcept;

struct StoredItem {
  ItemStatus status = ItemStatus::unchanged;
  Uuid id;  // the row's id (nil only if a concurrent batch has not committed it yet)
};

class IngestStore {
 public:
  IngestStore(db::Database& db, MessagePartitions& partitions, const Clock& clock);

  // Results in the order of `items`.
  boost::asio::awaitable<std::vector<StoredItem>> fans(Uuid workspace, const std::string& platform,
                                                       const std::vector<FanItem>& items);
  boost::asio::awaitable<std::vector<StoredItem>> messages(Uuid workspace, const std::string& platform,
                                                           const std::vector<MessageItem>& items);
  boost::asio::awaitable<std::vector<StoredItem>> subscriptions(Uuid workspace, const std::string& platform,
                                                                const std::vector<SubscriptionItem>& items);
  boost::asio::awaitable<std::vector<StoredItem>> transactions(Uuid workspace, const std::string& platform,
                                                               const std::vector<TransactionItem>& items);

 private:
  // Creates the fans these platform ids name, if missing.
  boost::asio::awaitable<void> ensure_fans(Uuid workspace, const std::string& platform,
                                           std::vector<std::string> platform_fan_ids);
  // Runs the batch statement (retried on deadlock) and maps its
  // (ord, id, status) rows back to the items' order.
  boost::asio::awaitable<std::vector<StoredItem>> run(std::string_view sql, Uuid workspace,
                                                      const std::string& platform, std::string items_json,
                                                      size_t count);

  db::Database& db_;
  MessagePartitions& partitions_;
  const Clock& clock_;
};

}  // namespace huntaze::content
