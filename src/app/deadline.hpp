// Waiting for an operation with a deadline, without cancelling it.
//
// Database and Redis operations are not written to be torn down half-way, so
// instead of cancelling them on timeout, within() lets the operation run to
// completion in the background and simply stops waiting for it.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>

namespace huntaze::app {

// The operation's value, or nullopt if it did not finish within `timeout`.
// An exception from the operation propagates.
template <class T>
boost::asio::awaitable<std::optional<T>> within(boost::asio::awaitable<T> op, std::chrono::milliseconds timeout) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  using Channel = asio::experimental::concurrent_channel<void(boost::system::error_code, std::exception_ptr, T)>;
  auto ex = co_await asio::this_coro::executor;
  auto channel = std::make_shared<Channel>(ex, 1);
  asio::co_spawn(ex, std::move(op), [channel](std::exception_ptr e, T value) {
    channel->try_send(boost::system::error_code{}, e, std::move(value));
  });
  asio::steady_timer timer(ex, timeout);
  // The timer's wait completes with an error code, not an exception, when the
  // operation wins: throwing on every success cost a fifth of /readyz's CPU.
  auto outcome = co_await (channel->async_receive(asio::use_awaitable) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (outcome.index() == 1) co_return std::nullopt;
  auto [failure, value] = std::move(std::get<0>(outcome));
  if (failure) std::rethrow_exception(failure);
  co_return std::optional<T>(std::move(value));
}

}  // namespace huntaze::app
