// A JobContext for running a registered job kind's handler directly in a
// test, without a queue or a worker: attempt 1 of 5, no deadline, never
// cancelled; heartbeat() counts its calls.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <string>

#include "huntaze/jobs/job_context.hpp"

namespace huntaze::test {

class FakeJobContext final : public jobs::JobContext {
 public:
  explicit FakeJobContext(std::string kind, std::string queue = "default")
      : kind_(std::move(kind)), queue_(std::move(queue)) {}

  int64_t id() const override { return 1; }
  const std::string& kind() const override { return kind_; }
  const std::string& queue() const override { return queue_; }
  int attempt() const override { return 1; }
  int max_attempts() const override { return 5; }
  const boost::json::value& payload() const override { return payload_; }
  SysTime deadline() const override { return SysTime::max(); }
  bool cancelled() const override { return false; }
  boost::asio::awaitable<void> heartbeat() override {
    ++heartbeats;
    co_return;
  }

  int heartbeats = 0;

 private:
  std::string kind_, queue_;
  boost::json::value payload_ = boost::json::object();
};

}  // namespace huntaze::test
