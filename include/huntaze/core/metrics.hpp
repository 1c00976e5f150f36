// Prometheus metrics: counters, gauges and histograms with bounded labels.
//
// A Registry owns metric families; a family hands out one child per label
// value set. Creating a child takes a lock; updating it is a lock-free atomic,
// so hot paths should keep the reference a family returns:
//
//   auto& requests = registry.counter("http_requests_total", "HTTP requests", {"route", "method", "status"});
//   requests.with({"/api/v1/fans/{id}", "GET", "200"}).inc();
//
// Labels must stay bounded: route templates, never raw paths or user ids.
// Thread-safety: every member is safe to call from any thread. References
// returned by the registry live as long as the registry.
#pragma once

#include <algorithm>
#include <atomic>
#include <span>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace huntaze::metrics {

class Counter {
 public:
  void inc(double by = 1.0) noexcept;
  // For totals that are counted elsewhere and sampled (CPU seconds from /proc).
  void set_total(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0) noexcept;
  void dec(double by = 1.0) noexcept { inc(-by); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  // Cumulative counts per bucket (the last is +Inf), plus sum and count.
  struct Snapshot {
    std::vector<uint64_t> cumulative;
    double sum;
    uint64_t count;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // one per bound plus +Inf
  std::atomic<double> sum_{0.0};
  std::atomic<uint64_t> count_{0};
};

// Latency buckets in seconds, from 100 µs to 10 s.
std::vector<double> latency_buckets();

enum class Kind { counter, gauge, histogram };

template <class Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> bounds = {})
      : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(std::move(bounds)) {}

  // The child for these label values (in the order the family declared its labels).
  Metric& with(std::initializer_list<std::string_view> values);
  Metric& with(const std::vector<std::string>& values);

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& labels() const noexcept { return labels_; }
  // Calls fn(label values, metric) for every child, under the family lock.
  void each(const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  // Orders label-value lists of strings or string_views alike, so that a
  // lookup on the hot path allocates nothing.
  struct LabelsLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
        return std::string_view(x) < std::string_view(y);
      });
    }
  };
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, LabelsLess> children_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Asking twice for the same name returns the same family (labels must match).
  Family<Counter>& counter(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help, std::vector<std::string> labels,
                               std::vector<double> bounds = latency_buckets());

  // Runs before every render: the place to sample values that are cheaper to
  // read on demand (process RSS, pool sizes) than to keep up to date.
  void on_collect(std::function<void()> fn);

  // The Prometheus text exposition format (version 0.0.4).
  std::string render() const;

 private:
  struct Entry {
    Kind kind;
    std::unique_ptr<Family<Counter>> counter;
    std::unique_ptr<Family<Gauge>> gauge;
    std::unique_ptr<Family<Histogram>> histogram;
  };
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, Entry>> families_;  // registration order
  std::vector<std::function<void()>> collectors_;
};

}  // namespace huntaze::metrics
