// One ingestion batch from body to answer: envelope, per-item checks,
// storage, and the per-item result list. Shared by the user/API-key route
// and the signed-webhook route.
//
// Answer (200 whenever the envelope is valid, even if every item failed):
//   {"kind": "messages", "platform": "onlyfans", "received": 3,
//    "created": 1, "updated": 0, "unchanged": 1, "failed": 1,
//    "items": [{"index": 0, "status": "created", "id": "…"},
//              {"index": 1, "status": "unchanged", "id": "…"},
//              {"index": 2, "status": "failed", "errors": [{"field": "sent_at", "message": "…"}]}]}
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "content/content_config.hpp"
#include "content/ingest_items.hpp"
#include "content/ingest_store.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/http/message.hpp"

namespace huntaze::content {

class Ingestion {
 public:
  Ingestion(IngestStore& store, Compute& compute, const Clock& clock, metrics::Registry& metrics,
            const ContentConfig& config);

  boost::asio::awaitable<http::Response> ingest(Uuid workspace, IngestKind kind, const std::string& body);

 private:
  IngestStore& store_;
  Compute& compute_;
  const Clock& clock_;
  const ContentConfig& config_;
  metrics::Family<metrics::Counter>& items_;
};

}  // namespace huntaze::content
