// Drives a hiredis async context from Asio: the event hooks hiredis calls
// (ev.addRead/delRead/addWrite/delWrite/cleanup) become async_wait()s on a
// posix::stream_descriptor watching the context's socket.
//
// Threading: hiredis contexts are not thread-safe, so every wait completes on
// `strand` and every hiredis call made by the adapter happens there; the
// owner must make its own hiredis calls on the same strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include <functional>

struct redisAsyncContext;

namespace huntaze::redis::detail {

using Strand = boost::asio::strand<boost::asio::any_io_executor>;

// Attaches `ac` (freshly connected, without error) to `strand`. `on_free` runs
// once, on the strand and from inside hiredis, when hiredis releases the
// context (error, disconnect or redisAsyncFree); whatever it captures is kept
// alive until hiredis has finished with the context, so it may own whatever
// ac->data points to. Throws on failure, leaving `ac` untouched.
void attach_asio(redisAsyncContext* ac, const Strand& strand, std::function<void()> on_free);

}  // namespace huntaze::redis::detail
