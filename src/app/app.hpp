// The composition root: builds every service and module from the
// configuration and runs them on one io_context. The only place that names
// concrete types (the PostgreSQL pool, the hiredis client, the Beast server).
//
// Thread-safety: start(), wait() and the commands from the main thread;
// request_stop() from anywhere (signal handlers go through Asio).
#pragma once

#include <memory>

#include "app/app_config.hpp"

namespace huntaze::app {

class App {
 public:
  explicit App(AppConfig config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Connects, migrates when database.migrate_on_start, binds the listeners
  // and starts the I/O threads. Throws on any start-up failure.
  void start();
  // The main listener's port (after start()).
  unsigned short port() const;
  // The admin listener's port, or 0 when metrics are on the main listener.
  unsigned short admin_port() const;
  // Begins a graceful shutdown (idempotent).
  void request_stop();
  // Blocks until the shutdown finished; returns the process exit code.
  int wait();

  // `huntaze serve`: start, stop on SIGINT/SIGTERM, wait.
  int serve();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `huntaze migrate [--status]` against the configured database.
int run_migrate(const AppConfig& config, bool status_only);

}  // namespace huntaze::app
