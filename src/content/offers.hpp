// Offers: discounts, bundles and pay-per-view drops with a start and an end.
//
// Status: scheduled -> active -> expired (or canceled by a manager). The
// moves happen at the exact times, by jobs enqueued with the offer in the
// same transaction (kinds offers.activate and offers.expire with an
// offer_id), and by the hourly offers.activate and daily offers.expire cron
// sweeps (the same kinds without one) for anything a job missed. Each move
// is one conditional UPDATE whose event (topic "content", offer.activated /
// offer.expired) is published in its transaction: however a job and a sweep
// race, an offer moves once and its event exists once.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::content {

inline constexpr const char* kOffersActivateKind = "offers.activate";
inline constexpr const char* kOffersExpireKind = "offers.expire";

struct OfferFields {
  std::optional<std::string> title, description, kind;
  std::optional<int64_t> price_cents;
  std::optional<int32_t> discount_percent;
  std::optional<SysTime> starts_at, ends_at;
};

class Offers {
 public:
  Offers(db::Database& db, jobs::JobQueue& queue, const Clock& clock);

  // Throws ApiError 400 when the fields do not make an offer (a discount
  // without a percentage, an end before the start or in the past, ...).
  boost::asio::awaitable<boost::json::object> create(Uuid workspace, Uuid user, const OfferFields& fields);
  // Changes a scheduled or active offer (an active one keeps its start);
  // 404 unknown, 409 when it has ended or was canceled.
  boost::asio::awaitable<boost::json::object> update(Uuid workspace, Uuid id, const OfferFields& fields);
  boost::asio::awaitable<boost::json::object> cancel(Uuid workspace, Uuid id);
  boost::asio::awaitable<std::optional<boost::json::object>> get(Uuid workspace, Uuid id);
  // Newest start first; `status` filters when set.
  boost::asio::awaitable<boost::json::object> list(Uuid workspace, std::optional<std::string> status, int limit,
                                                   const std::optional<boost::json::array>& cursor);

  // The moves at `now`: one offer, or (nullopt) every offer due. Returns
  // how many moved. An offer whose start is still ahead is not moved; with
  // an id, RetryAt its start is thrown so its job comes back then.
  boost::asio::awaitable<int> activate(std::optional<Uuid> id, SysTime now,
                                  std::optional<SysTime> scheduled_for = std::nullopt);
  boost::asio::awaitable<int> expire(std::optional<Uuid> id, SysTime now,
                                  std::optional<SysTime> scheduled_for = std::nullopt);

 private:
  boost::asio::awaitable<void> schedule_moves(db::Executor& tx, Uuid id, SysTime starts_at, SysTime ends_at);

  db::Database& db_;
  jobs::JobQueue& queue_;
  const Clock& clock_;
};

}  // namespace huntaze::content
