#include "huntaze/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace huntaze::http {

// A segment trie: literal children by text, at most one parameter child.
struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;
  std::string param_name;
  std::vector<const Route*> routes;  // by method, at the end of a template
};

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 1;  // skip the leading '/'
  while (i <= path.size()) {
    size_t slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(i, slash - i));
    i = slash + 1;
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  if (wrapper_) handler = wrapper_(std::move(handler));
  if (pattern.empty() || pattern.front() != '/') throw std::invalid_argument("route must start with '/': " + pattern);
  Node* node = root_.get();
  if (pattern != "/") {
    for (auto seg : split_path(pattern)) {
      if (seg.empty()) throw std::invalid_argument("empty segment in route " + pattern);
      if (is_param(seg)) {
        std::string name(seg.substr(1, seg.size() - 2));
        if (!node->param) {
          node->param = std::make_unique<Node>();
          node->param_name = name;
        } else if (node->param_name != name) {
          throw std::invalid_argument("route " + pattern + ": parameter {" + name + "} conflicts with {" +
                                      node->param_name + "}");
        }
        node = node->param.get();
      } else {
        if (seg.find_first_of("{}") != std::string_view::npos)
          throw std::invalid_argument("route " + pattern + ": a parameter must be a whole segment");
        auto it = node->literals.find(seg);
        if (it == node->literals.end()) it = node->literals.emplace(std::string(seg), std::make_unique<Node>()).first;
        node = it->second.get();
      }
    }
    max_depth_ = std::max(max_depth_, split_path(pattern).size());
  }
  for (const Route* r : node->routes)
    if (r->method == method) throw std::invalid_argument("duplicate route " + method + " " + pattern);
  routes_.push_back(std::make_unique<Route>(Route{std::move(method), std::move(pattern), std::move(handler), options}));
  node->routes.push_back(routes_.back().get());
}

namespace {

using RawParams = std::vector<std::pair<const std::string*, std::string_view>>;

// Depth-first: a literal beats a parameter, but a parameter branch is still
// tried when the literal branch dead-ends (/a/new vs /a/{id}/edit).
const Router::Node* walk(const Router::Node* node, const std::vector<std::string_view>& segments, size_t depth,
                         RawParams& params) {
  if (depth == segments.size()) return node->routes.empty() ? nullptr : node;
  auto seg = segments[depth];
  if (seg.empty()) return nullptr;  // "//" or a trailing slash never matches
  if (auto it = node->literals.find(seg); it != node->literals.end()) {
    if (auto* found = walk(it->second.get(), segments, depth + 1, params)) return found;
  }
  if (node->param) {
    params.emplace_back(&node->param_name, seg);
    if (auto* found = walk(node->param.get(), segments, depth + 1, params)) return found;
    params.pop_back();
  }
  return nullptr;
}

}  // namespace

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  if (path.empty() || path.front() != '/') return m;
  RawParams raw;
  const Node* node = root_.get();
  if (path != "/") {
    auto segments = split_path(path);
    if (segments.size() > max_depth_) return m;
    node = walk(root_.get(), segments, 0, raw);
  } else if (node->routes.empty()) {
    node = nullptr;
  }
  if (!node) return m;

  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  for (const Route* r : node->routes) {
    if (r->method == wanted) {
      m.route = r;
      break;
    }
  }
  if (!m.route) {
    for (const Route* r : node->routes) {
      m.allowed.push_back(r->method);
      if (r->method == "GET") m.allowed.push_back("HEAD");
    }
    std::sort(m.allowed.begin(), m.allowed.end());
    return m;
  }
  for (const auto& [name, value] : raw) {
    auto decoded = percent_decode(value, false);
    if (!decoded) {
      m.route = nullptr;
      m.bad_path = true;
      return m;
    }
    m.params.emplace_back(*name, std::move(*decoded));
  }
  return m;
}

}  // namespace huntaze::http
