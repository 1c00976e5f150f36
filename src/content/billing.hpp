// Usage billing: the monthly invoice of every workspace, and the Stripe
// webhook that keeps each workspace's plan status in step with its
// subscription.
//
// billing.monthly (cron, the 1st of each month) invoices the month before
// its tick: for each workspace that existed during the month and is not
// canceled, one invoice with the plan's price, AI usage beyond what the
// plan includes (at cost from ai.usage, plus the configured markup), and
// storage and videos beyond the plan (from media, through
// MediaUsageSource). The invoice and its lines are one transaction on a
// row unique per workspace and month: retries and concurrent runs make it
// once.
//
// Stripe events (already verified by the route) are processed once per
// event id, in the transaction that records the id: customer.subscription.*
// set the plan (by the price id of its first item) and status; invoice.paid
// and invoice.payment_failed set active and past_due. An event older than
// the last one applied to a workspace changes nothing.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "content/content_config.hpp"
#include "content/workspace_plans.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::content {

inline constexpr const char* kBillingMonthlyKind = "billing.monthly";

struct UsageFigures {
  int64_t ai_cost_micros = 0;
  MediaUsage media;
};

struct InvoiceLine {
  std::string code;  // plan | ai_usage | storage | videos
  std::string description;
  int64_t quantity = 0;
  std::string unit;  // month | usd_micros | bytes | videos
  int64_t amount_cents = 0;
};

// The lines of one month's invoice (pure: unit-tested).
std::vector<InvoiceLine> invoice_lines(const Plan& plan, const UsageFigures& usage, const BillingConfig& config,
                                       std::chrono::year_month month);

struct StripeOutcome {
  bool duplicate = false;
  std::string outcome;  // applied | ignored: <why>
};

class Billing {
 public:
  Billing(db::Database& db, const Clock& clock, WorkspacePlans& plans, MediaUsageSource* media,
          const BillingConfig& config);

  // Invoices `month` for every workspace; returns how many invoices this
  // call created (0 when they all existed). A workspace that fails is
  // logged and skipped; the call then throws once all others are done.
  boost::asio::awaitable<int> invoice_month(std::chrono::year_month month, jobs::JobContext* job);

  // One verified Stripe event (the request body). Throws ApiError 400 when
  // it is not an event.
  boost::asio::awaitable<StripeOutcome> stripe_event(const std::string& body);

  boost::asio::awaitable<boost::json::object> summary(Uuid workspace);
  boost::asio::awaitable<boost::json::object> invoices(Uuid workspace, int limit,
                                                       const std::optional<boost::json::array>& cursor);
  boost::asio::awaitable<std::optional<boost::json::object>> invoice(Uuid workspace, Uuid id);

 private:
  boost::asio::awaitable<bool> invoice_workspace(Uuid workspace, std::chrono::year_month month, int64_t ai_micros);

  db::Database& db_;
  const Clock& clock_;
  WorkspacePlans& plans_;
  MediaUsageSource* media_;
  const BillingConfig& config_;
};

}  // namespace huntaze::content
