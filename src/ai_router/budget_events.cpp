#include "ai_router/budget_events.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct BudgetAlertPublisher::State {
  State(asio::any_io_executor e, db::Database& d, jobs::JobQueue& q, const Clock& c)
      : executor(std::move(e)), database(d), queue(q), clock(c) {}
  asio::any_io_executor executor;
  db::Database& database;
  jobs::JobQueue& queue;
  const Clock& clock;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopped{false};
};

namespace {

std::string month_of(SysTime t) {
  const std::chrono::year_month_day day(std::chrono::floor<std::chrono::days>(t));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(day.year()), static_cast<unsigned>(day.month()));
  return buf;
}

jobs::Event make_event(const std::string& workspace, int percent, int64_t spent, int64_t budget,
                       const std::string& month) {
  const bool platform = workspace.empty();
  boost::json::object data;
  data["scope"] = platform ? "platform" : "workspace";
  data["workspace_id"] = platform ? boost::json::value(nullptr) : boost::json::value(workspace);
  data["percent"] = percent;
  data["spent_microdollars"] = spent;
  data["budget_microdollars"] = budget;
  data["month"] = month;
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
                                           jobs::JobQueue& queue, const Clock& clock)
    : state_(std::make_shared<State>(std::move(executor), database, queue, clock)) {}

BudgetAlertPublisher::~BudgetAlertPublisher() { state_->stopped = true; }

Budgets::AlertCallback BudgetAlertPublisher::callback() {
  return [s = state_](const std::string& workspace, int percent, int64_t spent, int64_t budget) {
    log::warn("AI budget threshold reached", {{"workspace", workspace.empty() ? "platform" : workspace},
                                              {"percent", percent},
                                              {"spent_microdollars", spent},
                                              {"budget_microdollars", budget}});
    if (s->stopped.load()) return;
    auto event = make_event(workspace, percent, spent, budget, month_of(s->clock.now()));
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
