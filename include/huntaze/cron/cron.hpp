// Cron: named schedules that enqueue a job on every tick, with no leader.
//
//   cron.add({.name = "offers.activate", .spec = "@hourly", .kind = "offers.activate"});
//
// Every instance evaluates every schedule once a minute. A tick is claimed in
// the database (jobs.schedules.last_tick moves forward in the same
// transaction that inserts the tick's job, whose unique key is
// "cron:<name>:<tick>"), so each tick runs exactly once however many
// instances run. After downtime only the latest missed tick runs: one
// catch-up, not a burst.
//
// Specs: five fields (minute hour day-of-month month day-of-week, with
// lists, ranges, steps, names like MON or JAN) or @hourly, @daily, @weekly,
// @monthly, @yearly; evaluated in UTC or a named IANA time zone.
//
// Thread-safety: add() before start(); the rest from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/config.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::cron {

struct Schedule {
  std::string name;
  std::string spec;
  std::string timezone = "UTC";
  std::string kind;           // the job kind enqueued on each tick
  std::string payload = "{}";  // the job's payload; "tick" is added
};

struct ScheduleInfo {
  std::string name;
  std::string spec;
  std::string timezone;
  std::string kind;
  bool enabled = true;
  std::optional<SysTime> last_tick;
  std::optional<int64_t> last_job_id;
  SysTime next_tick;
};

// An operator's override of a registered schedule (`cron.schedules.<name>`).
struct ScheduleOverride {
  std::optional<std::string> spec;
  std::optional<std::string> timezone;
  bool enabled = true;
};

struct CronConfig {
  bool enabled = true;  // evaluate schedules in this process
  std::map<std::string, ScheduleOverride> schedules;
};

CronConfig parse_cron_config(config::Node node);

class Cron {
 public:
  Cron(db::Database& db, jobs::JobQueue& queue, const Clock& clock, CronConfig config);
  ~Cron();
  Cron(const Cron&) = delete;
  Cron& operator=(const Cron&) = delete;

  // Throws std::invalid_argument for a bad name, spec, time zone, kind or
  // payload, or a duplicate name; config overrides apply here.
  void add(Schedule schedule);
  // Throws config::ConfigError ("cron.schedules.<name>: no such schedule")
  // when the configuration overrides a schedule nobody registered. Call it
  // once every module has added its schedules; tick() and run() check too.
  void check_overrides() const;

  // Evaluates every enabled schedule at clock.now(): claims and enqueues the
  // ticks that are due. Returns how many jobs this call enqueued. A schedule
  // seen for the first time (no row in jobs.schedules) waits for its next
  // tick. A failure of one schedule is logged and does not stop the others.
  boost::asio::awaitable<int> tick();
  // Calls tick() about a second after every minute boundary until stop().
  // Returns at once when cron.enabled is false; throws only what
  // check_overrides() throws (before waiting) or on cancellation.
  boost::asio::awaitable<void> run();
  // Ends run() promptly; final (a later run() returns at once). Safe from any thread.
  void stop();

  // Every registered schedule, with its last claimed tick (if its row exists)
  // and its next tick after clock.now().
  boost::asio::awaitable<std::vector<ScheduleInfo>> list();
  // Enqueues the schedule's job now, outside its ticks (even when the
  // schedule is disabled), with "tick" = now and unique key
  // "cron:<name>:manual:<now>". nullopt: no such schedule.
  boost::asio::awaitable<std::optional<jobs::EnqueueResult>> run_now(const std::string& name);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huntaze::cron
