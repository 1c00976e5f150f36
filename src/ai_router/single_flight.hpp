// In-process single flight: while one caller computes the value for a key,
// callers asking for the same key wait for that value instead of computing it
// again.
//
//   SingleFlight<Completion> flights;
//   auto r = co_await flights.run(key, produce, give_up);  // r->leader: this caller ran produce()
//
// - The first caller for a key (the leader) runs produce() in its own
//   coroutine, so produce() may capture the caller's locals by reference.
// - Callers arriving while it runs (followers) wait without blocking a thread:
//   each flight has a concurrent_channel that nobody sends on; the leader
//   closes it when done, which wakes every pending receive at once (and makes
//   a late receive complete at once). Followers may be on any thread/executor.
// - A follower waits until its own `give_up` at most (its deadline may be
//   shorter than the leader's): then run() returns nullopt; the flight goes on.
// - If produce() throws, every follower rethrows the same exception.
// - A cancelled follower stops waiting (operation_aborted); the flight goes on.
// - A cancelled leader abandons the flight: its followers do not inherit the
//   cancellation; they start over, and one of them leads with its own
//   produce().
//
// Thread-safety: run() is safe from any number of coroutines on any thread.
// Values are copied to each follower.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace huntaze::ai_router {

namespace detail {
// Whether `error` is the operation_aborted a cancelled wait or call throws.
inline bool is_cancellation(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    return e.code() == boost::asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}
}  // namespace detail

template <class T>
class SingleFlight {
 public:
  struct Outcome {
    T value;
    bool leader = true;  // false: another caller's produce() made it
  };

  // Called each time a caller joins a flight already in progress (metrics, tests).
  explicit SingleFlight(std::function<void()> on_join = {}) : on_join_(std::move(on_join)) {}
  SingleFlight(const SingleFlight&) = delete;
  SingleFlight& operator=(const SingleFlight&) = delete;

  // nullopt only for a follower whose `give_up` passed before the flight ended.
  // `key` is taken by value: callers may co_spawn run() with a temporary.
  boost::asio::awaitable<std::optional<Outcome>> run(
      std::string key, std::function<boost::asio::awaitable<T>()> produce,
      std::chrono::steady_clock::time_point give_up = std::chrono::steady_clock::time_point::max()) {
    namespace asio = boost::asio;
    auto executor = co_await asio::this_coro::executor;
    for (;;) {
      std::shared_ptr<State> flight;
      bool leader = false;
      {
        std::lock_guard lock(mutex_);
        auto [it, inserted] = flights_.try_emplace(key);
        if (inserted) it->second = std::make_shared<State>(executor);
        leader = inserted;
        flight = it->second;
      }

      if (leader) {
        std::optional<T> value;
        std::exception_ptr error;
        try {
          value.emplace(co_await produce());
        } catch (...) {
          error = std::current_exception();
        }
        bool abandoned = false;
        if (error) {
          auto state = co_await asio::this_coro::cancellation_state;
          abandoned = state.cancelled() != asio::cancellation_type::none || detail::is_cancellation(error);
        }
        finish(key, flight, value, error, abandoned);
        if (error) std::rethrow_exception(error);
        std::optional<Outcome> led(Outcome{std::move(*value), true});
        co_return led;
      }

      if (on_join_) on_join_();
      // The result is read from the state, not the channel: the channel only wakes.
      bool timed_out = false;
      if (give_up == std::chrono::steady_clock::time_point::max()) {
        co_await flight->signal.async_receive(asio::as_tuple(asio::use_awaitable));
      } else {
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer timer(executor, give_up);
        auto first = co_await (flight->signal.async_receive(asio::as_tuple(asio::use_awaitable)) ||
                               timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        // The timer ending with an error was cancelled (by our own cancellation).
        timed_out = first.index() == 1 && !std::get<0>(std::get<1>(first));
      }
      {
        std::lock_guard lock(flight->mutex);
        if (flight->done && !flight->abandoned) {
          if (flight->error) std::rethrow_exception(flight->error);
          std::optional<Outcome> joined(Outcome{*flight->value, false});
          co_return joined;
        }
      }
      // Woken by our own cancellation or deadline, or the leader gave up: stop
      // if we are cancelled or out of time, otherwise start over (this time we
      // may lead).
      auto state = co_await asio::this_coro::cancellation_state;
      bool done = false;
      {
        std::lock_guard lock(flight->mutex);
        done = flight->done;
      }
      if (state.cancelled() != asio::cancellation_type::none)
        throw boost::system::system_error(asio::error::operation_aborted);
      if (timed_out) co_return std::nullopt;
      if (!done) throw boost::system::system_error(asio::error::operation_aborted);
    }
  }

  // Flights in progress (tests).
  size_t in_flight() const {
    std::lock_guard lock(mutex_);
    return flights_.size();
  }

 private:
  struct State {
    explicit State(const boost::asio::any_io_executor& executor) : signal(executor) {}
    std::mutex mutex;
    bool done = false;
    bool abandoned = false;
    std::optional<T> value;
    std::exception_ptr error;
    boost::asio::experimental::concurrent_channel<void(boost::system::error_code)> signal;
  };

  void finish(const std::string& key, const std::shared_ptr<State>& flight, const std::optional<T>& value,
              const std::exception_ptr& error, bool abandoned) {
    {
      // Gone from the map first: a caller arriving from now on starts afresh
      // (by then produce() has normally stored the answer for it to find).
      std::lock_guard lock(mutex_);
      auto it = flights_.find(key);
      if (it != flights_.end() && it->second == flight) flights_.erase(it);
    }
    {
      std::lock_guard lock(flight->mutex);
      flight->done = true;
      flight->abandoned = abandoned;
      if (!abandoned) {
        if (error)
          flight->error = error;
        else
          flight->value = value;
      }
    }
    flight->signal.close();  // wakes every follower; thread-safe on a concurrent_channel
  }

  std::function<void()> on_join_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<State>> flights_;
};

}  // namespace huntaze::ai_router
