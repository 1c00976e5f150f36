// LISTEN on a dedicated connection outside the pool (see db::Listener).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "huntaze/db/database.hpp"
#include "pg_connection.hpp"

namespace huntaze::db::pg {

// What the pool keeps (weakly) to close its listeners when it closes.
class ListenerControl {
 public:
  virtual ~ListenerControl() = default;
  virtual void close() = 0;
};

struct OpenedListener {
  std::unique_ptr<Listener> listener;
  std::weak_ptr<ListenerControl> control;
};

// Connects at once; throws DbUnavailable when the server cannot be reached.
// Later connection losses are handled inside next(): reconnect with backoff
// (100 ms doubling to 5 s), LISTEN again, deliver Notification{reconnected}.
asio::awaitable<OpenedListener> open_listener(asio::any_io_executor executor, ConnectOptions options);

}  // namespace huntaze::db::pg
