// An io_context run by background threads for integration tests.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <thread>
#include <vector>

namespace huntaze::test {

namespace asio = boost::asio;

// An io_context run by background threads until it runs out of work; the
// destructor waits for that, so anything left running hangs the test.
class IoThreads {
 public:
  explicit IoThreads(int threads = 2) : guard_(asio::make_work_guard(ioc_)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  ~IoThreads() {
    guard_.reset();
    for (auto& t : threads_) t.join();
  }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  asio::any_io_executor executor() { return ioc_.get_executor(); }

  // Starts `work` on the I/O threads; get() the future for its result.
  template <class T>
  std::future<T> spawn(asio::awaitable<T> work) {
    return asio::co_spawn(ioc_, std::move(work), asio::use_future);
  }
  // Runs `work` on the I/O threads and waits for its result (or exception).
  template <class T>
  T block(asio::awaitable<T> work) {
    return spawn(std::move(work)).get();
  }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace huntaze::test
