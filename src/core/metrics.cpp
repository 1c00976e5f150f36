#include "huntaze/core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace huntaze::metrics {

namespace {

void atomic_add(std::atomic<double>& a, double by) noexcept {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + by, std::memory_order_relaxed)) {
  }
}

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::ostringstream os;
    os << static_cast<long long>(v);
    return os.str();
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  return std::string(buf, res.ptr);
}

std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    out += (first ? "" : ",") + names[i] + "=\"" + escape_label(values[i]) + "\"";
    first = false;
  }
  if (!extra_name.empty()) out += (first ? "" : ",") + extra_name + "=\"" + extra_value + "\"";
  return out + "}";
}

template <class Metric>
std::unique_ptr<Metric> make_metric(const std::vector<double>& bounds) {
  if constexpr (std::is_same_v<Metric, Histogram>)
    return std::make_unique<Histogram>(bounds);
  else
    return std::make_unique<Metric>();
}

}  // namespace

void Counter::inc(double by) noexcept {
  atomic_add(value_, by);
}
void Gauge::inc(double by) noexcept {
  atomic_add(value_, by);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) noexcept {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  s.count = running;  // consistent with the buckets, unlike count_ read separately
  return s;
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& values) {
  if (values.size() != labels_.size())
    throw std::invalid_argument("metric " + name_ + ": expected " + std::to_string(labels_.size()) + " label values");
  std::lock_guard lock(mutex_);
  auto it = children_.find(values);
  if (it == children_.end()) it = children_.emplace(values, make_metric<Metric>(bounds_)).first;
  return *it->second;
}

template <class Metric>
Metric& Family<Metric>::with(std::initializer_list<std::string_view> values) {
  if (values.size() != labels_.size())
    throw std::invalid_argument("metric " + name_ + ": expected " + std::to_string(labels_.size()) + " label values");
  std::span<const std::string_view> key(values.begin(), values.size());
  std::lock_guard lock(mutex_);
  auto it = children_.find(key);
  if (it == children_.end())
    it = children_.emplace(std::vector<std::string>(values.begin(), values.end()), make_metric<Metric>(bounds_)).first;
  return *it->second;
}

template <class Metric>
void Family<Metric>::each(const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const {
  std::lock_guard lock(mutex_);
  for (const auto& [labels, metric] : children_) fn(labels, *metric);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>& Registry::counter(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  for (auto& [n, e] : families_)
    if (n == name) {
      if (e.kind != Kind::counter) throw std::invalid_argument("metric " + name + " registered with another type");
      return *e.counter;
    }
  Entry e{Kind::counter, std::make_unique<Family<Counter>>(name, help, std::move(labels)), nullptr, nullptr};
  auto& ref = *e.counter;
  families_.emplace_back(name, std::move(e));
  return ref;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  for (auto& [n, e] : families_)
    if (n == name) {
      if (e.kind != Kind::gauge) throw std::invalid_argument("metric " + name + " registered with another type");
      return *e.gauge;
    }
  Entry e{Kind::gauge, nullptr, std::make_unique<Family<Gauge>>(name, help, std::move(labels)), nullptr};
  auto& ref = *e.gauge;
  families_.emplace_back(name, std::move(e));
  return ref;
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels, std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  for (auto& [n, e] : families_)
    if (n == name) {
      if (e.kind != Kind::histogram) throw std::invalid_argument("metric " + name + " registered with another type");
      return *e.histogram;
    }
  Entry e{Kind::histogram, nullptr, nullptr,
          std::make_unique<Family<Histogram>>(name, help, std::move(labels), std::move(bounds))};
  auto& ref = *e.histogram;
  families_.emplace_back(name, std::move(e));
  return ref;
}

void Registry::on_collect(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(fn));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c();

  std::ostringstream out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, e] : families_) {
    switch (e.kind) {
      case Kind::counter:
        out << "# HELP " << name << ' ' << escape_help(e.counter->help()) << "\n# TYPE " << name << " counter\n";
        e.counter->each([&](const std::vector<std::string>& lv, const Counter& c) {
          out << name << label_set(e.counter->labels(), lv) << ' ' << format_value(c.value()) << '\n';
        });
        break;
      case Kind::gauge:
        out << "# HELP " << name << ' ' << escape_help(e.gauge->help()) << "\n# TYPE " << name << " gauge\n";
        e.gauge->each([&](const std::vector<std::string>& lv, const Gauge& g) {
          out << name << label_set(e.gauge->labels(), lv) << ' ' << format_value(g.value()) << '\n';
        });
        break;
      case Kind::histogram:
        out << "# HELP " << name << ' ' << escape_help(e.histogram->help()) << "\n# TYPE " << name << " histogram\n";
        e.histogram->each([&](const std::vector<std::string>& lv, const Histogram& h) {
          auto s = h.snapshot();
          const auto& names = e.histogram->labels();
          for (size_t i = 0; i < h.bounds().size(); ++i)
            out << name << "_bucket" << label_set(names, lv, "le", format_value(h.bounds()[i])) << ' '
                << s.cumulative[i] << '\n';
          out << name << "_bucket" << label_set(names, lv, "le", "+Inf") << ' ' << s.cumulative.back() << '\n';
          out << name << "_sum" << label_set(names, lv) << ' ' << format_value(s.sum) << '\n';
          out << name << "_count" << label_set(names, lv) << ' ' << s.count << '\n';
        });
        break;
    }
  }
  return out.str();
}

}  // namespace huntaze::metrics
