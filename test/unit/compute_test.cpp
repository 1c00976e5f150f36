// The compute pool really runs work on its own threads and hands results and
// exceptions back on the caller's executor.
#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "huntaze/core/compute.hpp"
#include "support/harness.hpp"

using namespace huntaze;
namespace asio = boost::asio;

TEST_CASE("compute run executes on a pool thread and resumes on the caller's thread", "[compute]") {
  Compute compute(2);
  struct Seen {
    std::thread::id caller, worker, after;
    int value = 0;
  };
  Seen seen = test::run<Seen>([&]() -> asio::awaitable<Seen> {
    Seen s;
    s.caller = std::this_thread::get_id();
    auto work = [&s] {
      s.worker = std::this_thread::get_id();
      return 42;
    };
    s.value = co_await compute.run(std::move(work));
    s.after = std::this_thread::get_id();
    co_return s;
  });
  CHECK(seen.value == 42);
  CHECK(seen.worker != seen.caller);  // hashing a password must not stall an I/O thread
  CHECK(seen.after == seen.caller);   // one I/O thread here: back on it
}

TEST_CASE("compute run hands back exceptions and runs void work", "[compute]") {
  Compute compute(1);
  std::thread::id worker;
  const auto caller = test::run<std::thread::id>([&]() -> asio::awaitable<std::thread::id> {
    auto fails = [] { throw std::runtime_error("boom"); };
    bool thrown = false;
    try {
      co_await compute.run(std::move(fails));
    } catch (const std::runtime_error& e) {
      thrown = std::string(e.what()) == "boom";
    }
    if (!thrown) throw std::logic_error("the exception did not come back");
    auto note = [&worker] { worker = std::this_thread::get_id(); };
    co_await compute.run(std::move(note));
    co_return std::this_thread::get_id();
  });
  CHECK(worker != std::thread::id{});
  CHECK(worker != caller);
}

namespace {

// parallel_for from inside pool work, as the media pipeline calls it. With
// `meet`, each part waits (up to 10 s) until parts run on two threads at once.
std::vector<int> spread_over(Compute& compute, int parts, std::set<std::thread::id>* threads = nullptr) {
  std::vector<std::atomic<int>> runs(static_cast<size_t>(parts));
  std::mutex mutex;
  std::condition_variable met;
  test::run<int>([&]() -> asio::awaitable<int> {
    auto job = [&] {
      compute.parallel_for(parts, [&](int i) {
        runs[static_cast<size_t>(i)].fetch_add(1);
        if (!threads) return;
        std::unique_lock lock(mutex);
        threads->insert(std::this_thread::get_id());
        met.notify_all();
        met.wait_for(lock, std::chrono::seconds(10), [&] { return threads->size() >= 2; });
      });
      return 0;
    };
    co_return co_await compute.run(std::move(job));
  });
  std::vector<int> counts;
  for (auto& r : runs) counts.push_back(r.load());
  return counts;
}

}  // namespace

TEST_CASE("compute parallel_for runs every part once, on more than one thread", "[compute]") {
  Compute compute(2);
  std::set<std::thread::id> threads;
  const auto counts = spread_over(compute, 8, &threads);
  CHECK(counts == std::vector<int>(8, 1));
  CHECK(threads.size() == 2);  // the caller's thread and the pool's other one
}

TEST_CASE("compute parallel_for on a pool with no idle thread runs the parts itself", "[compute]") {
  Compute single(1);
  CHECK(spread_over(single, 5) == std::vector<int>(5, 1));
  CHECK(spread_over(single, 0).empty());
}

TEST_CASE("compute parallel_for rethrows a part's exception after every part ran", "[compute]") {
  Compute compute(2);
  std::atomic<int> ran{0};
  const bool thrown = test::run<bool>([&]() -> asio::awaitable<bool> {
    auto job = [&] {
      try {
        compute.parallel_for(6, [&](int i) {
          ran.fetch_add(1);
          if (i == 2) throw std::runtime_error("part 2 failed");
        });
      } catch (const std::runtime_error& e) {
        return std::string(e.what()) == "part 2 failed";
      }
      return false;
    };
    co_return co_await compute.run(std::move(job));
  });
  CHECK(thrown);
  CHECK(ran.load() == 6);
}

TEST_CASE("compute parallel_for does not wait for helpers queued behind busy pool threads", "[compute]") {
  Compute compute(2);
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0, finished = 0;
  bool released = false;
  std::atomic<int> waited_out{0};
  // Keeps one pool thread busy until released (or 10 s, which the test counts).
  auto blocker = [&] {
    std::unique_lock lock(mutex);
    ++started;
    changed.notify_all();
    if (!changed.wait_for(lock, std::chrono::seconds(10), [&] { return released; })) waited_out.fetch_add(1);
    ++finished;
    changed.notify_all();
  };
  std::vector<int> runs(4, 0);
  std::set<std::thread::id> where;
  const auto caller = std::this_thread::get_id();
  test::run<int>([&]() -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, compute.run(blocker), asio::detached);
    asio::co_spawn(ex, compute.run(blocker), asio::detached);
    asio::steady_timer timer(ex);
    auto both = [&] {
      std::lock_guard lock(mutex);
      return started == 2;
    };
    while (!both()) {
      timer.expires_after(std::chrono::milliseconds(1));
      co_await timer.async_wait(asio::use_awaitable);
    }
    // Every pool thread is busy: the helper parallel_for posts waits behind
    // them, and the caller must run all parts itself and return.
    compute.parallel_for(4, [&](int i) {
      std::lock_guard lock(mutex);
      ++runs[static_cast<size_t>(i)];
      where.insert(std::this_thread::get_id());
    });
    {
      std::lock_guard lock(mutex);
      released = true;
    }
    changed.notify_all();
    co_return 0;
  });
  compute.stop();
  CHECK(runs == std::vector<int>(4, 1));
  CHECK(where == std::set<std::thread::id>{caller});
  CHECK(waited_out.load() == 0);
  CHECK(finished == 2);
}
