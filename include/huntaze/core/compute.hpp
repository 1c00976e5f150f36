// The compute pool: threads for CPU-bound work (video decode, image encode,
// password hashing, large JSON builds) so that I/O threads never stall.
//
//   auto hash = co_await compute.run([&] { return argon2id(password); });
//
// run() hops to a pool thread, runs fn, and resumes the caller on its own
// executor with fn's result or exception. parallel_for() spreads parts of one
// CPU job (e.g. a video's decoders) over the pool from inside such work.
// Thread-safety: safe from any thread; owns its threads until stop().
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>

namespace huntaze {

class Compute {
 public:
  explicit Compute(int threads) : pool_(static_cast<size_t>(threads)), threads_(threads) {}
  ~Compute() { stop(); }
  Compute(const Compute&) = delete;
  Compute& operator=(const Compute&) = delete;

  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> run(F fn) {
    namespace asio = boost::asio;
    using R = std::invoke_result_t<F>;
    // co_spawn onto the pool, awaited with use_awaitable: fn runs on a pool
    // thread and the caller resumes on its own executor with the result or
    // the exception. (co_await post(pool, use_awaitable) would not do: post
    // hands the completion to the handler's associated executor, which is
    // the caller's, so fn would run on the I/O thread.)
    if constexpr (std::is_void_v<R>) {
      auto on_pool = [fn = std::move(fn)]() mutable -> asio::awaitable<void> {
        fn();
        co_return;
      };
      // Named before the co_await: GCC 12 miscompiles temporaries there.
      auto task = asio::co_spawn(pool_.get_executor(), std::move(on_pool), asio::use_awaitable);
      co_await std::move(task);
    } else {
      auto on_pool = [fn = std::move(fn)]() mutable -> asio::awaitable<R> { co_return fn(); };
      auto task = asio::co_spawn(pool_.get_executor(), std::move(on_pool), asio::use_awaitable);
      co_return co_await std::move(task);
    }
  }

  // fn on the pool when `heavy`, else right here: a hop costs two context
  // switches, worth paying only for work past about a millisecond (see
  // kInlineBytes).
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> run_if(bool heavy, F fn) {
    if (heavy) co_return co_await run(std::move(fn));
    co_return fn();
  }

  // Parsing, hashing or signing a request body up to this size takes well
  // under a millisecond: done on the I/O thread; larger ones go to the pool.
  static constexpr size_t kInlineBytes = 256 * 1024;

  // Runs part(0) .. part(parts - 1), each exactly once, on this thread and
  // on idle pool threads, and returns when all have finished; rethrows the
  // first exception a part threw (the other parts still run). Meant to be
  // called from work already on the pool: the caller takes parts itself
  // instead of only waiting, so a pool whose threads are all busy runs them
  // all here rather than deadlocking.
  void parallel_for(int parts, const std::function<void(int)>& part);

  int threads() const noexcept { return threads_; }
  // Waits for queued work to finish and joins the threads.
  void stop() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  int threads_;
};

}  // namespace huntaze
