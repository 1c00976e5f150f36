#include "huntaze/jobs/registry.hpp"

#include <set>
#include <stdexcept>

namespace huntaze::jobs {

namespace {

bool valid_name(std::string_view name, size_t max) {
  if (name.empty() || name.size() > max) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || c == ':';
    if (!ok) return false;
  }
  return true;
}

void check_policy(std::string_view kind, const RetryPolicy& p) {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("job kind '" + std::string(kind) + "': " + what);
  };
  if (p.max_attempts < 1 || p.max_attempts > 1000) fail("max_attempts must be 1..1000");
  if (p.backoff_base.count() < 0 || p.backoff_max < p.backoff_base) fail("backoff_max must be >= backoff_base >= 0");
  if (p.jitter < 0.0 || p.jitter > 1.0) fail("jitter must be 0..1");
  if (p.timeout.count() < 1 || p.timeout > std::chrono::hours(24)) fail("timeout must be 1ms..24h");
}

}  // namespace

std::string subscription_kind(std::string_view subscription_name) {
  return "event:" + std::string(subscription_name);
}

void JobRegistry::add(std::string kind, Handler handler, KindOptions options) {
  if (!valid_name(kind, 128)) throw std::invalid_argument("invalid job kind name '" + kind + "'");
  if (!valid_name(options.queue, 64)) throw std::invalid_argument("invalid queue name '" + options.queue + "'");
  if (!handler) throw std::invalid_argument("job kind '" + kind + "' has no handler");
  check_policy(kind, options.policy);
  if (kinds_.contains(kind)) throw std::invalid_argument("job kind '" + kind + "' registered twice");
  KindSpec spec{kind, std::move(options.queue), options.policy, std::move(handler)};
  kinds_.emplace(std::move(kind), std::move(spec));
}

void JobRegistry::subscribe(Subscription subscription) {
  if (subscription.topic.empty()) throw std::invalid_argument("subscription '" + subscription.name + "' has no topic");
  add(subscription_kind(subscription.name), subscription.handler,
      KindOptions{subscription.queue, subscription.policy});
  subscriptions_.push_back(std::make_unique<Subscription>(std::move(subscription)));
}

void JobRegistry::set_policy(std::string_view kind, RetryPolicy policy) {
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) throw std::invalid_argument("unknown job kind '" + std::string(kind) + "'");
  check_policy(kind, policy);
  it->second.policy = policy;
}

const KindSpec* JobRegistry::find(std::string_view kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<const Subscription*> JobRegistry::subscribers(const Event& event) const {
  std::vector<const Subscription*> out;
  for (const auto& s : subscriptions_)
    if (s->topic == event.topic && s->filter.matches(event)) out.push_back(s.get());
  return out;
}

std::vector<const KindSpec*> JobRegistry::kinds() const {
  std::vector<const KindSpec*> out;
  for (const auto& [name, spec] : kinds_) out.push_back(&spec);
  return out;
}

std::vector<std::string> JobRegistry::queues() const {
  std::set<std::string> names;
  for (const auto& [name, spec] : kinds_) names.insert(spec.queue);
  return {names.begin(), names.end()};
}

bool EventFilter::matches(const Event& event) const {
  if (!types.empty()) {
    bool any = false;
    for (const auto& t : types) {
      if (t.size() >= 2 && t.ends_with(".*")) {
        std::string_view prefix(t.data(), t.size() - 1);  // keeps the dot
        any = std::string_view(event.type).starts_with(prefix);
      } else {
        any = t == event.type;
      }
      if (any) break;
    }
    if (!any) return false;
  }
  for (const auto& [key, value] : attributes) {
    auto it = event.attributes.find(key);
    if (it == event.attributes.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace huntaze::jobs
