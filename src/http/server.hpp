// The HTTP/1.1 server: Beast, one coroutine per connection on its own strand.
//
// Each connection reads one request at a time (pipelined requests wait in a
// bounded buffer and are answered in order), with separate timeouts for the
// idle wait, the header and the body, and answers limit violations itself:
// 431 for oversized headers, 413 for bodies over the route's limit, 400 for
// malformed requests, 503 when max_connections is reached. Everything else
// goes through the pipeline built by build_pipeline().
//
// Only the composition root and tests name this type.
// Thread-safety: start() and shutdown() from one thread; the server itself
// runs on the io_context's threads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>

#include "huntaze/core/metrics.hpp"
#include "huntaze/http/config.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::http {

class Server {
 public:
  // `router` supplies per-route body limits and must outlive the server;
  // `pipeline` answers every well-formed request.
  Server(boost::asio::io_context& ioc, ServerConfig config, const Router& router, Handler pipeline,
         metrics::Registry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. Throws boost::system::system_error when the
  // address cannot be bound.
  void start();
  // The bound port (useful with port 0).
  unsigned short port() const;
  size_t open_connections() const;

  // Stops accepting and closes idle keep-alive connections at once; requests
  // in flight may finish within `grace` (their connections then close), after
  // which whatever is left is cut. Completes when no connection is open.
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace huntaze::http
