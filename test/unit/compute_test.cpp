// The compute pool really runs work on its own threads and hands results and
// exceptions back on the caller's executor.
#include <catch2/catch.hpp>
#include <stdexcept>
#include <thread>

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
