#include "content/billing.hpp"

#include <boost/json.hpp>
#include <map>

#include "content/api.hpp"
#include "content/money.hpp"
#include "huntaze/ai_router/usage_totals.hpp"
#include "huntaze/auth/directory.hpp"
#include "huntaze/core/error.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::content {

namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::year_month;

namespace {

constexpr int kWorkspacePage = 500;
constexpr uint64_t kGiB = 1ull << 30;


std::string month_name(year_month m) { return format_year_month(m, '-'); }

const json::value* path(const json::value& v, std::initializer_list<const char*> keys) {
  const json::value* at = &v;
  for (const char* k : keys) {
    const auto* o = at->if_object();
    if (!o) return nullptr;
    at = o->if_contains(k);
    if (!at) return nullptr;
  }
  return at;
}

std::string text_at(const json::value& v, std::initializer_list<const char*> keys) {
  const auto* at = path(v, keys);
  return at && at->is_string() ? std::string(at->get_string()) : std::string();
}

// Stripe subscription statuses -> ours.
std::string plan_status(std::string_view stripe) {
  if (stripe == "active" || stripe == "trialing") return "active";
  if (stripe == "past_due" || stripe == "unpaid" || stripe == "incomplete" || stripe == "paused") return "past_due";
  return "canceled";  // canceled, incomplete_expired
}

json::object line_json(const InvoiceLine& l) {
  return json::object{{"code", l.code},
                      {"description", l.description},
                      {"quantity", l.quantity},
                      {"unit", l.unit},
                      {"amount_cents", l.amount_cents}};
}

}  // namespace

std::vector<InvoiceLine> invoice_lines(const Plan& plan, const UsageFigures& usage, const BillingConfig& config,
                                       year_month month) {
  std::vector<InvoiceLine> lines;
  lines.push_back({"plan", "Plan " + plan.name + ", " + month_name(month), 1, "month", plan.price_cents});

  const int64_t included_micros = plan.ai_included_cents * kMicrosPerCent;
  const int64_t over_micros = std::max<int64_t>(0, usage.ai_cost_micros - included_micros);
  const int64_t ai_cents = cents_up(over_micros * (100 + config.ai_markup_percent) / 100);
  lines.push_back({"ai_usage",
                   "AI usage " + dollars(cents_up(usage.ai_cost_micros)) + ", " + dollars(plan.ai_included_cents) +
                       " included",
                   usage.ai_cost_micros, "usd_micros", ai_cents});

  const uint64_t over_bytes = usage.media.storage_bytes > plan.storage_bytes ? usage.media.storage_bytes - plan.storage_bytes : 0;
  const int64_t over_gib = static_cast<int64_t>((over_bytes + kGiB - 1) / kGiB);
  lines.push_back({"storage",
                   "Storage " + std::to_string(usage.media.storage_bytes / (1ull << 20)) + " MiB, " +
                       std::to_string(plan.storage_bytes / kGiB) + " GiB included",
                   static_cast<int64_t>(usage.media.storage_bytes), "bytes",
                   over_gib * config.storage_overage_cents_per_gib});

  const int64_t over_videos = std::max<int64_t>(0, usage.media.videos - plan.videos_per_month);
  lines.push_back({"videos",
                   "Videos processed " + std::to_string(usage.media.videos) + ", " +
                       std::to_string(plan.videos_per_month) + " included",
                   usage.media.videos, "videos", over_videos * config.video_overage_cents});
  return lines;
}

Billing::Billing(db::Database& db, const Clock& clock, WorkspacePlans& plans, MediaUsageSource* media,
                 const BillingConfig& config)
    : db_(db), clock_(clock), plans_(plans), media_(media), config_(config) {}

asio::awaitable<int> Billing::invoice_month(year_month month, jobs::JobContext* job) {
  const SysTime from = month_start(month), to = month_start(month + std::chrono::months(1));
  // The month's AI spend per workspace, from one scan of the usage log.
  const auto spend = co_await ai_router::spend_by_workspace(db_, from, to);
  std::map<std::string, int64_t> ai;
  for (const auto& [ws, micros] : spend.workspaces) ai[ws] = micros;

  int created = 0, failed = 0;
  std::optional<Uuid> after;
  for (;;) {
    auto page = co_await auth::workspaces_created_before(db_, to, after, kWorkspacePage);
    for (const Uuid& ws : page) {
      if (job) co_await job->heartbeat();
      const auto it = ai.find(ws.str());
      const int64_t micros = it == ai.end() ? 0 : it->second;
      // One workspace that cannot be invoiced (its media figures, say) does
      // not hold up the others; the run fails at the end and its retry
      // makes only the missing invoices.
      bool made = false;
      std::string error;
      try {
        made = co_await invoice_workspace(ws, month, micros);
      } catch (const boost::system::system_error&) {
        throw;  // cancelled, or the connection is gone: the retry goes on from here
      } catch (const db::DbUnavailable&) {
        throw;  // the database is down: every other workspace would fail the same way
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (made) ++created;
      if (!error.empty()) {
        ++failed;
        log::error("monthly invoice failed", {{"workspace_id", ws.str()}, {"month", month_name(month)}, {"error", error}});
      }
    }
    if (page.size() < static_cast<size_t>(kWorkspacePage)) break;
    after = page.back();
  }
  log::info("monthly invoices", {{"month", month_name(month)}, {"created", created}, {"failed", failed}});
  if (failed > 0)
    throw std::runtime_error(std::to_string(failed) + " workspace(s) could not be invoiced for " + month_name(month));
  co_return created;
}

asio::awaitable<bool> Billing::invoice_workspace(Uuid workspace, year_month month, int64_t ai_micros) {
  const SysTime from = month_start(month), to = month_start(month + std::chrono::months(1));
  const db::Timestamp period_start(from), period_end(to);
  auto existing = co_await db_.query("SELECT 1 FROM content.invoices WHERE creator_id = $1 AND period_start = $2",
                                     workspace, period_start);
  if (!existing.empty()) co_return false;
  // The plan as it is now in the database, not as remembered for the router.
  const PlanLimits limits = co_await plans_.read(workspace);
  if (!limits.usable()) co_return false;
  UsageFigures usage{.ai_cost_micros = ai_micros};
  if (media_) usage.media = co_await media_->usage(workspace, from, to);
  const Plan& plan = config_.plan(limits.plan);
  const auto lines = invoice_lines(plan, usage, config_, month);
  int64_t total = 0;
  for (const auto& l : lines) total += l.amount_cents;

  const Uuid id = Uuid::v7();
  const db::Timestamp now(clock_.now());
  std::vector<std::string> codes, descriptions, units;
  std::vector<int64_t> quantities, amounts;
  for (const auto& l : lines) {
    codes.push_back(l.code);
    descriptions.push_back(l.description);
    units.push_back(l.unit);
    quantities.push_back(l.quantity);
    amounts.push_back(l.amount_cents);
  }
  bool made = false;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    // The unique key decides: a concurrent run that got here first wins.
    auto inserted = co_await tx.query(
        "INSERT INTO content.invoices (id, creator_id, period_start, period_end, plan, currency, total_cents, status, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'issued', $8) "
        "ON CONFLICT (creator_id, period_start) DO NOTHING RETURNING id",
        id, workspace, period_start, period_end, plan.name, config_.currency, total, now);
    if (inserted.empty()) co_return;
    co_await tx.query(
        "INSERT INTO content.invoice_lines (invoice_id, position, code, description, quantity, unit, amount_cents) "
        "SELECT $1, (l.n - 1)::smallint, l.code, l.description, l.quantity, l.unit, l.amount "
        "FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[]) WITH ORDINALITY "
        "AS l(code, description, quantity, unit, amount, n)",
        id, codes, descriptions, quantities, units, amounts);
    made = true;
  });
  co_return made;
}

asio::awaitable<StripeOutcome> Billing::stripe_event(const std::string& body) {
  boost::system::error_code ec;
  const json::value event = json::parse(body, ec);
  const std::string id = ec ? "" : text_at(event, {"id"});
  const std::string type = ec ? "" : text_at(event, {"type"});
  const auto* created = ec ? nullptr : path(event, {"created"});
  if (id.empty() || type.empty() || !created || !created->is_int64() || id.size() > 255 || type.size() > 255)
    throw ApiError::bad_request("not a Stripe event (id, type and created are required)");
  const db::Timestamp event_at(std::chrono::sys_seconds(std::chrono::seconds(created->get_int64())));
  const json::value* object = path(event, {"data", "object"});
  if (!object || !object->is_object()) throw ApiError::bad_request("the event has no data.object");

  // Whose subscription: metadata.workspace_id as set at checkout, else the
  // customer we already know.
  std::string workspace_text = text_at(*object, {"metadata", "workspace_id"});
  const std::string customer = text_at(*object, {"customer"});
  const bool subscription_event = type.starts_with("customer.subscription.");
  const bool invoice_event = type == "invoice.paid" || type == "invoice.payment_failed";

  StripeOutcome outcome;
  const db::Timestamp now(clock_.now());
  std::optional<Uuid> touched;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto fresh = co_await tx.query(
        "INSERT INTO content.stripe_events (id, type, stripe_created_at, received_at, outcome) "
        "VALUES ($1, $2, $3, $4, 'received') ON CONFLICT (id) DO NOTHING RETURNING 1",
        id, type, event_at, now);
    if (fresh.empty()) {
      outcome.duplicate = true;
      auto prior = co_await tx.query("SELECT outcome FROM content.stripe_events WHERE id = $1", id);
      outcome.outcome = prior.empty() ? "" : prior.front().get<std::string>(0);
      co_return;
    }
    std::optional<Uuid> workspace = Uuid::parse(workspace_text);
    if (!workspace && !customer.empty()) {
      auto known = co_await tx.query("SELECT creator_id FROM content.workspace_plans WHERE stripe_customer_id = $1",
                                     customer);
      if (!known.empty()) workspace = known.front().get<Uuid>(0);
    }
    if (!subscription_event && !invoice_event) {
      outcome.outcome = "ignored: not a type we act on";
    } else if (!workspace) {
      outcome.outcome = "ignored: no workspace (metadata.workspace_id or a known customer)";
    } else {
      std::string status;
      std::optional<std::string> plan;
      std::optional<std::string> subscription;
      std::optional<db::Timestamp> period_end;
      if (subscription_event) {
        status = type == "customer.subscription.deleted" ? "canceled" : plan_status(text_at(*object, {"status"}));
        subscription = text_at(*object, {"id"});
        const auto* items = path(*object, {"items", "data"});
        if (items && items->is_array() && !items->get_array().empty()) {
          const std::string price = text_at(items->get_array().front(), {"price", "id"});
          for (const auto& [name, p] : config_.plans)
            if (!p.stripe_price.empty() && p.stripe_price == price) plan = name;
        }
        if (const auto* end = path(*object, {"current_period_end"}); end && end->is_int64())
          period_end = db::Timestamp(std::chrono::sys_seconds(std::chrono::seconds(end->get_int64())));
      } else {
        status = type == "invoice.paid" ? "active" : "past_due";
      }
      std::optional<std::string> customer_id;
      if (!customer.empty()) customer_id = customer;
      const std::string default_plan = config_.default_plan;
      // The workspace row may not exist yet (the default plan until now);
      // an older event than the last one applied changes nothing; a paid or
      // failed invoice never revives a canceled subscription (only a
      // subscription event does).
      auto applied = co_await tx.query(
          "INSERT INTO content.workspace_plans AS p (creator_id, plan, status, stripe_customer_id, "
          "stripe_subscription_id, current_period_end, stripe_event_at, updated_at) "
          "SELECT $1, coalesce($2, $9), $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM auth.workspaces WHERE id = $1) "
          "ON CONFLICT (creator_id) DO UPDATE SET plan = coalesce($2, p.plan), "
          "status = CASE WHEN $10 AND p.status = 'canceled' THEN p.status ELSE $3 END, "
          "stripe_customer_id = coalesce($4, p.stripe_customer_id), "
          "stripe_subscription_id = coalesce($5, p.stripe_subscription_id), "
          "current_period_end = coalesce($6, p.current_period_end), stripe_event_at = $7, updated_at = $8 "
          "WHERE p.stripe_event_at IS NULL OR p.stripe_event_at <= $7 RETURNING 1",
          *workspace, plan, status, customer_id, subscription, period_end, event_at, now, default_plan, invoice_event);
      outcome.outcome = applied.empty() ? "ignored: unknown workspace or an older event" : "applied";
      if (!applied.empty()) touched = workspace;
    }
    co_await tx.query("UPDATE content.stripe_events SET outcome = $2 WHERE id = $1", id, outcome.outcome);
  });
  if (touched) plans_.forget(*touched);
  co_return outcome;
}

asio::awaitable<json::object> Billing::summary(Uuid workspace) {
  // The plan as it is now in the database, not as remembered for the router.
  const PlanLimits limits = co_await plans_.read(workspace);
  const Plan& plan = config_.plan(limits.plan);
  const SysTime now = clock_.now();
  const auto month = utc_month(now);
  const std::optional<std::string> ws = workspace.str();
  const int64_t ai = co_await ai_router::spend_micros(db_, ws, month_start(month), now);
  co_return json::object{
      {"plan", plan.name},
      {"status", limits.status},
      {"price_cents", plan.price_cents},
      {"currency", config_.currency},
      {"limits", json::object{{"ai_included_cents", plan.ai_included_cents},
                              {"ai_budget_cents", plan.ai_budget_cents},
                              {"storage_bytes", plan.storage_bytes},
                              {"videos_per_month", plan.videos_per_month}}},
      {"month", month_name(month)},
      {"usage", json::object{{"ai_cost_micros", ai}}}};
}

asio::awaitable<json::object> Billing::invoices(Uuid workspace, int limit, const std::optional<json::array>& cursor) {
  std::string sql =
      "SELECT id, period_start, period_end, plan, currency, total_cents, status, created_at FROM content.invoices "
      "WHERE creator_id = $1";
  db::Params params{workspace, static_cast<int64_t>(limit + 1)};
  if (cursor) {
    sql += " AND (period_start, id) < ($3, $4)";
    params.emplace_back(db::Timestamp(cursor_time((*cursor)[0])));
    params.emplace_back(cursor_uuid((*cursor)[1]));
  }
  sql += " ORDER BY period_start DESC, id DESC LIMIT $2";
  auto rows = co_await db_.query(sql, std::move(params));
  auto to_json = [](const db::Row& r) {
    return json::object{{"id", r.get<Uuid>(0).str()},
                        {"period_start", format_iso8601(r.get<db::Timestamp>(1))},
                        {"period_end", format_iso8601(r.get<db::Timestamp>(2))},
                        {"plan", r.get<std::string>(3)},
                        {"currency", r.get<std::string>(4)},
                        {"total_cents", r.get<int64_t>(5)},
                        {"status", r.get<std::string>(6)},
                        {"created_at", format_iso8601(r.get<db::Timestamp>(7))}};
  };
  auto key_of = [](const json::object& last) { return json::array{cursor_value(last.at("period_start")), last.at("id")}; };
  co_return page_json(rows, limit, to_json, key_of);
}

asio::awaitable<std::optional<json::object>> Billing::invoice(Uuid workspace, Uuid id) {
  auto rows = co_await db_.query(
      "SELECT i.period_start, i.period_end, i.plan, i.currency, i.total_cents, i.status, i.created_at, "
      "l.code, l.description, l.quantity, l.unit, l.amount_cents FROM content.invoices i "
      "JOIN content.invoice_lines l ON l.invoice_id = i.id WHERE i.id = $1 AND i.creator_id = $2 ORDER BY l.position",
      id, workspace);
  if (rows.empty()) co_return std::nullopt;
  const auto& r = rows.front();
  json::array lines;
  for (const auto& l : rows)
    lines.push_back(line_json(InvoiceLine{l.get<std::string>(7), l.get<std::string>(8), l.get<int64_t>(9),
                                          l.get<std::string>(10), l.get<int64_t>(11)}));
  co_return json::object{{"id", id.str()},
                         {"period_start", format_iso8601(r.get<db::Timestamp>(0))},
                         {"period_end", format_iso8601(r.get<db::Timestamp>(1))},
                         {"plan", r.get<std::string>(2)},
                         {"currency", r.get<std::string>(3)},
                         {"total_cents", r.get<int64_t>(4)},
                         {"status", r.get<std::string>(5)},
                         {"created_at", format_iso8601(r.get<db::Timestamp>(6))},
                         {"lines", std::move(lines)}};
}

}  // namespace huntaze::content
