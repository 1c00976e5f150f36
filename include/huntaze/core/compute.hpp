// The compute pool: threads for CPU-bound work (video decode, image encode,
// password hashing, large JSON builds) so that I/O threads never stall.
//
//   auto hash = co_await compute.run([&] { return argon2id(password); });
//
// run() hops to a pool thread, runs fn, and resumes the caller on its own
// executor with fn's result or exception.
// Thread-safety: safe from any thread; owns its threads until stop().
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
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
    auto home = co_await asio::this_coro::executor;
    co_await asio::post(pool_.get_executor(), asio::use_awaitable);
    std::exception_ptr failure;
    if constexpr (std::is_void_v<R>) {
      try {
        fn();
      } catch (...) {
        failure = std::current_exception();
      }
      co_await asio::post(home, asio::use_awaitable);
      if (failure) std::rethrow_exception(failure);
    } else {
      std::optional<R> value;
      try {
        value.emplace(fn());
      } catch (...) {
        failure = std::current_exception();
      }
      co_await asio::post(home, asio::use_awaitable);
      if (failure) std::rethrow_exception(failure);
      co_return std::move(*value);
    }
  }

  int threads() const noexcept { return threads_; }
  // Waits for queued work to finish and joins the threads.
  void stop() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
  int threads_;
};

}  // namespace huntaze
