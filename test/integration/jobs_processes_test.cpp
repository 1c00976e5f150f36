// Job workers as separate processes on one database, as a deployment runs
// them: several processes never run a job twice, the jobs of a killed process
// are rescued by another, a long job whose process keeps beating is never
// rescued, and a process stopped with SIGTERM hands its jobs back.
//
// The workers are test_job_worker (test/programs/job_worker.cpp); they write
// one row per run into public.job_runs, which is what these tests count.
#include <signal.h>

#include <catch2/catch.hpp>

#include "db_fixture.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/jobs/job_queue.hpp"
#include "huntaze/jobs/registry.hpp"
#include "jobs/pg_job_queue.hpp"
#include "support/child_process.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
using test::dbt::DbFixture;
namespace asio = boost::asio;

namespace {

constexpr auto kStartTimeout = 30s;
constexpr auto kExitTimeout = 30s;

// A fresh database for the worker processes, the tables their kinds write,
// and the queue the test enqueues through.
struct ProcessesFixture : DbFixture {
  ProcessesFixture() {
    test::admin_exec(url,
                     "CREATE TABLE public.job_runs (run bigint GENERATED ALWAYS AS IDENTITY, job_id bigint NOT NULL, "
                     "attempt int NOT NULL, pid int NOT NULL)");
    test::admin_exec(url, "CREATE TABLE public.job_done (job_id bigint NOT NULL, pid int NOT NULL)");
    // Same kind names as the worker processes; the handlers run there, never here.
    auto elsewhere = [](jobs::JobContext&) -> asio::awaitable<void> {
      throw std::logic_error("test kinds run in test_job_worker");
      co_return;
    };
    kinds.add("test.record", elsewhere);
    kinds.add("test.sleep", elsewhere);
    queue = jobs::make_pg_job_queue(kinds, clock, registry);
  }

  std::vector<int64_t> enqueue(std::vector<jobs::NewJob> batch) {
    auto results = block(queue->enqueue_many(*db, std::move(batch)));
    std::vector<int64_t> ids;
    for (const auto& r : results) ids.push_back(r.id);
    return ids;
  }
  std::vector<int64_t> enqueue_sleepers(int n, const std::string& payload) {
    return enqueue(
        std::vector<jobs::NewJob>(static_cast<size_t>(n), jobs::NewJob{.kind = "test.sleep", .payload = payload}));
  }

  // The first column of the first row of a query returning one bigint.
  int64_t number(const std::string& sql) {
    auto res = query(sql);
    return res.front().get<int64_t>(0);
  }
  // Runs of one job in order, as "attempt:pid,attempt:pid".
  std::string runs_of(int64_t job_id) {
    return test::admin_scalar(url,
                              "SELECT string_agg(attempt || ':' || pid, ',' ORDER BY run) FROM public.job_runs "
                              "WHERE job_id = " +
                                  std::to_string(job_id));
  }
  bool all_completed(int64_t n, std::chrono::milliseconds timeout) {
    return test::eventually([&] { return number("SELECT count(*) FROM jobs.jobs WHERE state = 'completed'") == n; },
                            timeout);
  }
  bool runs_reach(int64_t n, std::chrono::milliseconds timeout = 30s) {
    return test::eventually([&] { return number("SELECT count(*) FROM public.job_runs") >= n; }, timeout);
  }

  // The worker processes claim with their system clocks, so the queue must
  // stamp run_at with real time too.
  SystemClock clock;
  jobs::JobRegistry kinds;
  std::unique_ptr<jobs::JobQueue> queue;
};

// One test_job_worker process on the fixture's database.
struct WorkerProcess {
  WorkerProcess(const std::string& url, const std::vector<std::string>& options)
      : process(HUNTAZE_TEST_JOB_WORKER, with_db(url, options)) {}

  // Waits for "ready <worker id>": the worker row exists and it is claiming.
  void await_ready() { id = process.wait_for_line("ready ", kStartTimeout).substr(6); }
  std::string pid() const { return std::to_string(process.pid()); }
  // SIGTERM, then the exit code (-1 when it did not exit normally in time).
  int terminate() {
    process.signal(SIGTERM);
    auto exit = process.wait(kExitTimeout);
    return exit ? exit->code : -1;
  }

  static std::vector<std::string> with_db(const std::string& url, std::vector<std::string> options) {
    options.insert(options.begin(), {"--db", url});
    return options;
  }

  test::ChildProcess process;
  std::string id;  // jobs.workers.id
};

std::unique_ptr<WorkerProcess> start_worker(const std::string& url, const std::vector<std::string>& options = {}) {
  auto w = std::make_unique<WorkerProcess>(url, options);
  w->await_ready();
  return w;
}

}  // namespace

TEST_CASE("jobs processes: three worker processes run 10,000 jobs exactly once", "[jobs][processes]") {
  ProcessesFixture f;
  for (int b = 0; b < 10; ++b) f.enqueue(std::vector<jobs::NewJob>(1000, jobs::NewJob{.kind = "test.record"}));
  REQUIRE(f.number("SELECT count(*) FROM jobs.jobs WHERE state = 'available'") == 10000);

  // Started together (ready awaited after all three forks) so that they
  // compete for the same rows from the start.
  std::vector<std::unique_ptr<WorkerProcess>> workers;
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> options{"--concurrency", "16"};
    workers.push_back(std::make_unique<WorkerProcess>(f.url, options));
  }
  for (auto& w : workers) w->await_ready();

  REQUIRE(f.all_completed(10000, 180s));
  CHECK(f.number("SELECT count(*) FROM public.job_runs") == 10000);
  CHECK(f.number("SELECT count(DISTINCT job_id) FROM public.job_runs") == 10000);
  CHECK(f.number("SELECT count(*) FROM jobs.jobs j WHERE NOT EXISTS "
                 "(SELECT 1 FROM public.job_runs r WHERE r.job_id = j.id)") == 0);
  CHECK(f.number("SELECT count(*) FROM public.job_runs WHERE attempt <> 1") == 0);
  CHECK(f.number("SELECT count(*) FROM jobs.jobs WHERE attempt <> 1 OR worker_id IS NOT NULL") == 0);
  // Every run came from one of the three, and more than one did work.
  CHECK(f.number("SELECT count(*) FROM public.job_runs WHERE pid NOT IN (" + workers[0]->pid() + ", " +
                 workers[1]->pid() + ", " + workers[2]->pid() + ")") == 0);
  CHECK(f.number("SELECT count(DISTINCT pid) FROM public.job_runs") > 1);

  for (auto& w : workers) CHECK(w->terminate() == 0);
  CHECK(f.number("SELECT count(*) FROM jobs.workers") == 0);
}

TEST_CASE("jobs processes: the jobs of a killed worker process are rescued and run by another", "[jobs][processes]") {
  ProcessesFixture f;
  const std::vector<std::string> options{"--heartbeat-ms", "100", "--rescue-after-ms", "1000"};
  auto a = start_worker(f.url, options);
  // A minute on the first run (A's), 50 ms on the next (B's).
  auto ids = f.enqueue_sleepers(3, R"({"ms": 60000, "ms_after": 50})");
  REQUIRE(f.runs_reach(3));
  CHECK(f.number("SELECT count(*) FROM jobs.jobs WHERE state = 'running' AND worker_id = '" + a->id + "'") == 3);

  a->process.signal(SIGKILL);
  auto killed = a->process.wait(kExitTimeout);
  REQUIRE(killed);
  CHECK(killed->signal == SIGKILL);

  auto b = start_worker(f.url, options);
  REQUIRE(f.all_completed(3, 60s));
  for (int64_t id : ids) {
    INFO("job " << id);
    CHECK(f.runs_of(id) == "1:" + a->pid() + ",2:" + b->pid());
  }
  // They went back to the queue because of the rescue, recorded against A's attempt.
  CHECK(f.number("SELECT count(*) FROM jobs.jobs WHERE jsonb_array_length(errors) = 1 "
                 "AND errors @> '[{\"reason\": \"rescued\", \"attempt\": 1}]'") == 3);
  CHECK(f.number("SELECT count(*) FROM public.job_done WHERE pid = " + b->pid()) == 3);
  CHECK(f.number("SELECT count(*) FROM jobs.workers WHERE id = '" + a->id + "'") == 0);
  CHECK(b->terminate() == 0);
}

TEST_CASE("jobs processes: a long job of a beating worker is never rescued", "[jobs][processes]") {
  ProcessesFixture f;
  const std::vector<std::string> options{"--heartbeat-ms", "100", "--rescue-after-ms", "500"};
  auto a = start_worker(f.url, options);
  // Six times rescue_after, heartbeating all along.
  auto ids = f.enqueue_sleepers(1, R"({"ms": 3000})");
  REQUIRE(f.runs_reach(1));
  // B's rescuer passes every 100-200 ms while A's job runs.
  auto b = start_worker(f.url, options);

  REQUIRE(f.all_completed(1, 60s));
  CHECK(f.runs_of(ids[0]) == "1:" + a->pid());
  CHECK(test::admin_scalar(f.url, "SELECT errors::text FROM jobs.jobs WHERE id = " + std::to_string(ids[0])) == "[]");
  CHECK(f.number("SELECT count(*) FROM public.job_done WHERE pid = " + a->pid()) == 1);
  // A was never presumed dead: its row is the one it wrote before claiming
  // (a rescuer deletes the row; the next beat would write a new one).
  CHECK(f.number("SELECT count(*) FROM jobs.workers w JOIN jobs.jobs j ON w.started_at <= j.attempted_at "
                 "WHERE w.id = '" +
                 a->id + "' AND j.id = " + std::to_string(ids[0])) == 1);
  CHECK(a->terminate() == 0);
  CHECK(b->terminate() == 0);
}

TEST_CASE("jobs processes: SIGTERM hands running jobs back uncounted for another process", "[jobs][processes]") {
  ProcessesFixture f;
  auto a = start_worker(f.url, {"--grace-ms", "200"});
  auto ids = f.enqueue_sleepers(3, R"({"ms": 60000, "ms_after": 50})");
  REQUIRE(f.runs_reach(3));

  a->process.signal(SIGTERM);
  // Far sooner than the minute the jobs would need: A cancelled them after its grace.
  auto exit = a->process.wait(20s);
  REQUIRE(exit);
  CHECK(exit->code == 0);
  CHECK(f.number("SELECT count(*) FROM jobs.jobs WHERE state = 'available' AND attempt = 0 AND worker_id IS NULL "
                 "AND errors = '[]'") == 3);
  CHECK(f.number("SELECT count(*) FROM public.job_done") == 0);
  CHECK(f.number("SELECT count(*) FROM jobs.workers") == 0);

  auto b = start_worker(f.url);
  REQUIRE(f.all_completed(3, 60s));
  for (int64_t id : ids) {
    INFO("job " << id);
    CHECK(f.runs_of(id) == "1:" + a->pid() + ",1:" + b->pid());
  }
  CHECK(f.number("SELECT count(*) FROM jobs.jobs WHERE attempt = 1 AND errors = '[]'") == 3);
  CHECK(f.number("SELECT count(*) FROM public.job_done WHERE pid = " + b->pid()) == 3);
  CHECK(b->terminate() == 0);
}
