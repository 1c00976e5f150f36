// Budget alerts as events: when a workspace (or the platform) reaches 80% or
// 100% of its monthly AI budget, Budgets calls its alert callback once per
// month; this turns each call into an event on the job queue's bus, so that
// notifications (email, in-app) subscribe to it instead of reading logs:
//
//   topic "ai", type "ai.budget_threshold",
//   data {"scope": "workspace"|"platform", "workspace_id": "<uuid>"|null,
//         "percent": 80|100, "spent_microdollars": n, "budget_microdollars": n,
//         "month": "2026-11"}
//   attributes {"scope": ..., "workspace_id": ... (workspace scope only)}
//
// The callback is synchronous (it runs inside Budgets::charge); publication
// happens in a coroutine of its own, retried a few times when the database
// is away, then logged as lost (the alert marker in Redis is already set).
//
// Ownership: borrows the database and queue, which must outlive drain().
// Thread-safety: the callback may be called from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "ai_router/budgets.hpp"

namespace huntaze {
namespace db {
class Database;
}
namespace jobs {
class JobQueue;
struct Event;
}
}  // namespace huntaze

namespace huntaze::ai_router {

inline constexpr const char* kBudgetEventTopic = "ai";
inline constexpr const char* kBudgetEventType = "ai.budget_threshold";

class BudgetAlertPublisher {
 public:
  BudgetAlertPublisher(boost::asio::any_io_executor executor, db::Database& database, jobs::JobQueue& queue);
  ~BudgetAlertPublisher();
  BudgetAlertPublisher(const BudgetAlertPublisher&) = delete;
  BudgetAlertPublisher& operator=(const BudgetAlertPublisher&) = delete;

  // What to pass to Budgets::on_alert. Valid while this object lives.
  Budgets::AlertCallback callback();

  // Waits (up to about five seconds) for publications in flight; later
  // alerts are only logged.
  boost::asio::awaitable<void> drain();

 private:
  struct State;
  static boost::asio::awaitable<void> publish(std::shared_ptr<State> state, jobs::Event event);
  std::shared_ptr<State> state_;
};

}  // namespace huntaze::ai_router
