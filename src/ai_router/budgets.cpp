#include "ai_router/budgets.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <chrono>
#include <cstdio>
#include <exception>
#include <utility>

#include "ai_router/usage_query.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/core/uuid.hpp"

namespace huntaze::ai_router {

namespace asio = boost::asio;

namespace {

// Long enough to outlive the month it counts (reports and reconcile read the
// log, not these keys), short enough that old months clean themselves up.
// Relative to the last write rather than EXPIREAT a computed instant: the
// Clock may be a test's, far from the Redis server's time.
constexpr int64_t kMonthTtlSeconds = 40 * 24 * 3600;

const std::string kBudgetPrefix = "huntaze:ai:budget:";

// SETs per Redis pipeline in reconcile: one pipeline shares one command
// deadline, so thousands of workspaces go in several.
constexpr size_t kReconcileChunk = 1000;

// KEYS: the counters to charge (the workspace's, then the platform's).
// ARGV[1] cost µ$, ARGV[2] TTL s, ARGV[2 + i] the budget of KEYS[i] (0 = none).
// Returns, per key, {new value, 1 if the 80% alert is to be sent, 1 if the
// 100% one is}. The markers are set in the same script, with NX, so that of
// all instances exactly one sends each alert per counter and month, even
// when a single charge crosses both thresholds or a counter was already
// past them (reconcile).
const redis::Script& charge_script() {
  static const redis::Script script(R"lua(
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('INCRBY', key, ARGV[1])
  redis.call('EXPIRE', key, ARGV[2])
  local budget = tonumber(ARGV[2 + i])
  local a80, a100 = 0, 0
  if budget > 0 then
    if v * 100 >= budget * 80 and redis.call('SET', key .. ':alert80', '1', 'NX', 'EX', ARGV[2]) then a80 = 1 end
    if v >= budget and redis.call('SET', key .. ':alert100', '1', 'NX', 'EX', ARGV[2]) then a100 = 1 end
  end
  out[#out + 1] = v
  out[#out + 1] = a80
  out[#out + 1] = a100
end
return out
)lua");
  return script;
}

// "" stays ""; a UUID in any case becomes its canonical form so that one
// workspace has one set of keys.
std::string canonical_workspace(const std::string& workspace) {
  if (workspace.empty()) return workspace;
  auto id = Uuid::parse(workspace);
  if (!id) throw AiError(AiError::Kind::bad_request, "workspace is not a UUID");
  return id->str();
}

std::string workspace_key(const std::string& month, const std::string& workspace) {
  return kBudgetPrefix + month + ":ws:" + workspace;
}

std::string platform_key(const std::string& month) { return kBudgetPrefix + month + ":platform"; }

// A counter as MGET returns it: nil (nothing charged yet) is 0, and so is
// anything unparsable rather than failing the request (reconcile rewrites it).
int64_t counter_value(const redis::Reply& reply) {
  if (reply.type == redis::Reply::Type::integer) return reply.integer;
  int64_t v = 0;
  if (reply.type == redis::Reply::Type::string) {
    auto [end, ec] = std::from_chars(reply.str.data(), reply.str.data() + reply.str.size(), v);
    if (ec != std::errc() || end != reply.str.data() + reply.str.size()) return 0;
  }
  return v;
}

bool reaches(int64_t spent, int64_t budget, int percent) {
  // In doubles, as the charge script does (exact up to 2^53: $90 billion).
  return budget > 0 && static_cast<double>(spent) * 100 >= static_cast<double>(budget) * percent;
}

}  // namespace

Budgets::Budgets(redis::Redis& redis, db::Database& db, const Clock& clock, metrics::Registry& metrics,
                 BudgetConfig config)
    : redis_(redis),
      db_(db),
      clock_(clock),
      config_(config),
      redis_rate_(redis, RateLimits{config.workspace_rpm, config.workspace_tpm}),
      local_rate_(RateLimits{config.workspace_rpm, config.workspace_tpm}),
      rejections_(metrics.counter("huntaze_ai_budget_rejections_total",
                                  "AI requests refused by budgets and rate limits", {"reason"})),
      downgrades_(metrics
                      .counter("huntaze_ai_budget_downgrades_total",
                               "AI requests over budget answered from the cheapest route")
                      .with({})),
      alerts_(metrics.counter("huntaze_ai_budget_alerts_total", "AI budget alerts sent (80% and 100%)",
                              {"percent"})),
      fallbacks_(metrics
                     .counter("huntaze_ai_budget_fallback_total",
                              "AI budget and rate checks done in process because Redis could not answer")
                     .with({})) {}

void Budgets::on_alert(AlertCallback callback) { alert_ = std::move(callback); }

asio::awaitable<std::optional<int64_t>> Budgets::own_budget(const std::string& workspace) {
  if (!source_ || workspace.empty()) co_return std::nullopt;
  co_return co_await source_->monthly_budget_micros(workspace);
}

std::vector<Budgets::Counter> Budgets::counters(const std::string& workspace, const std::string& month,
                                               int64_t workspace_budget) const {
  std::vector<Counter> out;
  if (!workspace.empty())
    out.push_back(Counter{workspace_key(month, workspace), workspace_budget, workspace, "workspace_budget"});
  out.push_back(Counter{platform_key(month), config_.platform_monthly_micros, "", "platform_budget"});
  return out;
}

// Counted every time, logged once per outage: during one, every request
// would otherwise log it.
void Budgets::fell_back(const char* what, const std::exception& e) {
  fallbacks_.inc();
  if (!degraded_.exchange(true))
    log::warn("ai budgets: Redis unavailable, in-process fallback", {{"op", what}, {"error", e.what()}});
}

void Budgets::answered() {
  if (degraded_.load(std::memory_order_relaxed) && degraded_.exchange(false))
    log::info("ai budgets: Redis answers again; reconcile restores the counters from the usage log");
}

// Called with mutex_ held.
void Budgets::roll_month(const std::string& month) {
  if (local_month_ == month) return;
  local_month_ = month;
  local_spend_.clear();
  local_alerts_.clear();
}

// Only counters with spend are kept (an absent one reads as 0): every
// workspace that merely asks does not add an entry for the month.
void Budgets::remember(const std::string& month, const std::string& key, int64_t value) {
  std::lock_guard lock(mutex_);
  roll_month(month);
  if (value == 0)
    local_spend_.erase(key);
  else
    local_spend_[key] = value;
}

// After a charge through Redis: the markers of the thresholds this value
// reaches exist there now (this charge or an earlier one set them), so the
// fallback must not send those alerts again.
void Budgets::remember_charged(const std::string& month, const Counter& counter, int64_t value) {
  remember(month, counter.key, value);
  std::lock_guard lock(mutex_);
  for (int percent : {80, 100})
    if (reaches(value, counter.budget, percent)) local_alerts_.insert(counter.key + ":alert" + std::to_string(percent));
}

template <class Op>
asio::awaitable<bool> Budgets::through_redis(const char* what, Op& op) {
  bool ok = true;
  try {
    co_await op();
  } catch (const redis::RedisUnavailable& e) {
    fell_back(what, e);
    ok = false;
  } catch (const redis::RedisError& e) {
    fell_back(what, e);
    ok = false;
  }
  if (ok) answered();
  co_return ok;
}

asio::awaitable<std::vector<int64_t>> Budgets::read(const std::vector<Counter>& counters, const std::string& month) {
  redis::Command mget{"MGET"};
  for (const auto& c : counters) mget.push_back(c.key);
  redis::Reply reply;
  auto mget_from_redis = [&]() -> asio::awaitable<void> {
    reply = co_await redis_.command(std::move(mget));
    if (reply.type != redis::Reply::Type::array || reply.elements.size() != counters.size())
      throw redis::RedisError("MGET: unexpected reply");
  };
  const bool answered_by_redis = co_await through_redis("read", mget_from_redis);
  std::vector<int64_t> values;
  values.reserve(counters.size());
  if (answered_by_redis) {
    for (size_t i = 0; i < counters.size(); ++i) {
      const auto& e = reply.elements[i];
      const int64_t v = counter_value(e);
      remember(month, counters[i].key, v);
      values.push_back(v);
    }
  } else {
    std::lock_guard lock(mutex_);
    const bool same_month = local_month_ == month;
    for (const auto& c : counters) {
      auto it = local_spend_.find(c.key);
      values.push_back(same_month && it != local_spend_.end() ? it->second : 0);
    }
  }
  co_return values;
}

std::vector<BudgetAlert> Budgets::charge_locally(const std::vector<Counter>& counters, std::chrono::year_month ym,
                                                 int64_t cost) {
  std::vector<BudgetAlert> alerts;
  std::lock_guard lock(mutex_);
  roll_month(format_year_month(ym));
  for (const auto& c : counters) {
    const int64_t v = (local_spend_[c.key] += cost);
    for (int percent : {80, 100}) {
      if (reaches(v, c.budget, percent) && local_alerts_.insert(c.key + ":alert" + std::to_string(percent)).second)
        alerts.push_back(BudgetAlert{c.alert_workspace, ym, percent, v, c.budget});
    }
  }
  return alerts;
}

void Budgets::fire(const std::vector<BudgetAlert>& alerts) {
  for (const auto& a : alerts) {
    alerts_.with({a.percent == 80 ? "80" : "100"}).inc();
    log::warn("AI budget threshold reached",
              {{"workspace", a.workspace.empty() ? std::string("platform") : a.workspace},
               {"month", format_year_month(a.month, '-')},
               {"percent", a.percent},
               {"spent_microdollars", a.spent},
               {"budget_microdollars", a.budget}});
    if (!alert_) continue;
    try {
      alert_(a);
    } catch (const std::exception& e) {
      log::error("ai budgets: alert callback failed", {{"error", e.what()}});
    }
  }
}

asio::awaitable<Budgets::Admission> Budgets::admit(const std::string& workspace_in, int64_t estimated_tokens) {
  const std::string workspace = canonical_workspace(workspace_in);
  const SysTime now = clock_.now();
  const std::string month = format_year_month(utc_month(now));
  const std::optional<int64_t> own = co_await own_budget(workspace);
  // A budget of 0 from the workspace's plan means no AI at all - not even
  // the cheaper route a downgrade would pick, which may be a paid model; in
  // the configuration 0 means no budget (the default of a fresh install).
  // Refused before the counters are read: nothing they say changes that.
  if (own && *own == 0) {
    rejections_.with({"workspace_budget"}).inc();
    throw AiError(AiError::Kind::budget_exceeded, "the workspace has no AI in its plan");
  }
  const std::vector<Counter> cs = counters(workspace, month, own.value_or(config_.workspace_monthly_micros));
  const std::vector<int64_t> spent = co_await read(cs, month);
  const char* over = nullptr;
  for (size_t i = 0; i < cs.size() && !over; ++i)
    if (cs[i].budget > 0 && spent[i] >= cs[i].budget) over = cs[i].reason;
  if (over && !config_.downgrade) {
    rejections_.with({over}).inc();
    const std::string what = over == std::string_view("workspace_budget") ? "the workspace's monthly AI budget is spent"
                                                                           : "the platform's monthly AI budget is spent";
    throw AiError(AiError::Kind::budget_exceeded, what);
  }

  // Rate limits are per workspace; the platform's own calls have none.
  // Checked after the budget so that a refused request takes nothing from
  // the windows.
  if (!workspace.empty() && (config_.workspace_rpm > 0 || config_.workspace_tpm > 0)) {
    const int64_t now_us = now.time_since_epoch().count();
    RateDecision d;
    auto admit_in_redis = [&]() -> asio::awaitable<void> {
      d = co_await redis_rate_.admit(workspace, now_us, estimated_tokens);
    };
    if (!co_await through_redis("rate", admit_in_redis)) d = local_rate_.admit(workspace, now_us, estimated_tokens);
    if (d.verdict != RateDecision::Verdict::ok) {
      const bool rpm = d.verdict == RateDecision::Verdict::rpm;
      rejections_.with({rpm ? "rpm" : "tpm"}).inc();
      const std::string what = rpm ? "the workspace's requests-per-minute limit is reached"
                                   : "the workspace's tokens-per-minute limit is reached";
      throw AiError(AiError::Kind::rate_limited, what, d.retry_after);
    }
  }

  if (over) {
    downgrades_.inc();
    co_return Admission::downgrade;
  }
  co_return Admission::ok;
}

asio::awaitable<void> Budgets::charge(const std::string& workspace_in, int64_t cost_micros, int64_t tokens,
                                      int64_t estimated_tokens) {
  const std::string workspace = canonical_workspace(workspace_in);
  const SysTime now = clock_.now();
  const auto ym = utc_month(now);
  const std::string month = format_year_month(ym);

  if (!workspace.empty() && config_.workspace_tpm > 0 && tokens != estimated_tokens) {
    const int64_t now_us = now.time_since_epoch().count();
    const int64_t delta = std::max<int64_t>(tokens, 0) - std::max<int64_t>(estimated_tokens, 0);
    auto correct_in_redis = [&]() -> asio::awaitable<void> { co_await redis_rate_.correct(workspace, now_us, delta); };
    if (!co_await through_redis("rate", correct_in_redis)) local_rate_.correct(workspace, now_us, delta);
  }

  if (cost_micros <= 0) co_return;  // cache hits and free calls
  const std::optional<int64_t> own = co_await own_budget(workspace);
  const std::vector<Counter> cs = counters(workspace, month, own.value_or(config_.workspace_monthly_micros));
  std::vector<std::string> keys;
  std::vector<std::string> args{std::to_string(cost_micros), std::to_string(kMonthTtlSeconds)};
  for (const auto& c : cs) {
    keys.push_back(c.key);
    args.push_back(std::to_string(c.budget));
  }

  std::vector<BudgetAlert> alerts;
  auto charge_in_redis = [&]() -> asio::awaitable<void> {
    redis::Reply reply = co_await redis_.eval(charge_script(), std::move(keys), std::move(args));
    if (reply.type != redis::Reply::Type::array || reply.elements.size() != cs.size() * 3)
      throw redis::RedisError("budget charge script: unexpected reply");
    for (size_t i = 0; i < cs.size(); ++i) {
      const int64_t v = reply.elements[3 * i].integer;
      remember_charged(month, cs[i], v);
      if (reply.elements[3 * i + 1].integer == 1) alerts.push_back(BudgetAlert{cs[i].alert_workspace, ym, 80, v, cs[i].budget});
      if (reply.elements[3 * i + 2].integer == 1) alerts.push_back(BudgetAlert{cs[i].alert_workspace, ym, 100, v, cs[i].budget});
    }
  };
  if (!co_await through_redis("charge", charge_in_redis)) alerts = charge_locally(cs, ym, cost_micros);
  fire(alerts);
}

asio::awaitable<int64_t> Budgets::spent(const std::string& workspace_in) {
  const std::string workspace = canonical_workspace(workspace_in);
  const std::string month = format_year_month(utc_month(clock_.now()));
  // The workspace's own counter comes first; "" has only the platform's.
  const std::vector<Counter> cs = counters(workspace, month, config_.workspace_monthly_micros);
  const std::vector<int64_t> values = co_await read(cs, month);
  co_return values.front();
}

asio::awaitable<int> Budgets::reconcile() {
  const auto ym = utc_month(clock_.now());
  const std::string month = format_year_month(ym);
  const SysTime from = month_start(ym);
  const SysTime to = month_start(ym + std::chrono::months(1));
  const SpendByWorkspace spend = co_await spend_by_workspace(db_, from, to);
  const int64_t total = spend.total;

  const std::string ttl = std::to_string(kMonthTtlSeconds);
  std::vector<redis::Command> writes;
  writes.reserve(spend.workspaces.size() + 1);
  for (const auto& [workspace, micros] : spend.workspaces) {
    const std::string key = workspace_key(month, workspace);
    writes.push_back(redis::Command{"SET", key, std::to_string(micros), "EX", ttl});
    remember(month, key, micros);
  }
  writes.push_back(redis::Command{"SET", platform_key(month), std::to_string(total), "EX", ttl});
  remember(month, platform_key(month), total);

  const int written = static_cast<int>(spend.workspaces.size());
  for (size_t begin = 0; begin < writes.size(); begin += kReconcileChunk) {
    const size_t end = std::min(writes.size(), begin + kReconcileChunk);
    std::vector<redis::Command> chunk(std::make_move_iterator(writes.begin() + static_cast<ptrdiff_t>(begin)),
                                      std::make_move_iterator(writes.begin() + static_cast<ptrdiff_t>(end)));
    std::vector<redis::Reply> replies = co_await redis_.pipeline(std::move(chunk));
    for (const auto& r : replies)
      if (r.is_error()) throw redis::RedisError("budget reconcile: " + r.str);
  }
  log::info("ai budgets: counters reconciled", {{"month", month}, {"workspaces", written}, {"total_micros", total}});
  co_return written;
}

void register_budget_jobs(jobs::JobRegistry& registry, Budgets& budgets) {
  registry.add(
      kBudgetReconcileKind,
      [&budgets](jobs::JobContext&) -> asio::awaitable<void> { co_await budgets.reconcile(); },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 5}});
}

}  // namespace huntaze::ai_router
