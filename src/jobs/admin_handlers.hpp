// The jobs admin API's handlers (admin_jobs.cpp, admin_actions.cpp),
// registered by admin_routes.cpp.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/message.hpp"
#include "jobs/admin_routes.hpp"

namespace huntaze::jobs::admin {

namespace asio = boost::asio;

// Shared by every route; lives as long as the router.
struct Context {
  db::Database& db;
  const Clock& clock;
  int errors_kept;
};

// admin_jobs.cpp
asio::awaitable<http::Response> list_jobs(const Context& ctx, http::Request& req);
asio::awaitable<http::Response> list_dead_letters(const Context& ctx, http::Request& req);
asio::awaitable<http::Response> show_job(const Context& ctx, http::Request& req);

// admin_actions.cpp
asio::awaitable<http::Response> retry_job(const Context& ctx, http::Request& req);
asio::awaitable<http::Response> cancel_job(const Context& ctx, http::Request& req);
asio::awaitable<http::Response> discard_job(const Context& ctx, http::Request& req);
asio::awaitable<http::Response> replay_dead_letters(const Context& ctx, http::Request& req);

}  // namespace huntaze::jobs::admin
