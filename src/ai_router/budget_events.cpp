#include "ai_router/budget_events.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <atomic>
#include <chrono>

#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct BudgetAlertPublisher::State {
  State(asio::any_io_executor e, db::Database& d, jobs::JobQueue& q)
      : executor(std::move(e)), database(d), queue(q) {}
  asio::any_io_executor executor;
  db::Database& database;
  jobs::JobQueue& queue;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopped{false};
};

namespace {

jobs::Event make_event(const BudgetAlert& alert) {
  const std::string& workspace = alert.workspace;
  const bool platform = workspace.empty();
  boost::json::object data;
  data["scope"] = platform ? "platform" : "workspace";
  data["workspace_id"] = platform ? boost::json::value(nullptr) : boost::json::value(workspace);
  data["percent"] = alert.percent;
  data["spent_microdollars"] = alert.spent;
  data["budget_microdollars"] = alert.budget;
  data["month"] = format_year_month(alert.month, '-');
  jobs::Event event;
  event.topic = kBudgetEventTopic;
  event.type = kBudgetEventType;
  event.data = boost::json::serialize(data);
  event.attributes["scope"] = platform ? "platform" : "workspace";
  if (!platform) event.attributes["workspace_id"] = workspace;
  return event;
}

}  // namespace

asio::awaitable<void> BudgetAlertPublisher::publish(std::shared_ptr<State> s, jobs::Event event) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  auto backoff = 1s;
  for (int attempt = 1;; ++attempt) {
    std::string error;
    try {
      co_await s->queue.publish(s->database, event);
      co_return;
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (attempt == 3 || s->stopped.load()) {
      log::error("AI budget alert event lost", {{"data", event.data}, {"error", error}});
      co_return;
    }
    log::warn("AI budget alert event not published yet; retrying", {{"attempt", attempt}, {"error", error}});
    pause.expires_after(backoff);
    co_await pause.async_wait(asio::use_awaitable);
    backoff *= 2;
  }
}

BudgetAlertPublisher::BudgetAlertPublisher(asio::any_io_executor executor, db::Database& database,
                                           jobs::JobQueue& queue)
    : state_(std::make_shared<State>(std::move(executor), database, queue)) {}

BudgetAlertPublisher::~BudgetAlertPublisher() { state_->stopped = true; }

Budgets::AlertCallback BudgetAlertPublisher::callback() {
  // Budgets logs each alert; this only publishes it.
  return [s = state_](const BudgetAlert& alert) {
    if (s->stopped.load()) return;
    auto event = make_event(alert);
    ++s->in_flight;
    asio::co_spawn(s->executor, publish(s, std::move(event)), [s](std::exception_ptr) { --s->in_flight; });
  };
}

asio::awaitable<void> BudgetAlertPublisher::drain() {
  state_->stopped = true;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (int i = 0; i < 100 && state_->in_flight.load() > 0; ++i) {
    pause.expires_after(50ms);
    co_await pause.async_wait(asio::use_awaitable);
  }
}

}  // namespace huntaze::ai_router
