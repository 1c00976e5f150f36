// Per-workspace AI budgets and rate limits: what the model router asks
// before a call (admit) and tells after it (charge).
//
//   auto admission = co_await budgets.admit(req.workspace, estimated_tokens);  // throws AiError
//   if (admission == Budgets::Admission::downgrade) route = cheapest_route;
//   Completion c = ...;
//   co_await budgets.charge(req.workspace, c.cost_micros, c.usage.input_tokens + c.usage.output_tokens,
//                           estimated_tokens);
//
// State lives in Redis so that every instance sees the same numbers:
//   huntaze:ai:budget:<YYYYMM>:ws:<uuid>        a workspace's spend this month (µ$)
//   huntaze:ai:budget:<YYYYMM>:platform         everyone's spend this month, platform calls included
//   <counter>:alert80, <counter>:alert100       "this alert was sent" markers (SET NX)
//   huntaze:ai:rate:rpm:<uuid>, ...:tpm:<uuid>  rate windows (budget_rate.hpp)
// Months are UTC calendar months of clock.now(); month keys expire 40 days
// after their last write, so a month starts from zero without any reset.
//
// The counters are a fast copy of the usage log (ai.usage), which is the
// record: reconcile() (the ai.budget_reconcile job) rewrites them from it,
// so that a counter that missed charges (Redis down, a lost reply), or
// counted more than the log of a workspace with rows this month, does not
// drift for long. A workspace with no rows in the log this month (all its
// rows lost) keeps its counter until the month ends. A charge that
// lands between reconcile's read of the log and its write is lost until the
// next run; the log's own batching lag has the same effect.
//
// When Redis is unavailable (or answers an error) nothing fails: the rate
// limits apply per process (LocalRateLimiter) and spend is compared with an
// in-process copy of each counter, seeded from the last value this process
// read and increased by its own charges; each fallback counts in
// huntaze_ai_budget_fallback_total. Alerts sent from the fallback are
// marked in process only: another instance, or this one once Redis is back,
// may send the same alert again (rather than none at all).
//
// Metrics (no workspace ids in labels):
//   huntaze_ai_budget_rejections_total{reason=rpm|tpm|workspace_budget|platform_budget}
//   huntaze_ai_budget_downgrades_total, huntaze_ai_budget_alerts_total{percent=80|100},
//   huntaze_ai_budget_fallback_total.
//
// Thread-safety: every member is safe from any number of coroutines on any
// thread, except on_alert(), which is called once before use. redis, db,
// clock and metrics must outlive the Budgets.
#pragma once

#include "huntaze/ai_router/budget_source.hpp"

#include <boost/asio/awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ai_router/budget_rate.hpp"
#include "huntaze/ai_router/router.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/registry.hpp"
#include "huntaze/redis/redis.hpp"

namespace huntaze::ai_router {

struct BudgetConfig {
  int64_t workspace_monthly_micros = 0;  // default budget per workspace, µ$ per UTC calendar month; 0 = none
  int64_t platform_monthly_micros = 0;   // all workspaces and the platform together; 0 = none
  int workspace_rpm = 0;                 // requests per minute per workspace; 0 = unlimited
  int workspace_tpm = 0;                 // tokens per minute per workspace (estimated before, corrected after); 0 = unlimited
  bool downgrade = false;                // over budget: answer from the cheapest route instead of refusing

  bool operator==(const BudgetConfig&) const = default;
};

// A budget threshold reached: sent once per counter and month.
struct BudgetAlert {
  std::string workspace;          // "" for the platform's budget
  std::chrono::year_month month;  // the month the spend counts for (UTC)
  int percent = 0;                // 80 or 100
  int64_t spent = 0;              // micro-dollars, when the threshold was crossed
  int64_t budget = 0;             // micro-dollars
};

class Budgets {
 public:
  Budgets(redis::Redis& redis, db::Database& db, const Clock& clock, metrics::Registry& metrics, BudgetConfig config);
  Budgets(const Budgets&) = delete;
  Budgets& operator=(const Budgets&) = delete;

  enum class Admission { ok, downgrade };

  // Before a request. workspace: a UUID, or "" for the platform's own calls
  // (only the platform budget applies to them; no rate limits). Throws
  // AiError(bad_request) for any other workspace string;
  // AiError(budget_exceeded) when the workspace's month spend (or the
  // platform's) is at or over its budget and downgrade is off;
  // AiError(rate_limited, retry_after) when the workspace's RPM or TPM window
  // is full (the request then takes nothing from either window). Returns
  // downgrade when over budget and downgrade is on.
  boost::asio::awaitable<Admission> admit(const std::string& workspace, int64_t estimated_tokens);

  // After a call: adds the real cost to the workspace's and the platform's
  // counters (cost 0, a cache hit, charges nothing) and corrects the TPM
  // window by tokens - estimated_tokens. Pass the estimate given to admit()
  // (0 when admit() was not asked), or the window counts the estimate and the
  // real tokens both. A cache hit or a failed call passes cost 0 and tokens 0
  // so that its estimate is given back. Reaching 80% and 100% of a budget
  // calls the alert callback once per counter and month (workspace "" for the
  // platform budget).
  boost::asio::awaitable<void> charge(const std::string& workspace, int64_t cost_micros, int64_t tokens,
                                      int64_t estimated_tokens = 0);

  // Month-to-date spend as the counters say (what admit() compares); "" is
  // the platform total.
  boost::asio::awaitable<int64_t> spent(const std::string& workspace);

  // Rewrites this month's counters from the usage log: every workspace with
  // rows this month and the platform total. Returns how many workspace
  // counters it wrote. Throws when the database or Redis cannot be reached
  // (the job retries); the in-process copies are updated either way.
  boost::asio::awaitable<int> reconcile();

  // Called for each alert. Set once, before use.
  using AlertCallback = std::function<void(const BudgetAlert&)>;
  void on_alert(AlertCallback callback);
  // Per-workspace budgets (the plans of billing). Set once, before use; the
  // source must outlive the Budgets.
  void set_budget_source(BudgetSource* source) { source_ = source; }

 private:
  struct Counter {
    std::string key;
    int64_t budget = 0;
    std::string alert_workspace;  // what the alert callback is told
    const char* reason;           // rejection label when it is over budget
  };
  // `workspace_budget`: the workspace's budget (the source's, else config's).
  std::vector<Counter> counters(const std::string& workspace, const std::string& month,
                                int64_t workspace_budget) const;
  // The source's answer for the workspace; nullopt without a source or an answer.
  boost::asio::awaitable<std::optional<int64_t>> own_budget(const std::string& workspace);
  boost::asio::awaitable<std::vector<int64_t>> read(const std::vector<Counter>& counters, const std::string& month);
  std::vector<BudgetAlert> charge_locally(const std::vector<Counter>& counters, std::chrono::year_month month,
                                         int64_t cost);
  void roll_month(const std::string& month);  // mutex_ held
  void remember(const std::string& month, const std::string& key, int64_t value);
  void remember_charged(const std::string& month, const Counter& counter, int64_t value);
  void fire(const std::vector<BudgetAlert>& alerts);
  // Runs `op` (a coroutine talking to Redis): true when Redis answered,
  // false when it was unavailable or answered an error (noted by
  // fell_back): the caller then uses its in-process copy.
  template <class Op>
  boost::asio::awaitable<bool> through_redis(const char* what, Op& op);
  void fell_back(const char* what, const std::exception& e);
  void answered();

  redis::Redis& redis_;
  db::Database& db_;
  const Clock& clock_;
  BudgetConfig config_;
  RedisRateLimiter redis_rate_;
  LocalRateLimiter local_rate_;
  AlertCallback alert_;
  BudgetSource* source_ = nullptr;

  metrics::Family<metrics::Counter>& rejections_;
  metrics::Counter& downgrades_;
  metrics::Family<metrics::Counter>& alerts_;
  metrics::Counter& fallbacks_;
  std::atomic<bool> degraded_{false};  // the last Redis call failed (logging only)

  // The in-process copies of the month's counters (fallback) and alert
  // markers sent from the fallback; cleared when the month changes.
  std::mutex mutex_;
  std::string local_month_;
  std::map<std::string, int64_t> local_spend_;
  std::set<std::string> local_alerts_;
};

inline constexpr const char* kBudgetReconcileKind = "ai.budget_reconcile";

// Registers the job kind (queue "default") that runs budgets.reconcile().
// Scheduling it (hourly, say) is the caller's business. budgets must outlive
// the registry's use.
void register_budget_jobs(jobs::JobRegistry& registry, Budgets& budgets);

}  // namespace huntaze::ai_router
