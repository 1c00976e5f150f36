#include "content/offers.hpp"

#include <boost/json.hpp>

#include "content/api.hpp"
#include "content/timed_moves.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* kColumns =
    "id, title, description, kind, price_cents, discount_percent, starts_at, ends_at, status, activated_at, "
    "expired_at, created_at, updated_at";

json::object offer_json(const db::Row& r) {
  const auto price = r.get<std::optional<int64_t>>(4);
  const auto discount = r.get<std::optional<int32_t>>(5);
  return json::object{{"id", r.get<Uuid>(0).str()},
                      {"title", r.get<std::string>(1)},
                      {"description", r.get<std::string>(2)},
                      {"kind", r.get<std::string>(3)},
                      {"price_cents", price ? json::value(*price) : json::value(nullptr)},
                      {"discount_percent", discount ? json::value(*discount) : json::value(nullptr)},
                      {"starts_at", format_iso8601(r.get<db::Timestamp>(6))},
                      {"ends_at", format_iso8601(r.get<db::Timestamp>(7))},
                      {"status", r.get<std::string>(8)},
                      {"activated_at", time_or_null(r.get<std::optional<db::Timestamp>>(9))},
                      {"expired_at", time_or_null(r.get<std::optional<db::Timestamp>>(10))},
                      {"created_at", format_iso8601(r.get<db::Timestamp>(11))},
                      {"updated_at", format_iso8601(r.get<db::Timestamp>(12))}};
}

// The whole offer after a change must still make sense.
void check_offer(const std::string& kind, std::optional<int64_t> price, std::optional<int32_t> discount,
                 SysTime starts_at, SysTime ends_at, SysTime now) {
  std::vector<ErrorDetail> problems;
  if (kind == "discount" && !discount) problems.push_back({"discount_percent", "a discount needs a percentage"});
  if ((kind == "bundle" || kind == "ppv") && !price) problems.push_back({"price_cents", "a " + kind + " needs a price"});
  if (ends_at <= starts_at) problems.push_back({"ends_at", "must be after starts_at"});
  if (ends_at <= now) problems.push_back({"ends_at", "must be in the future"});
  if (!problems.empty()) throw ApiError::bad_request("the offer is not valid", std::move(problems));
}

int64_t micros(SysTime t) { return t.time_since_epoch().count(); }

}  // namespace

Offers::Offers(db::Database& db, jobs::JobQueue& queue, const Clock& clock) : db_(db), queue_(queue), clock_(clock) {}

asio::awaitable<void> Offers::schedule_moves(db::Executor& tx, Uuid id, SysTime starts_at, SysTime ends_at) {
  // Each job carries the time it was made for ("at"): rescheduled, the
  // offer's old jobs see another time on the row and end quietly.
  auto payload = [&id](SysTime at) {
    return json::serialize(json::object{{"offer_id", id.str()}, {"at", micros(at)}});
  };
  std::vector<jobs::NewJob> moves;
  moves.push_back(jobs::NewJob{.kind = kOffersActivateKind,
                               .payload = payload(starts_at),
                               .run_at = starts_at,
                               .unique_key = "offer:" + id.str() + ":start:" + std::to_string(micros(starts_at))});
  moves.push_back(jobs::NewJob{.kind = kOffersExpireKind,
                               .payload = payload(ends_at),
                               .run_at = ends_at,
                               .unique_key = "offer:" + id.str() + ":end:" + std::to_string(micros(ends_at))});
  co_await queue_.enqueue_many(tx, std::move(moves));
}

asio::awaitable<json::object> Offers::create(Uuid workspace, Uuid user, const OfferFields& f) {
  const SysTime now = clock_.now();
  check_offer(*f.kind, f.price_cents, f.discount_percent, *f.starts_at, *f.ends_at, now);
  const Uuid id = Uuid::v7();
  std::optional<Uuid> by;
  if (!user.is_nil()) by = user;
  const db::Timestamp at(now), starts(*f.starts_at), ends(*f.ends_at);
  const std::string description = f.description.value_or("");
  std::optional<json::object> made;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto rows = co_await tx.query(
        std::string("INSERT INTO content.offers (id, creator_id, title, description, kind, price_cents, "
                    "discount_percent, starts_at, ends_at, status, created_by, created_at, updated_at) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'scheduled', $10, $11, $11) RETURNING ") +
            kColumns,
        id, workspace, *f.title, description, *f.kind, f.price_cents, f.discount_percent, starts, ends, by, at);
    made = offer_json(rows.front());
    co_await schedule_moves(tx, id, *f.starts_at, *f.ends_at);
  });
  // Already started: no need to wait for the job's worker round trip.
  if (*f.starts_at <= now) {
    const std::optional<Uuid> one(id);
    co_await activate(one, now);
    if (auto fresh = co_await get(workspace, id)) made = std::move(*fresh);
  }
  co_return std::move(*made);
}

asio::awaitable<json::object> Offers::update(Uuid workspace, Uuid id, const OfferFields& f) {
  const SysTime now = clock_.now();
  std::optional<json::object> changed;
  bool start_now = false;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto rows = co_await tx.query(
        "SELECT kind, price_cents, discount_percent, starts_at, ends_at, status FROM content.offers "
        "WHERE id = $1 AND creator_id = $2 FOR UPDATE",
        id, workspace);
    if (rows.empty()) throw ApiError::not_found("offer not found");
    const auto& r = rows.front();
    const std::string status = r.get<std::string>(5);
    if (status != "scheduled" && status != "active")
      throw ApiError::conflict("the offer is " + status + "; it can no longer change");
    const SysTime old_start = r.get<db::Timestamp>(3), old_end = r.get<db::Timestamp>(4);
    if (status == "active" && f.starts_at && *f.starts_at != old_start)
      throw ApiError::conflict("the offer has started; its start can no longer change");
    const std::string kind = f.kind.value_or(r.get<std::string>(0));
    const auto price = f.price_cents ? f.price_cents : r.get<std::optional<int64_t>>(1);
    const auto discount = f.discount_percent ? f.discount_percent : r.get<std::optional<int32_t>>(2);
    const SysTime starts_at = f.starts_at.value_or(old_start), ends_at = f.ends_at.value_or(old_end);
    check_offer(kind, price, discount, starts_at, ends_at, now);
    const db::Timestamp at(now), starts(starts_at), ends(ends_at);
    auto updated = co_await tx.query(
        std::string("UPDATE content.offers SET title = coalesce($3, title), description = coalesce($4, description), "
                    "kind = $5, price_cents = $6, discount_percent = $7, starts_at = $8, ends_at = $9, "
                    "updated_at = $10 WHERE id = $1 AND creator_id = $2 RETURNING ") +
            kColumns,
        id, workspace, f.title, f.description, kind, price, discount, starts, ends, at);
    changed = offer_json(updated.front());
    // Jobs for the old times see the new time on the row and end quietly.
    if (starts_at != old_start || ends_at != old_end) co_await schedule_moves(tx, id, starts_at, ends_at);
    start_now = status == "scheduled" && starts_at <= now;
  });
  if (start_now) {
    const std::optional<Uuid> one(id);
    co_await activate(one, now);
    if (auto fresh = co_await get(workspace, id)) changed = std::move(*fresh);
  }
  co_return std::move(*changed);
}

asio::awaitable<json::object> Offers::cancel(Uuid workspace, Uuid id) {
  const db::Timestamp at(clock_.now());
  auto rows = co_await db_.query(
      std::string("UPDATE content.offers SET status = 'canceled', updated_at = $3 "
                  "WHERE id = $1 AND creator_id = $2 AND status IN ('scheduled', 'active') RETURNING ") +
          kColumns,
      id, workspace, at);
  if (!rows.empty()) co_return offer_json(rows.front());
  if (co_await get(workspace, id)) throw ApiError::conflict("the offer has already ended");
  throw ApiError::not_found("offer not found");
}

asio::awaitable<std::optional<json::object>> Offers::get(Uuid workspace, Uuid id) {
  auto rows = co_await db_.query(
      std::string("SELECT ") + kColumns + " FROM content.offers WHERE id = $1 AND creator_id = $2", id, workspace);
  if (rows.empty()) co_return std::nullopt;
  co_return offer_json(rows.front());
}

asio::awaitable<json::object> Offers::list(Uuid workspace, std::optional<std::string> status, int limit,
                                           const std::optional<json::array>& cursor) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM content.offers WHERE creator_id = $1";
  db::Params params{workspace, static_cast<int64_t>(limit + 1)};
  if (status) {
    sql += " AND status = $3";
    params.emplace_back(*status);
  }
  if (cursor) {
    const std::string a = "$" + std::to_string(params.size() + 1), b = "$" + std::to_string(params.size() + 2);
    sql += " AND (starts_at, id) < (" + a + ", " + b + ")";
    params.emplace_back(db::Timestamp(cursor_time((*cursor)[0])));
    params.emplace_back(cursor_uuid((*cursor)[1]));
  }
  sql += " ORDER BY starts_at DESC, id DESC LIMIT $2";
  auto rows = co_await db_.query(sql, std::move(params));
  auto key_of = [](const json::object& last) { return json::array{cursor_value(last.at("starts_at")), last.at("id")}; };
  co_return page_json(rows, limit, offer_json, key_of);
}

namespace {

jobs::Event offer_event(const char* type, const db::Row& r) {
  const std::string offer = r.get<Uuid>(0).str(), ws = r.get<Uuid>(1).str();
  return jobs::Event{.topic = "content",
                     .type = type,
                     .data = json::serialize(json::object{{"offer_id", offer}, {"workspace_id", ws}}),
                     .attributes = {{"creator_id", ws}}};
}

const TimedMove kActivate{
    "UPDATE content.offers SET status = 'active', activated_at = $1, updated_at = $1 "
    "WHERE id = $2 AND status = 'scheduled' AND starts_at <= $1 AND ends_at > $1 RETURNING id, creator_id",
    "UPDATE content.offers SET status = 'active', activated_at = $1, updated_at = $1 "
    "WHERE id IN (SELECT id FROM content.offers WHERE status = 'scheduled' AND starts_at <= $1 AND ends_at > $1 "
    "ORDER BY starts_at LIMIT $2) AND status = 'scheduled' AND starts_at <= $1 AND ends_at > $1 "
    "RETURNING id, creator_id",
    "SELECT starts_at FROM content.offers WHERE id = $1 AND status = 'scheduled'",
    [](const db::Row& r) { return offer_event("offer.activated", r); }};

const TimedMove kExpire{
    "UPDATE content.offers SET status = 'expired', expired_at = $1, updated_at = $1 "
    "WHERE id = $2 AND status IN ('scheduled', 'active') AND ends_at <= $1 RETURNING id, creator_id",
    "UPDATE content.offers SET status = 'expired', expired_at = $1, updated_at = $1 "
    "WHERE id IN (SELECT id FROM content.offers WHERE status IN ('scheduled', 'active') AND ends_at <= $1 "
    "ORDER BY ends_at LIMIT $2) AND status IN ('scheduled', 'active') AND ends_at <= $1 RETURNING id, creator_id",
    "SELECT ends_at FROM content.offers WHERE id = $1 AND status IN ('scheduled', 'active')",
    [](const db::Row& r) { return offer_event("offer.expired", r); }};

}  // namespace

asio::awaitable<int> Offers::activate(std::optional<Uuid> id, SysTime now, std::optional<SysTime> scheduled_for) {
  return run_move(db_, queue_, kActivate, id, now, scheduled_for);
}

asio::awaitable<int> Offers::expire(std::optional<Uuid> id, SysTime now, std::optional<SysTime> scheduled_for) {
  return run_move(db_, queue_, kExpire, id, now, scheduled_for);
}

}  // namespace huntaze::content
