// An http::Server with the standard pipeline on a free port, served by its own
// io_context threads for the lifetime of the object. Register routes on
// `router` before start().
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "http/server.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/http/middleware.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::test {

class TestServer {
 public:
  explicit TestServer(http::ServerConfig config = default_config(), int threads = 2)
      : config_(std::move(config)), threads_(threads), ioc_(threads) {
    config_.port = 0;
  }
  ~TestServer() { stop(); }

  static http::ServerConfig default_config() {
    http::ServerConfig c;
    c.host = "127.0.0.1";
    c.access_log = false;
    return c;
  }

  void start() {
    auto pipeline = http::build_pipeline({http::request_id(), http::observe(metrics, {.access_log = false}),
                                          http::security_headers(), http::cors(config_.cors), http::errors()},
                                         router);
    server_ = std::make_unique<http::Server>(ioc_, config_, router, std::move(pipeline), metrics);
    server_->start();
    for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { ioc_.run(); });
  }

  // Graceful shutdown with `grace`; blocks until it completes.
  void shutdown(std::chrono::milliseconds grace);

  void stop() {
    if (workers_.empty()) return;
    if (!shut_down_) shutdown(std::chrono::milliseconds(0));
    work_.reset();
    ioc_.stop();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  int port() const { return server_->port(); }
  http::Server& server() { return *server_; }
  boost::asio::io_context& ioc() { return ioc_; }

  metrics::Registry metrics;
  http::Router router;

 private:
  http::ServerConfig config_;
  int threads_;
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::unique_ptr<http::Server> server_;
  std::vector<std::thread> workers_;
  bool shut_down_ = false;
};

}  // namespace huntaze::test
