#include "jobs/pg_job_queue.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "huntaze/core/time_format.hpp"
#include "huntaze/core/uuid.hpp"
#include "jobs/sql.hpp"

namespace huntaze::jobs {

namespace {

namespace asio = boost::asio;

constexpr size_t kMaxPayload = 1 << 20;  // payloads are references and parameters, not data
constexpr size_t kMaxBatch = 10'000;

bool valid_queue_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

bool looks_like_object(std::string_view json) {
  auto first = json.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && json[first] == '{';
}

// The columns of one job as the batch insert takes them (parallel arrays).
struct Columns {
  std::vector<std::string> queue, kind, payload, state, unique_key;
  std::vector<int64_t> priority, run_at_us, max_attempts, timeout_ms;

  void reserve(size_t n) {
    for (auto* v : {&queue, &kind, &payload, &state, &unique_key}) v->reserve(n);
    for (auto* v : {&priority, &run_at_us, &max_attempts, &timeout_ms}) v->reserve(n);
  }
};

class PgJobQueue final : public JobQueue {
 public:
  PgJobQueue(const JobRegistry& registry, const Clock& clock, metrics::Registry& metrics)
      : registry_(registry),
        clock_(clock),
        enqueued_(metrics.counter("huntaze_jobs_enqueued_total", "Jobs written to the queue", {"kind"})),
        published_(metrics.counter("huntaze_events_published_total", "Events published, by topic", {"topic"})) {}

  asio::awaitable<EnqueueResult> enqueue(db::Executor& ex, NewJob job) override {
    std::vector<NewJob> one;
    one.push_back(std::move(job));
    auto results = co_await enqueue_many(ex, std::move(one));
    co_return results.front();
  }

  asio::awaitable<std::vector<EnqueueResult>> enqueue_many(db::Executor& ex, std::vector<NewJob> jobs) override {
    std::vector<EnqueueResult> results(jobs.size());
    if (jobs.empty()) co_return results;
    if (jobs.size() > kMaxBatch) throw std::invalid_argument("at most 10000 jobs per batch");
    const SysTime now = clock_.now();
    Columns c;
    c.reserve(jobs.size());
    for (auto& job : jobs) append(c, job, now);

    const db::Timestamp created = now;
    auto inserted = co_await ex.query(sql::kEnqueue, std::move(c.queue), std::move(c.kind), std::move(c.payload),
                                      std::move(c.priority), std::move(c.state), std::move(c.run_at_us),
                                      std::move(c.max_attempts), c.unique_key, std::move(c.timeout_ms), created,
                                      std::string(kWakeChannel));
    // Rows come back in input order: (ordinal, id, inserted).
    std::vector<size_t> duplicates;
    for (const auto& row : inserted) {
      auto i = static_cast<size_t>(row.get<int64_t>(0) - 1);
      results[i].id = row.get<int64_t>(1);
      results[i].inserted = row.get<bool>(2);
      if (!results[i].inserted) duplicates.push_back(i);
    }
    if (!duplicates.empty()) co_await resolve_duplicates(ex, jobs, duplicates, results);
    for (size_t i = 0; i < jobs.size(); ++i)
      if (results[i].inserted) enqueued_.with({jobs[i].kind}).inc();
    co_return results;
  }

  asio::awaitable<int> publish(db::Executor& ex, Event event) override {
    auto subscribers = registry_.subscribers(event);
    published_.with({event.topic}).inc();
    if (subscribers.empty()) co_return 0;
    boost::json::object envelope;
    envelope["id"] = Uuid::v7().str();
    envelope["topic"] = event.topic;
    envelope["type"] = event.type;
    boost::system::error_code ec;
    auto data = boost::json::parse(event.data, ec);
    if (ec || !data.is_object()) throw std::invalid_argument("event data must be a JSON object");
    envelope["data"] = std::move(data);
    boost::json::object attributes;
    for (const auto& [k, v] : event.attributes) attributes[k] = v;
    envelope["attributes"] = std::move(attributes);
    envelope["published_at"] = format_iso8601(clock_.now());
    const std::string payload = boost::json::serialize(envelope);

    std::vector<NewJob> jobs;
    for (const auto* s : subscribers) {
      NewJob job;
      job.kind = subscription_kind(s->name);
      job.queue = s->queue;
      job.payload = payload;
      jobs.push_back(std::move(job));
    }
    auto results = co_await enqueue_many(ex, std::move(jobs));
    co_return static_cast<int>(results.size());
  }

 private:
  void append(Columns& c, const NewJob& job, SysTime now) const {
    const KindSpec* spec = registry_.find(job.kind);
    if (!spec) throw std::invalid_argument("unknown job kind '" + job.kind + "' (register it first)");
    const std::string& queue = job.queue.empty() ? spec->queue : job.queue;
    if (!valid_queue_name(queue)) throw std::invalid_argument("invalid queue name '" + queue + "'");
    if (job.payload.size() > kMaxPayload || !looks_like_object(job.payload))
      throw std::invalid_argument("job payload must be a JSON object of at most 1 MiB");
    if (job.priority < 0 || job.priority > 32767) throw std::invalid_argument("job priority must be 0..32767");
    if (job.max_attempts < 0 || job.max_attempts > 1000) throw std::invalid_argument("max_attempts must be 0..1000");
    if (job.unique_key && (job.unique_key->empty() || job.unique_key->size() > 512))
      throw std::invalid_argument("unique_key must be 1..512 characters");
    const SysTime run_at = job.run_at.value_or(now);
    auto timeout = job.timeout.count() > 0 ? job.timeout : spec->policy.timeout;
    if (timeout > std::chrono::hours(24)) throw std::invalid_argument("job timeout must be at most 24h");

    c.queue.push_back(queue);
    c.kind.push_back(job.kind);
    c.payload.push_back(job.payload);
    c.priority.push_back(job.priority);
    c.state.push_back(run_at > now ? "scheduled" : "available");
    c.run_at_us.push_back(run_at.time_since_epoch().count());
    c.max_attempts.push_back(job.max_attempts > 0 ? job.max_attempts : spec->policy.max_attempts);
    c.unique_key.push_back(job.unique_key.value_or(""));  // "" means none (text[] cannot carry NULL here)
    c.timeout_ms.push_back(timeout.count());
  }

  // A job whose unique key matched a live job reports that job's id. The
  // live job may finish between the insert and this lookup; then the key is
  // free again and the insert is retried once.
  asio::awaitable<void> resolve_duplicates(db::Executor& ex, const std::vector<NewJob>& jobs,
                                           const std::vector<size_t>& duplicates, std::vector<EnqueueResult>& results) {
    std::vector<std::string> keys;
    for (size_t i : duplicates) keys.push_back(*jobs[i].unique_key);
    auto live = co_await ex.query(sql::kLiveByUniqueKey, keys);
    std::map<std::string, int64_t> ids;
    for (const auto& row : live) ids[row.get<std::string>(0)] = row.get<int64_t>(1);
    std::vector<NewJob> again;
    std::vector<size_t> again_index;
    for (size_t i : duplicates) {
      if (auto it = ids.find(*jobs[i].unique_key); it != ids.end()) {
        results[i] = {it->second, false};
      } else {
        again.push_back(jobs[i]);
        again_index.push_back(i);
      }
    }
    if (again.empty()) co_return;
    auto retried = co_await enqueue_many(ex, std::move(again));
    for (size_t k = 0; k < again_index.size(); ++k) results[again_index[k]] = retried[k];
  }

  const JobRegistry& registry_;
  const Clock& clock_;
  metrics::Family<metrics::Counter>& enqueued_;
  metrics::Family<metrics::Counter>& published_;
};

}  // namespace

std::unique_ptr<JobQueue> make_pg_job_queue(const JobRegistry& registry, const Clock& clock,
                                            metrics::Registry& metrics) {
  return std::make_unique<PgJobQueue>(registry, clock, metrics);
}

}  // namespace huntaze::jobs
