// Wall-clock time as a dependency, so that time-based logic (retry backoff,
// cron ticks, rescue of dead workers) can be tested by moving a clock instead
// of sleeping.
//
// Only timestamps come from a Clock; waiting (timers, timeouts) still uses
// Asio's steady timers.
// Thread-safety: both implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>

namespace huntaze {

// Microsecond UTC time, the precision of PostgreSQL's timestamptz
// (the same type as db::Timestamp).
using SysTime = std::chrono::sys_time<std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SysTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SysTime now() const override {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  }
};

// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SysTime start) : micros_(start.time_since_epoch().count()) {}
  SysTime now() const override { return SysTime(std::chrono::microseconds(micros_.load())); }
  void set(SysTime t) { micros_.store(t.time_since_epoch().count()); }
  void advance(std::chrono::microseconds d) { micros_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace huntaze
