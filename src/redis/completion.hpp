// A caller's completion handler, type-erased so it can wait in a queue, plus
// outstanding work on its executor (as Asio's own operations keep while they
// are pending, so the caller's io_context cannot run out of work under it).
#pragma once

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <utility>

namespace huntaze::redis::detail {

namespace asio = boost::asio;

template <class Signature>
class Completion {
 public:
  Completion() = default;
  template <class Handler>
  Completion(Handler&& handler, const asio::any_io_executor& fallback)
      : handler_(std::forward<Handler>(handler)),
        work_(asio::prefer(asio::get_associated_executor(handler_, fallback),
                           asio::execution::outstanding_work.tracked)) {}

  Completion(Completion&&) noexcept = default;
  // any_completion_handler's own move assignment recurses without end in
  // Asio 1.26 (it passes an lvalue to its converting constructor), so move
  // by construction and swap.
  Completion& operator=(Completion&& other) noexcept {
    asio::any_completion_handler<Signature> taken(std::move(other.handler_));
    handler_.swap(taken);
    work_ = std::move(other.work_);
    return *this;
  }

  explicit operator bool() const noexcept { return static_cast<bool>(handler_); }

  // Where per-operation cancellation arrives. It must be taken from the
  // type-erased handler, not the original: any_completion_handler installs
  // its own forwarding handler in the original slot.
  asio::cancellation_slot cancellation_slot() const noexcept { return asio::get_associated_cancellation_slot(handler_); }

  // Never runs the handler inline: it is posted through `io` and from there
  // dispatched to the handler's own executor (the caller's coroutine), so no
  // caller code ever runs inside a hiredis callback or under our locks.
  // (asio::append is not used: wrapping an any_completion_handler in it makes
  // Asio 1.26 re-wrap the handler without end.)
  template <class... Args>
  void complete(const asio::any_io_executor& io, Args... args) {
    auto executor = asio::get_associated_executor(handler_, io);
    asio::post(io, asio::bind_executor(std::move(executor),
                                       [handler = std::move(handler_), ... args = std::move(args)]() mutable {
                                         std::move(handler)(std::move(args)...);
                                       }));
    work_ = asio::any_completion_executor();
  }

 private:
  asio::any_completion_handler<Signature> handler_;
  asio::any_completion_executor work_;
};

}  // namespace huntaze::redis::detail
