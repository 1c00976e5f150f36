#include "content/ingestion.hpp"

#include <boost/json.hpp>

#include "content/message_partitions.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

json::array errors_json(const std::vector<ErrorDetail>& problems) {
  json::array out;
  for (const auto& p : problems) out.push_back(json::object{{"field", p.field}, {"message", p.message}});
  return out;
}

}  // namespace

Ingestion::Ingestion(IngestStore& store, Compute& compute, const Clock& clock, metrics::Registry& metrics,
                     const ContentConfig& config)
    : store_(store),
      compute_(compute),
      clock_(clock),
      config_(config),
      items_(metrics.counter("huntaze_content_ingested_items_total", "Ingested items by kind and outcome",
                             {"kind", "status"})) {}

asio::awaitable<http::Response> Ingestion::ingest(Uuid workspace, IngestKind kind, const std::string& body) {
  const SysTime now = clock_.now();
  const MessageWindow window{.earliest = archive_horizon(now, config_.messages),
                             .latest = now + std::chrono::duration_cast<std::chrono::microseconds>(
                                                 config_.messages.max_future)};
  const size_t max_items = static_cast<size_t>(config_.ingest.max_items);
  // Parsing and checking a few megabytes of JSON is tens of milliseconds:
  // too long for an I/O thread.
  auto prepare = [&] { return prepare_batch(kind, body, window, max_items); };
  PreparedBatch batch = co_await compute_.run_if(body.size() > Compute::kInlineBytes, prepare);

  std::vector<StoredItem> stored;
  if (auto* fans = std::get_if<std::vector<FanItem>>(&batch.items))
    stored = co_await store_.fans(workspace, batch.platform, *fans);
  else if (auto* messages = std::get_if<std::vector<MessageItem>>(&batch.items))
    stored = co_await store_.messages(workspace, batch.platform, *messages);
  else if (auto* subscriptions = std::get_if<std::vector<SubscriptionItem>>(&batch.items))
    stored = co_await store_.subscriptions(workspace, batch.platform, *subscriptions);
  else if (auto* transactions = std::get_if<std::vector<TransactionItem>>(&batch.items))
    stored = co_await store_.transactions(workspace, batch.platform, *transactions);
  const std::vector<size_t>& indexes = batch.indexes;
  const std::vector<ItemProblem>& rejected = batch.rejected;

  std::vector<json::object> results(batch.received);
  int64_t counts[3] = {0, 0, 0};
  for (size_t i = 0; i < stored.size() && i < indexes.size(); ++i) {
    const auto& s = stored[i];
    ++counts[static_cast<int>(s.status)];
    json::object r{{"index", indexes[i]}, {"status", to_string(s.status)}};
    if (!s.id.is_nil()) r["id"] = s.id.str();
    results[indexes[i]] = std::move(r);
  }
  for (auto& bad : rejected)
    results[bad.index] = json::object{{"index", bad.index}, {"status", "failed"}, {"errors", errors_json(bad.problems)}};

  const std::string_view kind_name = to_string(kind);
  const char* names[3] = {"created", "updated", "unchanged"};
  for (int i = 0; i < 3; ++i)
    if (counts[i] > 0) items_.with({kind_name, names[i]}).inc(static_cast<double>(counts[i]));
  if (!rejected.empty()) items_.with({kind_name, "failed"}).inc(static_cast<double>(rejected.size()));

  json::array items;
  items.reserve(results.size());
  for (auto& r : results) items.push_back(std::move(r));
  json::object answer{{"kind", kind_name},
                      {"platform", batch.platform},
                      {"received", batch.received},
                      {"created", counts[0]},
                      {"updated", counts[1]},
                      {"unchanged", counts[2]},
                      {"failed", rejected.size()},
                      {"items", std::move(items)}};
  co_return http::Response::json_text(200, json::serialize(answer));
}

}  // namespace huntaze::content
