// Method + path-template routing.
//
//   router.get("/api/v1/fans/{id}", handler);
//   router.post("/api/v1/ingest/messages", handler, {.body_limit = 8 << 20});
//
// A template is literal segments and {name} parameters, one segment each.
// Literal segments win over parameters. A path that matches no template is
// 404; one that matches with another method is 405 with Allow.
// Thread-safety: add routes before the server starts; match() is then safe
// from any thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "huntaze/http/message.hpp"

namespace huntaze::http {

using Handler = std::function<asio::awaitable<Response>(Request&)>;

struct RouteOptions {
  // Overrides server.body_limit for this route.
  std::optional<size_t> body_limit;
  // The handler reads the body itself through Request::body_reader, in
  // pieces, instead of receiving it whole in Request::body; body_limit then
  // bounds the streamed total and may exceed what memory could hold.
  bool streamed_body = false;
};

struct Route {
  std::string method;
  std::string pattern;
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Throws std::invalid_argument for a malformed template or a duplicate.
  void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  void get(std::string pattern, Handler h, RouteOptions o = {}) { add("GET", std::move(pattern), std::move(h), o); }
  void post(std::string pattern, Handler h, RouteOptions o = {}) { add("POST", std::move(pattern), std::move(h), o); }
  void put(std::string pattern, Handler h, RouteOptions o = {}) { add("PUT", std::move(pattern), std::move(h), o); }
  void patch(std::string pattern, Handler h, RouteOptions o = {}) { add("PATCH", std::move(pattern), std::move(h), o); }
  void del(std::string pattern, Handler h, RouteOptions o = {}) { add("DELETE", std::move(pattern), std::move(h), o); }

  // Routes added while a wrapper is set are registered as wrapper(handler):
  // the composition root puts all of a module's routes behind the auth
  // guard this way. Unset with set_wrapper({}).
  using Wrapper = std::function<Handler(Handler)>;
  void set_wrapper(Wrapper wrapper) { wrapper_ = std::move(wrapper); }

  struct Match {
    const Route* route = nullptr;  // set when found
    std::vector<std::pair<std::string, std::string>> params;
    // When route is null: the methods the path accepts (405), or empty (404).
    std::vector<std::string> allowed;
    // The path had a malformed percent-escape in a parameter.
    bool bad_path = false;
  };
  // HEAD matches GET routes.
  Match match(std::string_view method, std::string_view path) const;

  struct Node;  // the segment trie (router.cpp)

 private:
  Wrapper wrapper_;
  size_t max_depth_ = 0;
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace huntaze::http
