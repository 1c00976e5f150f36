// The job kinds and event subscriptions this binary knows, registered by the
// modules at start-up (Module::register_jobs(JobRegistry&)).
//
// Every process of a deployment runs the same binary and therefore has the
// same registry: enqueueing a kind nobody registered is a programming error
// (std::invalid_argument), caught in tests rather than left in the table.
//
// Thread-safety: add() and subscribe() during start-up, from one thread;
// afterwards the registry is read-only and safe to share.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/jobs/events.hpp"
#include "huntaze/jobs/job.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::jobs {

using Handler = std::function<boost::asio::awaitable<void>(JobContext&)>;

struct KindOptions {
  std::string queue = "default";
  RetryPolicy policy;
};

struct Subscription {
  std::string name;  // its jobs are of kind "event:" + name
  std::string topic;
  EventFilter filter;
  std::string queue = "default";
  RetryPolicy policy;
  Handler handler;
};

struct KindSpec {
  std::string name;
  std::string queue;
  RetryPolicy policy;
  Handler handler;
};

class JobRegistry {
 public:
  // Throws std::invalid_argument for an empty, over-long or duplicate kind
  // name, a bad queue name, or a policy out of range.
  void add(std::string kind, Handler handler, KindOptions options = {});
  // Registers the subscription's job kind too.
  void subscribe(Subscription subscription);

  // Replaces a kind's retry policy (operators tune kinds in config).
  void set_policy(std::string_view kind, RetryPolicy policy);

  const KindSpec* find(std::string_view kind) const;
  // Subscriptions whose topic and filter match the event.
  std::vector<const Subscription*> subscribers(const Event& event) const;
  std::vector<const KindSpec*> kinds() const;
  // Every queue some kind was registered on.
  std::vector<std::string> queues() const;

 private:
  std::map<std::string, KindSpec, std::less<>> kinds_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
};

// The job kind that carries a subscription's events.
std::string subscription_kind(std::string_view subscription_name);

}  // namespace huntaze::jobs
