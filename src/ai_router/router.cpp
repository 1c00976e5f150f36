// The routing loop: resolve the task to aliases, try deployments by weight
// among healthy ones, retry transient failures within the deadline, fall
// back alias by alias, and account for what happened.
#include <boost/asio.hpp>
#include <cmath>
#include <mutex>
#include <random>

#include "ai_router/budgets.hpp"
#include "ai_router/cache_key.hpp"
#include "ai_router/make_router.hpp"
#include "ai_router/prompt_samples.hpp"
#include "ai_router/response_cache.hpp"
#include "ai_router/router_metrics.hpp"
#include "ai_router/templates.hpp"
#include "ai_router/upstream.hpp"
#include "ai_router/upstream_audio.hpp"
#include "ai_router/usage_log.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxAudioBytes = 25 << 20;

// A deployment's requests and tokens in the current minute, against its
// rpm/tpm quota. Counted per process: with several instances, give each a
// share of the provider's quota.
class MinuteWindow {
 public:
  // Takes a request slot unless the minute's requests or tokens are spent.
  bool try_take(const Deployment& d, int64_t tokens, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    roll(now);
    if (d.rpm > 0 && requests_ >= d.rpm) return false;
    if (d.tpm > 0 && tokens_ + tokens > d.tpm && tokens_ > 0) return false;
    ++requests_;
    tokens_ += tokens;
    return true;
  }
  // Gives back a slot taken for a call that was not made.
  void release(int64_t tokens) {
    std::lock_guard lock(mutex_);
    requests_ = std::max<int64_t>(0, requests_ - 1);
    tokens_ = std::max<int64_t>(0, tokens_ - tokens);
  }
  // Replaces the estimate with what the call really used.
  void correct(int64_t estimated, int64_t actual, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    roll(now);
    tokens_ = std::max<int64_t>(0, tokens_ - estimated + actual);
  }

 private:
  void roll(std::chrono::steady_clock::time_point now) {
    const auto minute = std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
    if (minute != minute_) {
      minute_ = minute;
      requests_ = 0;
      tokens_ = 0;
    }
  }
  std::mutex mutex_;
  int64_t minute_ = -1;
  int64_t requests_ = 0;
  int64_t tokens_ = 0;
};

struct DeploymentRuntime {
  Deployment d;
  std::shared_ptr<CircuitBreaker> breaker;
  std::shared_ptr<std::atomic<int>> in_flight;
  std::shared_ptr<MinuteWindow> quota;
};

struct Snapshot {
  RouterConfig config;
  std::map<std::string, std::vector<std::string>> routes;
  std::vector<std::shared_ptr<DeploymentRuntime>> deployments;
  std::map<std::string, std::vector<const DeploymentRuntime*>, std::less<>> by_alias;
};

// What one request went through, for metrics, the usage row and the answer.
struct Trace {
  Steady::time_point started = Steady::now();
  milliseconds deadline{0};    // from started: every retry, wait and fallback fits in it
  Steady::duration outside{};  // upstream calls and backoff waits: not the router's own time
  int attempts = 0;
  const DeploymentRuntime* last = nullptr;
  // Answered by a canned template, or by the cheaper route an exhausted
  // budget allows: a degraded answer, never cached.
  bool degraded = false;
};

// Holds an in-flight slot of a deployment for the duration of one call.
class InFlight {
 public:
  InFlight(const DeploymentRuntime& d, RouterMetrics& m) : d_(d), m_(m) {
    ++*d_.in_flight;
    m_.in_flight.with({d_.d.name}).inc();
  }
  ~InFlight() {
    --*d_.in_flight;
    m_.in_flight.with({d_.d.name}).dec();
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  const DeploymentRuntime& d_;
  RouterMetrics& m_;
};

double breaker_gauge(BreakerState s) {
  return s == BreakerState::closed ? 0 : s == BreakerState::half_open ? 1 : 2;
}

bool is_template(const Deployment& d) {
  return d.provider == Provider::templates;
}

void validate(const AiRequest& r, const RouterConfig& c) {
  auto bad = [](const std::string& message) { throw AiError(AiError::Kind::bad_request, message); };
  if (r.messages.empty()) bad("messages must not be empty");
  if (static_cast<int>(r.messages.size()) > c.max_messages)
    bad("too many messages (at most " + std::to_string(c.max_messages) + ")");
  size_t bytes = 0;
  int images = 0;
  for (const auto& m : r.messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
      bad("message role must be system, user or assistant, not '" + m.role.substr(0, 32) + "'");
    bytes += m.content.size();
    for (const auto& url : m.image_urls) {
      bytes += url.size();
      ++images;
      if (!url.starts_with("https://") && !url.starts_with("data:image/"))
        bad("image URLs must be https: or data:image/ URLs");
    }
  }
  if (bytes > c.max_request_bytes) bad("the messages exceed " + std::to_string(c.max_request_bytes) + " bytes");
  if (images > c.max_images) bad("too many images (at most " + std::to_string(c.max_images) + ")");
  const auto& p = r.params;
  if (p.temperature && (*p.temperature < 0 || *p.temperature > 2)) bad("temperature must be within [0, 2]");
  if (p.top_p && (*p.top_p <= 0 || *p.top_p > 1)) bad("top_p must be within (0, 1]");
  if (p.max_tokens && (*p.max_tokens < 1 || *p.max_tokens > 1'000'000)) bad("max_tokens must be within [1, 1000000]");
  if (p.stop.size() > 4) bad("at most 4 stop sequences");
  for (const auto& s : p.stop)
    if (s.empty() || s.size() > 256) bad("stop sequences must have 1 to 256 bytes");
  if (r.deadline && r.deadline->count() <= 0) bad("the deadline must be positive");
}

}  // namespace

class RouterImpl final : public Router {
 public:
  RouterImpl(RouterDeps deps, Catalog catalog, RouterConfig config)
      : deps_(deps), metrics_(deps.metrics), rng_(std::random_device{}()) {
    reload(std::move(catalog), std::move(config));
  }

  void reload(Catalog catalog, RouterConfig config) override {
    auto snap = std::make_shared<Snapshot>();
    snap->config = std::move(config);
    snap->routes = std::move(catalog.routes);
    std::lock_guard lock(mutex_);
    // A deployment keeps its breaker, in-flight count and quota window
    // across reloads by name; a changed breaker configuration starts a
    // fresh breaker; removed deployments are forgotten (calls still running
    // hold their state through their snapshot).
    std::map<std::string, DeploymentState> kept;
    for (auto& d : catalog.deployments) {
      auto it = states_.find(d.name);
      DeploymentState state = it != states_.end() ? it->second : DeploymentState{};
      if (!state.in_flight) state.in_flight = std::make_shared<std::atomic<int>>(0);
      if (!state.quota) state.quota = std::make_shared<MinuteWindow>();
      if (!state.breaker || state.breaker_config != snap->config.breaker) {
        state.breaker = std::make_shared<CircuitBreaker>(snap->config.breaker);
        state.breaker_config = snap->config.breaker;
      }
      auto rt = std::make_shared<DeploymentRuntime>();
      rt->breaker = state.breaker;
      rt->in_flight = state.in_flight;
      rt->quota = state.quota;
      kept[d.name] = std::move(state);
      rt->d = std::move(d);
      snap->deployments.push_back(rt);
    }
    states_ = std::move(kept);
    for (const auto& rt : snap->deployments) snap->by_alias[rt->d.alias].push_back(rt.get());
    snapshot_ = std::move(snap);
  }

  asio::awaitable<Completion> complete(AiRequest request) override {
    co_return co_await run(std::move(request), nullptr);
  }

  asio::awaitable<Completion> stream(AiRequest request, DeltaSink sink) override {
    co_return co_await run(std::move(request), &sink);
  }

  // Speech to text: the same choice, breaker, retry and fallback rules as
  // chat, over the route's Whisper-compatible deployments. No cache (audio
  // bytes are large and rarely repeat).
  asio::awaitable<Transcript> transcribe(TranscribeRequest request) override {
    auto snap = snapshot();
    Trace trace;
    trace.deadline = request.deadline.value_or(std::max(snap->config.default_deadline, milliseconds(120'000)));
    if (request.deadline && request.deadline->count() <= 0)
      throw AiError(AiError::Kind::bad_request, "the deadline must be positive");
    if (request.audio.empty()) throw AiError(AiError::Kind::bad_request, "the audio is empty");
    if (request.audio.size() > kMaxAudioBytes)
      throw AiError(AiError::Kind::bad_request, "the audio exceeds 25 MB; split it first");
    const auto aliases = resolve(*snap, request.task);
    auto candidates_for = [](const std::vector<const DeploymentRuntime*>& all, bool&) {
      std::vector<const DeploymentRuntime*> out;
      for (const auto* rt : all)
        if (rt->d.provider == Provider::openai_audio && rt->d.usable()) out.push_back(rt);
      return out;
    };
    auto call = [&](const DeploymentRuntime& rt, milliseconds timeout) -> asio::awaitable<std::string> {
      co_return co_await call_transcription(deps_.client, rt.d, request, timeout);
    };
    std::optional<Transcript> result;
    std::string outcome = "ok";
    std::exception_ptr failure;
    try {
      auto [text, attempt] = co_await with_fallbacks<std::string>(*snap, request.task, request.request_id, aliases,
                                                                   0, trace, candidates_for, call);
      result.emplace();
      result->text = std::move(text);
      result->deployment = attempt.rt->d.name;
      result->model = attempt.rt->d.model;
      result->attempts = trace.attempts;
      result->latency = duration_cast<microseconds>(Steady::now() - trace.started);
    } catch (const AiError& e) {
      outcome = std::string(to_string(e.kind()));
      failure = std::current_exception();
    } catch (...) {
      outcome = "error";
      failure = std::current_exception();
    }
    metrics_.requests.with({request.task, outcome}).inc();
    if (deps_.usage) {
      UsageRecord u;
      u.at = deps_.clock.now();
      u.workspace = request.workspace;
      u.task = request.task;
      u.deployment = result ? result->deployment : trace.last ? trace.last->d.name : "";
      u.model = result ? result->model : trace.last ? trace.last->d.model : "";
      u.latency = duration_cast<microseconds>(Steady::now() - trace.started);
      u.attempts = trace.attempts;
      u.outcome = outcome;
      u.request_id = request.request_id;
      deps_.usage->record(std::move(u));
    }
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*result);
  }

  void check(const AiRequest& request) const override {
    auto snap = snapshot();
    validate(request, snap->config);
    resolve(*snap, request.task);
  }

  RouterStatus status() const override {
    auto snap = snapshot();
    RouterStatus s;
    for (const auto& [task, aliases] : snap->routes) s.routes.push_back({task, aliases});
    const auto now = Steady::now();
    for (const auto& rt : snap->deployments) {
      DeploymentStatus d;
      d.name = rt->d.name;
      d.alias = rt->d.alias;
      d.model = rt->d.model;
      d.provider = rt->d.provider == Provider::openai         ? "openai"
                   : rt->d.provider == Provider::openai_audio ? "openai_audio"
                                                              : "templates";
      d.breaker = std::string(to_string(rt->breaker->state(now)));
      d.usable = rt->d.usable();
      d.in_flight = rt->in_flight->load();
      s.deployments.push_back(std::move(d));
    }
    return s;
  }

 private:
  std::shared_ptr<const Snapshot> snapshot() const {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }

  // After every call: the gauge shows the state as of the deployment's last use.
  void show_breaker(const DeploymentRuntime& rt) {
    if (!is_template(rt.d))
      metrics_.breaker_state.with({rt.d.name}).set(breaker_gauge(rt.breaker->state(Steady::now())));
  }

  // A task names a route; otherwise it may name an alias directly.
  static std::vector<std::string> resolve(const Snapshot& snap, const std::string& task) {
    if (auto it = snap.routes.find(task); it != snap.routes.end()) return it->second;
    if (snap.by_alias.contains(task)) return {task};
    throw AiError(AiError::Kind::unknown_task, "no route or model alias named '" + task.substr(0, 64) + "'");
  }

  asio::awaitable<Completion> run(AiRequest request, const DeltaSink* sink) {
    auto snap = snapshot();
    Trace trace;
    trace.deadline = request.deadline.value_or(snap->config.default_deadline);
    std::string outcome = "ok";
    std::optional<Completion> result;
    std::exception_ptr failure;
    try {
      validate(request, snap->config);
      const auto aliases = resolve(*snap, request.task);
      result = co_await answer(*snap, request, aliases, sink, trace);
      if (result->cache_hit) outcome = "cache_hit";
    } catch (const AiError& e) {
      outcome = std::string(to_string(e.kind()));
      failure = std::current_exception();
    } catch (const http::HttpClientError& e) {
      outcome = "cancelled";
      failure = std::current_exception();
    } catch (...) {
      outcome = "error";
      failure = std::current_exception();
    }
    const auto total = Steady::now() - trace.started;
    // Labels only for names the catalog knows (an unknown task was refused).
    const std::string task_label = outcome == "unknown_task" || outcome == "bad_request" ? "-" : request.task;
    metrics_.requests.with({task_label, outcome}).inc();
    metrics_.overhead_seconds.with({}).observe(
        std::chrono::duration<double>(std::max(Steady::duration::zero(), total - trace.outside)).count());
    record_usage(request, result ? &*result : nullptr, trace, outcome, total);
    if (failure) std::rethrow_exception(failure);
    result->latency = duration_cast<microseconds>(total);
    co_return std::move(*result);
  }

  // The cache in front of the routing loop.
  asio::awaitable<Completion> answer(const Snapshot& snap, const AiRequest& request,
                                     const std::vector<std::string>& aliases, const DeltaSink* sink, Trace& trace) {
    ResponseCache* cache = snap.config.cache_enabled && request.cache != CacheMode::bypass ? deps_.cache : nullptr;
    if (!cache) co_return co_await route(snap, request, aliases, sink, trace);
    const std::string key = cache_key(request, request.task);
    if (request.cache == CacheMode::use) {
      std::optional<Completion> hit = co_await cache->get(key);
      if (hit) {
        mark_cached(*hit);
        if (sink) {
          Delta whole{hit->content, hit->reasoning};
          co_await (*sink)(whole);
        }
        co_return std::move(*hit);
      }
    }
    const auto ttl = request.cache_ttl.value_or(snap.config.ttl_for(request.task));
    auto produce_and_store = [&]() -> asio::awaitable<Completion> {
      Completion c = co_await route(snap, request, aliases, sink, trace);
      // Degraded answers (canned, or downgraded by the budget) would keep
      // being served once the models or the budget are back.
      if (!trace.degraded && c.finish_reason != "length") co_await cache->put(key, c, ttl);
      co_return c;
    };
    // Streams are not shared; a refresh must not take another caller's
    // (possibly old) answer either.
    if (sink || request.cache == CacheMode::refresh) co_return co_await produce_and_store();
    std::function<asio::awaitable<Completion>()> produce = produce_and_store;
    const auto wait = duration_cast<milliseconds>(trace.started + trace.deadline - Steady::now());
    Flight flight = co_await cache->once(key, produce, wait);
    if (!flight.leader) mark_cached(flight.completion);
    co_return std::move(flight.completion);
  }

  static void mark_cached(Completion& c) {
    c.cache_hit = true;
    c.cost_micros = 0;
    c.attempts = 0;
  }

  // The step of a route an exhausted budget allows: an alias served by the
  // templates when the route has one, else its last alias.
  static std::string cheapest_alias(const Snapshot& snap, const std::vector<std::string>& aliases) {
    for (const auto& alias : aliases) {
      auto it = snap.by_alias.find(alias);
      if (it != snap.by_alias.end() && !it->second.empty() &&
          std::all_of(it->second.begin(), it->second.end(), [](const DeploymentRuntime* rt) { return is_template(rt->d); }))
        return alias;
    }
    return aliases.back();
  }

  // Weighted choice among the candidates whose breaker lets a call through,
  // with a free concurrency slot and quota left this minute.
  const DeploymentRuntime* choose(std::vector<const DeploymentRuntime*> pool, int64_t tokens) {
    const auto now = Steady::now();
    while (!pool.empty()) {
      int64_t total = 0;
      for (const auto* rt : pool) total += std::max(rt->d.weight, 0);
      const DeploymentRuntime* pick = nullptr;
      if (total <= 0) {
        pick = pool.front();
      } else {
        int64_t ticket;
        {
          std::lock_guard lock(rng_mutex_);
          ticket = std::uniform_int_distribution<int64_t>(0, total - 1)(rng_);
        }
        for (const auto* rt : pool) {
          ticket -= std::max(rt->d.weight, 0);
          if (ticket < 0) {
            pick = rt;
            break;
          }
        }
      }
      if (pick->in_flight->load() < pick->d.max_concurrency && pick->quota->try_take(pick->d, tokens, now)) {
        if (pick->breaker->allow(now)) return pick;
        pick->quota->release(tokens);  // not sent after all
      }
      std::erase(pool, pick);
    }
    return nullptr;
  }

  milliseconds backoff(const RouterConfig& c, int attempt) {
    const double base = static_cast<double>(c.backoff_base.count()) * std::pow(2.0, attempt);
    const double capped = std::min(base, static_cast<double>(c.backoff_max.count()));
    double jitter;
    {
      std::lock_guard lock(rng_mutex_);
      jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
    }
    return milliseconds(static_cast<int64_t>(capped * jitter));
  }

  // Budgets and rate limits guard what costs money: a cache miss. Over
  // budget with downgrade on, the route shrinks to its cheapest step (the
  // offline templates when it has them, else its last alias).
  asio::awaitable<Completion> route(const Snapshot& snap, const AiRequest& request,
                                    const std::vector<std::string>& aliases, const DeltaSink* sink, Trace& trace) {
    if (!deps_.budgets) co_return co_await route_aliases(snap, request, aliases, sink, trace);
    const int64_t estimate = estimate_prompt_tokens(request);
    const auto admission = co_await deps_.budgets->admit(request.workspace, estimate);
    std::vector<std::string> chosen = aliases;
    if (admission == Budgets::Admission::downgrade) {
      trace.degraded = true;
      chosen = {cheapest_alias(snap, aliases)};
    }
    std::optional<Completion> c;
    std::exception_ptr failure;
    try {
      c = co_await route_aliases(snap, request, chosen, sink, trace);
    } catch (...) {
      failure = std::current_exception();
    }
    const int64_t used = c ? c->usage.input_tokens + c->usage.output_tokens : 0;
    co_await deps_.budgets->charge(request.workspace, c ? c->cost_micros : 0, used, estimate);
    if (failure) std::rethrow_exception(failure);
    co_return std::move(*c);
  }

  // Chat over the route's aliases: the deployments that can take this
  // prompt (text or vision, and a context window it fits), then the shared
  // retry and fallback loop.
  asio::awaitable<Completion> route_aliases(const Snapshot& snap, const AiRequest& request,
                                            const std::vector<std::string>& aliases, const DeltaSink* sink,
                                            Trace& trace) {
    const int64_t estimate = estimate_prompt_tokens(request);
    bool wants_vision = false;
    for (const auto& m : request.messages) wants_vision = wants_vision || !m.image_urls.empty();
    auto candidates_for = [&](const std::vector<const DeploymentRuntime*>& all, bool& too_small) {
      std::vector<const DeploymentRuntime*> out;
      for (const auto* rt : all) {
        if (!rt->d.usable() || rt->d.provider == Provider::openai_audio) continue;
        if (wants_vision && !rt->d.can(kVision) && !is_template(rt->d)) continue;
        if (rt->d.context_window > 0 && estimate > rt->d.context_window) {
          too_small = true;
          continue;
        }
        out.push_back(rt);
      }
      return out;
    };
    auto call = [&](const DeploymentRuntime& rt, milliseconds timeout) -> asio::awaitable<UpstreamAnswer> {
      if (is_template(rt.d)) {
        UpstreamAnswer canned = co_await template_answer(request, sink);
        trace.degraded = true;
        co_return canned;
      }
      if (sink) co_return co_await stream_chat(deps_.client, rt.d, request, timeout, *sink);
      co_return co_await call_chat(deps_.client, rt.d, request, timeout);
    };
    auto [answer, attempt] = co_await with_fallbacks<UpstreamAnswer>(snap, request.task, request.request_id, aliases,
                                                                      estimate, trace, candidates_for, call);
    attempt.rt->quota->correct(estimate, answer.usage.input_tokens + answer.usage.output_tokens, Steady::now());
    co_return completion_of(std::move(answer), *attempt.rt, trace, attempt.started);
  }

  struct Attempt {
    const DeploymentRuntime* rt = nullptr;
    Steady::time_point started;
  };

  // The loop chat and transcription share: for each alias in order, choose
  // a deployment among candidates_for(its deployments) and call it; on a
  // transient failure retry with backoff (a provider's Retry-After when it
  // fits the deadline, else move on at once), on a deployment-specific one
  // fall back to the next alias, on a bad request give up. Every step stays
  // within the request's deadline (trace.started + deadline).
  template <class T, class CandidatesFor, class Call>
  asio::awaitable<std::pair<T, Attempt>> with_fallbacks(const Snapshot& snap, const std::string& task,
                                                        const std::string& request_id,
                                                        const std::vector<std::string>& aliases, int64_t tokens,
                                                        Trace& trace, const CandidatesFor& candidates_for,
                                                        const Call& call) {
    const auto deadline = trace.started + trace.deadline;
    // Why the last alias was left, and what the failures were like.
    std::string last_reason = "none";
    std::string last_message = "no deployment is available";
    bool only_filter = true, only_context = true, any_failure = false;
    auto note = [&](const std::string& reason, const std::string& message, std::optional<AiError::Kind> kind) {
      any_failure = true;
      last_reason = reason;
      last_message = message;
      only_filter = only_filter && kind == AiError::Kind::content_filter;
      only_context = only_context && kind == AiError::Kind::context_too_long;
    };

    for (size_t i = 0; i < aliases.size(); ++i) {
      if (i > 0) metrics_.fallbacks.with({task, last_reason}).inc();
      bool too_small = false;
      std::vector<const DeploymentRuntime*> candidates;
      if (auto found = snap.by_alias.find(aliases[i]); found != snap.by_alias.end())
        candidates = candidates_for(found->second, too_small);
      if (candidates.empty()) {
        if (too_small)
          note("context_length", "the prompt does not fit the context window of " + aliases[i],
               AiError::Kind::context_too_long);
        else
          last_reason = "unusable";
        continue;
      }

      for (int attempt = 0; attempt <= snap.config.retries; ++attempt) {
        if (deadline - Steady::now() < milliseconds(1))
          throw AiError(AiError::Kind::deadline, "the request's deadline passed: " + last_message);
        const DeploymentRuntime* rt = choose(candidates, tokens);
        if (!rt) {
          note("saturated", "every deployment of " + aliases[i] + " is tripped, busy or out of quota", std::nullopt);
          break;
        }
        ++trace.attempts;
        trace.last = rt;
        if (attempt > 0) metrics_.retries.with({rt->d.name}).inc();

        std::optional<T> answer;
        std::optional<UpstreamFailed> failed;
        const auto call_started = Steady::now();
        {
          InFlight slot(*rt, metrics_);
          // At least 1 ms: zero would mean "no limit" to the client.
          const auto timeout = std::clamp(duration_cast<milliseconds>(deadline - call_started), milliseconds(1),
                                          rt->d.timeout);
          try {
            answer = co_await call(*rt, timeout);
          } catch (const UpstreamFailed& e) {
            failed = e;
          } catch (...) {
            // Cancelled, or the caller's sink failed: says nothing about the deployment.
            rt->breaker->on_abandoned();
            rt->quota->release(tokens);
            trace.outside += Steady::now() - call_started;
            throw;
          }
        }
        const auto call_time = Steady::now() - call_started;
        trace.outside += call_time;
        if (!is_template(rt->d))
          metrics_.upstream_seconds.with({rt->d.name}).observe(std::chrono::duration<double>(call_time).count());

        if (answer) {
          rt->breaker->on_success(Steady::now());
          show_breaker(*rt);
          metrics_.upstream_calls.with({rt->d.name, "ok"}).inc();
          co_return std::pair<T, Attempt>(std::move(*answer), Attempt{rt, call_started});
        }

        const UpstreamFailure& f = failed->failure();
        metrics_.upstream_calls.with({rt->d.name, f.reason}).inc();
        if (f.unhealthy)
          rt->breaker->on_failure(Steady::now());
        else
          rt->breaker->on_abandoned();
        show_breaker(*rt);
        log::warn("AI deployment call failed", {{"deployment", rt->d.name},
                                                {"reason", f.reason},
                                                {"error", f.message.substr(0, 300)},
                                                {"request_id", request_id}});
        if (failed->committed())
          throw AiError(AiError::Kind::stream_broken, "the model failed mid-stream: " + f.message);
        note(f.reason, f.message, f.kind);
        if (f.action == FailureAction::fatal) throw AiError(f.kind.value_or(AiError::Kind::bad_request), f.message);
        if (f.action == FailureAction::fallback || attempt == snap.config.retries) break;

        // Retry: wait as told when that fits the deadline, else move on now.
        milliseconds wait = f.retry_after.value_or(backoff(snap.config, attempt));
        const auto left = duration_cast<milliseconds>(deadline - Steady::now());
        if (wait >= left) {
          if (f.retry_after) break;  // the upstream's wait does not fit: fail over at once
          wait = left / 2;
        }
        if (wait.count() > 0) {
          const auto slept_from = Steady::now();
          asio::steady_timer timer(co_await asio::this_coro::executor, wait);
          auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          trace.outside += Steady::now() - slept_from;
          if (ec) throw boost::system::system_error(ec);
        }
      }
    }
    if (any_failure && only_filter) throw AiError(AiError::Kind::content_filter, last_message);
    if (any_failure && only_context) throw AiError(AiError::Kind::context_too_long, last_message);
    throw AiError(AiError::Kind::unavailable, "no deployment could answer: " + last_message);
  }

  asio::awaitable<UpstreamAnswer> template_answer(const AiRequest& request, const DeltaSink* sink) {
    std::vector<std::string> replies;
    if (deps_.templates && !request.workspace.empty())
      replies = co_await deps_.templates->replies(request.workspace, request.task);
    if (replies.empty()) replies = builtin_replies(request.task);
    UpstreamAnswer a;
    a.content = pick_reply(request, replies);
    if (a.content.empty()) {
      UpstreamFailure f;
      f.action = FailureAction::fallback;
      f.reason = "no_template";
      f.unhealthy = false;
      f.message = "no canned reply for task '" + request.task + "'";
      throw UpstreamFailed(std::move(f), false);
    }
    a.id = "huntaze-tpl-" + Uuid::v7().str();
    a.model = "templates";
    a.finish_reason = "stop";
    a.usage_reported = true;
    if (sink) {
      Delta whole{a.content, {}};
      co_await (*sink)(whole);
    }
    co_return a;
  }

  Completion completion_of(UpstreamAnswer a, const DeploymentRuntime& rt, const Trace& trace,
                           Steady::time_point call_started) {
    Completion c;
    c.id = a.id.empty() ? "huntaze-" + Uuid::v7().str() : std::move(a.id);
    c.content = std::move(a.content);
    c.reasoning = std::move(a.reasoning);
    c.finish_reason = a.finish_reason.empty() ? "stop" : std::move(a.finish_reason);
    c.alias = rt.d.alias;
    c.deployment = rt.d.name;
    c.model = a.model.empty() ? rt.d.model : std::move(a.model);
    c.usage = a.usage;
    c.cost_micros = rt.d.cost_micros(a.usage.input_tokens, a.usage.output_tokens);
    c.attempts = trace.attempts;
    c.time_to_first_token =
        duration_cast<microseconds>(call_started - trace.started) + a.time_to_first_token;
    if (!is_template(rt.d)) {
      metrics_.tokens.with({rt.d.name, "in"}).inc(static_cast<double>(a.usage.input_tokens));
      metrics_.tokens.with({rt.d.name, "out"}).inc(static_cast<double>(a.usage.output_tokens));
      metrics_.cost_micros.with({rt.d.name}).inc(static_cast<double>(c.cost_micros));
      if (a.time_to_first_token.count() > 0)
        metrics_.ttft_seconds.with({rt.d.name}).observe(
            std::chrono::duration<double>(c.time_to_first_token).count());
    }
    return c;
  }

  void record_usage(const AiRequest& request, const Completion* c, const Trace& trace, const std::string& outcome,
                    Steady::duration total) {
    if (!deps_.usage || outcome == "unknown_task" || outcome == "bad_request") return;
    UsageRecord u;
    u.at = deps_.clock.now();
    u.workspace = request.workspace;
    u.task = request.task;
    u.outcome = outcome;
    u.request_id = request.request_id;
    u.attempts = trace.attempts;
    u.latency = duration_cast<microseconds>(total);
    if (c) {
      u.deployment = c->deployment;
      u.model = c->model;
      u.input_tokens = c->usage.input_tokens;
      u.output_tokens = c->usage.output_tokens;
      u.cost_micros = c->cost_micros;
      u.cache_hit = c->cache_hit;
      u.time_to_first_token = c->time_to_first_token;
      if (!c->cache_hit && outcome == "ok" && deps_.usage->sample())
        u.sample = std::make_shared<const UsageRecord::Sample>(
            UsageRecord::Sample{sample_request_json(request), c->content});
    } else if (trace.last) {
      u.deployment = trace.last->d.name;
      u.model = trace.last->d.model;
    }
    deps_.usage->record(std::move(u));
  }

  RouterDeps deps_;
  RouterMetrics metrics_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  // What outlives a reload, per deployment name (guarded by mutex_).
  struct DeploymentState {
    std::shared_ptr<CircuitBreaker> breaker;
    BreakerConfig breaker_config;
    std::shared_ptr<std::atomic<int>> in_flight;
    std::shared_ptr<MinuteWindow> quota;
  };
  std::map<std::string, DeploymentState> states_;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
};

std::unique_ptr<Router> make_router(RouterDeps deps, Catalog catalog, RouterConfig config) {
  return std::make_unique<RouterImpl>(deps, std::move(catalog), std::move(config));
}

}  // namespace huntaze::ai_router
