#include "ai_router/response_cache.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

#include "huntaze/core/log.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr int64_t kFormat = 1;  // bump with the "c1" in cache_key.hpp

metrics::Family<metrics::Counter>& lookups(metrics::Registry& m) {
  return m.counter("huntaze_ai_cache_lookups_total", "AI response cache lookups", {"result"});
}
metrics::Family<metrics::Counter>& stores(metrics::Registry& m) {
  return m.counter("huntaze_ai_cache_stores_total", "AI response cache stores", {"result"});
}
metrics::Family<metrics::Counter>& joins(metrics::Registry& m) {
  return m.counter("huntaze_ai_single_flight_joined_total",
                   "AI requests answered by an identical request's upstream call", {"scope"});
}

// Deletes KEYS[1] only if it still holds ARGV[1]: a lock only if it is still
// ours (after lock_ttl it may belong to another instance), an unreadable value
// only if nobody replaced it meanwhile.
const redis::Script& delete_if_equal() {
  static const redis::Script script(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0");
  return script;
}

bool read_string(const json::object& o, std::string_view name, std::string& out) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

bool read_int(const json::object& o, std::string_view name, int64_t& out) {
  const auto* v = o.if_contains(name);
  if (!v || !v->is_int64()) return false;
  out = v->get_int64();
  return true;
}

}  // namespace

std::string encode_cached(const Completion& c) {
  json::object o;
  o["v"] = kFormat;
  o["id"] = c.id;
  o["content"] = c.content;
  o["reasoning"] = c.reasoning;
  o["finish_reason"] = c.finish_reason;
  o["alias"] = c.alias;
  o["deployment"] = c.deployment;
  o["model"] = c.model;
  o["input_tokens"] = c.usage.input_tokens;
  o["output_tokens"] = c.usage.output_tokens;
  return json::serialize(o);
}

std::optional<Completion> decode_cached(std::string_view text) {
  // Model output is not guaranteed valid UTF-8 and the serializer passes
  // bytes through: read it back the same way.
  json::parse_options options;
  options.allow_invalid_utf8 = true;
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec, {}, options);
  if (ec || !parsed.is_object()) return std::nullopt;
  const auto& o = parsed.get_object();
  int64_t format = 0;
  Completion c;
  if (!read_int(o, "v", format) || format != kFormat) return std::nullopt;
  if (!read_string(o, "id", c.id) || !read_string(o, "content", c.content) ||
      !read_string(o, "reasoning", c.reasoning) || !read_string(o, "finish_reason", c.finish_reason) ||
      !read_string(o, "alias", c.alias) || !read_string(o, "deployment", c.deployment) ||
      !read_string(o, "model", c.model) || !read_int(o, "input_tokens", c.usage.input_tokens) ||
      !read_int(o, "output_tokens", c.usage.output_tokens))
    return std::nullopt;
  c.cache_hit = true;
  return c;
}

ResponseCache::ResponseCache(redis::Redis& redis, metrics::Registry& metrics, CacheConfig config)
    : redis_(redis),
      config_(config),
      hits_(lookups(metrics).with({"hit"})),
      misses_(lookups(metrics).with({"miss"})),
      lookup_errors_(lookups(metrics).with({"error"})),
      stored_(stores(metrics).with({"ok"})),
      skipped_(stores(metrics).with({"skipped"})),
      store_errors_(stores(metrics).with({"error"})),
      joined_process_(joins(metrics).with({"process"})),
      joined_instances_(joins(metrics).with({"instances"})),
      flights_([this] { joined_process_.inc(); }) {}

asio::awaitable<ResponseCache::Lookup> ResponseCache::read(const std::string& key) {
  Lookup out;
  redis::Reply reply;
  bool failed = false;
  bool wrong_type = false;  // not a string at all: unreadable too
  try {
    reply = co_await redis_.command("GET", key);
  } catch (const redis::RedisUnavailable&) {
    failed = true;
  } catch (const redis::RedisError& e) {
    wrong_type = std::string_view(e.what()).starts_with("WRONGTYPE");
    failed = !wrong_type;
  }
  if (failed) {
    out.found = Found::error;
    co_return out;
  }
  if (!wrong_type && reply.is_nil()) co_return out;
  // put() never stores more than max_value_bytes: anything larger was not
  // written by us (or under a larger limit) and is not worth parsing.
  const bool oversized = reply.str.size() > config_.max_value_bytes;
  if (!wrong_type && !oversized && reply.type == redis::Reply::Type::string) {
    out.value = decode_cached(reply.str);
    if (out.value) {
      out.found = Found::hit;
      co_return out;
    }
  }
  // Unreadable (another format, truncated, written by hand): it would miss
  // forever, so make room for a good answer. A string is deleted only if it
  // is still the bad one: another instance may have just stored a good one.
  // (Not an oversized one: sending it back to compare would cost more than
  // the rare good answer it might remove.)
  log::warn("ai cache: unreadable value deleted", {{"bytes", reply.str.size()}});
  const bool compare = !wrong_type && !oversized;
  std::vector<std::string> keys{key};
  std::vector<std::string> args;
  if (compare) args.push_back(std::move(reply.str));
  try {
    if (compare)
      co_await redis_.eval(delete_if_equal(), std::move(keys), std::move(args));
    else
      co_await redis_.command("DEL", key);
  } catch (const redis::RedisUnavailable&) {
  } catch (const redis::RedisError&) {
  }
  out.found = Found::error;
  co_return out;
}

asio::awaitable<std::optional<Completion>> ResponseCache::get(const std::string& key) {
  if (!config_.enabled) co_return std::nullopt;
  Lookup lookup = co_await read(key);
  switch (lookup.found) {
    case Found::hit:
      hits_.inc();
      break;
    case Found::miss:
      misses_.inc();
      break;
    case Found::error:
      lookup_errors_.inc();
      break;
  }
  co_return std::move(lookup.value);
}

asio::awaitable<void> ResponseCache::put(const std::string& key, const Completion& completion,
                                         std::chrono::seconds ttl) {
  if (!config_.enabled) co_return;
  const auto ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl);
  const std::string value = encode_cached(completion);
  if (ttl_ms.count() <= 0 || value.size() > config_.max_value_bytes) {
    skipped_.inc();
    co_return;
  }
  const std::string px = std::to_string(ttl_ms.count());
  bool failed = false;
  try {
    co_await redis_.command("SET", key, value, "PX", px);
  } catch (const redis::RedisUnavailable& e) {
    failed = true;
    log::debug("ai cache: store failed", {{"error", e.what()}});
  } catch (const redis::RedisError& e) {
    failed = true;
    log::warn("ai cache: store failed", {{"error", e.what()}});
  }
  (failed ? store_errors_ : stored_).inc();
}

asio::awaitable<bool> ResponseCache::try_lock(const std::string& lock_key, const std::string& token, bool& answered) {
  const std::string px = std::to_string(config_.lock_ttl.count());
  answered = true;
  try {
    auto reply = co_await redis_.command("SET", lock_key, token, "NX", "PX", px);
    co_return !reply.is_nil();
  } catch (const redis::RedisUnavailable&) {
    answered = false;
  } catch (const redis::RedisError&) {
    answered = false;
  }
  co_return false;
}

asio::awaitable<void> ResponseCache::unlock(const std::string& lock_key, const std::string& token) {
  std::vector<std::string> keys{lock_key};
  std::vector<std::string> args{token};
  try {
    co_await redis_.eval(delete_if_equal(), std::move(keys), std::move(args));
  } catch (const redis::RedisUnavailable&) {
    // It expires by itself after lock_ttl.
  } catch (const redis::RedisError& e) {
    log::warn("ai cache: lock release failed", {{"error", e.what()}});
  }
}

asio::awaitable<Flight> ResponseCache::across_instances(const std::string& key,
                                                        const std::function<asio::awaitable<Completion>()>& produce,
                                                        std::chrono::milliseconds wait) {
  Flight flight;
  if (!config_.enabled) {
    flight.completion = co_await produce();
    co_return flight;
  }

  const std::string lock_key = key + ":lock";
  const std::string token = Uuid::v7().str();
  bool answered = true;
  bool held = co_await try_lock(lock_key, token, answered);
  if (!held && answered) {
    // Another instance is asking upstream: wait for its answer, or for its
    // lock to go (it finished without storing, or died).
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) break;
      timer.expires_at(std::min<std::chrono::steady_clock::time_point>(now + config_.poll_every, until));
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) throw boost::system::system_error(ec);  // cancelled
      Lookup lookup = co_await read(key);
      if (lookup.found == Found::hit) {
        joined_instances_.inc();
        flight.completion = std::move(*lookup.value);
        flight.leader = false;
        co_return flight;
      }
      if (lookup.found == Found::error) break;  // Redis trouble: stop relying on it
      held = co_await try_lock(lock_key, token, answered);
      if (held || !answered) break;
    }
  }

  std::optional<Completion> value;
  std::exception_ptr error;
  try {
    value.emplace(co_await produce());
  } catch (...) {
    error = std::current_exception();
  }
  if (held) {
    // Release even when this coroutine was cancelled: otherwise the other
    // instances wait out lock_ttl. The release itself is not cancellable.
    const bool throw_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await unlock(lock_key, token);
    co_await asio::this_coro::throw_if_cancelled(throw_if_cancelled);
  }
  if (error) std::rethrow_exception(error);
  flight.completion = std::move(*value);
  co_return flight;
}

asio::awaitable<Flight> ResponseCache::once(const std::string& key,
                                            std::function<asio::awaitable<Completion>()> produce,
                                            std::chrono::milliseconds wait) {
  std::function<asio::awaitable<Flight>()> lead = [this, &key, &produce, wait] {
    return across_instances(key, produce, wait);
  };
  const auto give_up = std::chrono::steady_clock::now() + wait;
  auto outcome = co_await flights_.run(key, std::move(lead), give_up);
  if (!outcome)
    throw AiError(AiError::Kind::deadline, "the request's deadline passed while waiting for an identical request");
  Flight flight = std::move(outcome->value);
  if (!outcome->leader) flight.leader = false;
  co_return flight;
}

}  // namespace huntaze::ai_router
