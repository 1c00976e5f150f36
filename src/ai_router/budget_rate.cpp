#include "ai_router/budget_rate.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace huntaze::ai_router {

namespace asio = boost::asio;

namespace {

constexpr double kPeriodUs = 60'000'000.0;  // one minute
// Floating-point slack: n steps of 60 s / n may add up to a hair over 60 s,
// and a bucket refilled for exactly the advertised wait a hair under.
constexpr double kSlack = 1e-6;
constexpr int64_t kKeyTtlMs = 120'000;

const std::string kRpmPrefix = "huntaze:ai:rate:rpm:";
const std::string kTpmPrefix = "huntaze:ai:rate:tpm:";

// The deepest a TPM bucket goes into debt, in minutes of its limit: the
// Lua script's "-60 * tpm" is the same number.
constexpr double kMaxDebtMinutes = 60;

// KEYS[1] the RPM state (GCRA theoretical arrival time, µs, a string),
// KEYS[2] the TPM bucket (hash: t = tokens, ts = last refill µs).
// ARGV: now µs, rpm, tpm, tokens wanted, key TTL ms.
// Returns {verdict (0 ok, 1 rpm, 2 tpm), retry after ms}. Nothing is
// written unless both limits pass. Numbers are stored with %.17g: Lua's
// tostring() keeps 14 digits, too few for microsecond timestamps.
// The arithmetic must stay the same as LocalRateLimiter's below.
const redis::Script& admit_script() {
  static const redis::Script script(R"lua(
local now = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local period = 60000000
local slack = 1e-6
local rpm_wait, tpm_wait = -1, -1
local tat, tokens, ts
if rpm > 0 then
  tat = tonumber(redis.call('GET', KEYS[1]) or '') or now
  if tat < now then tat = now end
  tat = tat + period / rpm
  if tat - now > period + slack then rpm_wait = tat - now - period end
end
if tpm > 0 then
  local rate = tpm / period
  local b = redis.call('HMGET', KEYS[2], 't', 'ts')
  tokens = tonumber(b[1] or '')
  ts = tonumber(b[2] or '')
  if tokens == nil or ts == nil then tokens = tpm; ts = now end
  if now > ts then
    tokens = math.min(tpm, tokens + (now - ts) * rate)
    ts = now
  end
  local need = math.min(math.max(want, 0), tpm)
  if tokens < need - slack then tpm_wait = (need - tokens) / rate end
  tokens = tokens - need
end
if rpm_wait >= 0 or tpm_wait >= 0 then
  local verdict = 2
  if rpm_wait >= 0 then verdict = 1 end
  return {verdict, math.max(1, math.ceil(math.max(rpm_wait, tpm_wait) / 1000))}
end
if rpm > 0 then
  redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX', ARGV[5])
end
if tpm > 0 then
  redis.call('HSET', KEYS[2], 't', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return {0, 0}
)lua");
  return script;
}

// KEYS[1] the TPM bucket; ARGV: now µs, tpm, delta tokens, key TTL ms.
// A bucket left in debt lives until it would be full again, not just the
// usual TTL: expiring earlier would forgive the rest of the debt. Debt is
// capped at an hour's worth of tokens (kMaxDebtMinutes), so one absurd
// usage report cannot lock a workspace out for longer.
const redis::Script& correct_script() {
  static const redis::Script script(R"lua(
local now = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local period = 60000000
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(b[1] or '')
local ts = tonumber(b[2] or '')
if tokens == nil or ts == nil then tokens = tpm; ts = now end
if now > ts then
  tokens = math.min(tpm, tokens + (now - ts) * (tpm / period))
  ts = now
end
tokens = math.max(-60 * tpm, math.min(tpm, tokens - delta))
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
local ttl = tonumber(ARGV[4])
if tokens < 0 then ttl = math.max(ttl, math.ceil((tpm - tokens) * 60000 / tpm)) end
redis.call('PEXPIRE', KEYS[1], ttl)
return 0
)lua");
  return script;
}

std::chrono::milliseconds wait_ms(double wait_us) {
  return std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait_us / 1000.0))));
}

}  // namespace

asio::awaitable<RateDecision> RedisRateLimiter::admit(const std::string& workspace, int64_t now_us,
                                                      int64_t tokens) {
  std::vector<std::string> keys{kRpmPrefix + workspace, kTpmPrefix + workspace};
  std::vector<std::string> args{std::to_string(now_us), std::to_string(limits_.rpm), std::to_string(limits_.tpm),
                                std::to_string(tokens), std::to_string(kKeyTtlMs)};
  redis::Reply reply = co_await redis_.eval(admit_script(), std::move(keys), std::move(args));
  if (reply.type != redis::Reply::Type::array || reply.elements.size() != 2)
    throw redis::RedisError("ai rate limit script: unexpected reply");
  RateDecision d;
  const int64_t verdict = reply.elements[0].integer;
  if (verdict != 0) {
    d.verdict = verdict == 1 ? RateDecision::Verdict::rpm : RateDecision::Verdict::tpm;
    d.retry_after = std::chrono::milliseconds(std::max<int64_t>(1, reply.elements[1].integer));
  }
  co_return d;
}

asio::awaitable<void> RedisRateLimiter::correct(const std::string& workspace, int64_t now_us, int64_t delta) {
  if (limits_.tpm <= 0 || delta == 0) co_return;
  std::vector<std::string> keys{kTpmPrefix + workspace};
  std::vector<std::string> args{std::to_string(now_us), std::to_string(limits_.tpm), std::to_string(delta),
                                std::to_string(kKeyTtlMs)};
  co_await redis_.eval(correct_script(), std::move(keys), std::move(args));
}

void LocalRateLimiter::fill(State& s, double now) const {
  if (!s.bucket) {
    s.bucket = true;
    s.tokens = limits_.tpm;
    s.ts = now;
  }
  if (now > s.ts) {
    s.tokens = std::min<double>(limits_.tpm, s.tokens + (now - s.ts) * (limits_.tpm / kPeriodUs));
    s.ts = now;
  }
}

// Entries idle for longer than the key TTL hold nothing a fresh one would
// not; dropping them keeps the map within twice the number of active
// workspaces. The next scan waits until the map has doubled again, so that
// many active workspaces do not make every call scan them all.
void LocalRateLimiter::prune(int64_t now_us) {
  if (states_.size() < prune_at_) return;
  std::erase_if(states_, [&](const auto& kv) {
    const State& s = kv.second;
    // As in Redis (correct_script): a bucket in debt is kept until it would be full.
    double keep_us = kKeyTtlMs * 1000.0;
    if (s.bucket && s.tokens < 0) keep_us = std::max(keep_us, (limits_.tpm - s.tokens) * kPeriodUs / limits_.tpm);
    return static_cast<double>(now_us - s.last_use) > keep_us;
  });
  prune_at_ = std::max<size_t>(4096, 2 * states_.size());
}

RateDecision LocalRateLimiter::admit(const std::string& workspace, int64_t now_us, int64_t tokens) {
  std::lock_guard lock(mutex_);
  prune(now_us);
  State& s = states_[workspace];
  s.last_use = now_us;
  const double now = static_cast<double>(now_us);
  double rpm_wait = -1, tpm_wait = -1, tat = 0, left = 0;
  if (limits_.rpm > 0) {
    tat = std::max(s.tat, now) + kPeriodUs / limits_.rpm;
    if (tat - now > kPeriodUs + kSlack) rpm_wait = tat - now - kPeriodUs;
  }
  if (limits_.tpm > 0) {
    fill(s, now);
    const double need = std::min<double>(std::max<int64_t>(tokens, 0), limits_.tpm);
    if (s.tokens < need - kSlack) tpm_wait = (need - s.tokens) / (limits_.tpm / kPeriodUs);
    left = s.tokens - need;
  }
  RateDecision d;
  if (rpm_wait >= 0 || tpm_wait >= 0) {
    d.verdict = rpm_wait >= 0 ? RateDecision::Verdict::rpm : RateDecision::Verdict::tpm;
    d.retry_after = wait_ms(std::max(rpm_wait, tpm_wait));
    return d;
  }
  if (limits_.rpm > 0) s.tat = tat;
  if (limits_.tpm > 0) s.tokens = left;
  return d;
}

void LocalRateLimiter::correct(const std::string& workspace, int64_t now_us, int64_t delta) {
  if (limits_.tpm <= 0 || delta == 0) return;
  std::lock_guard lock(mutex_);
  prune(now_us);
  State& s = states_[workspace];
  s.last_use = now_us;
  fill(s, static_cast<double>(now_us));
  // As in correct_script: at most an hour's worth of tokens in debt.
  s.tokens = std::clamp<double>(s.tokens - static_cast<double>(delta), -kMaxDebtMinutes * limits_.tpm, limits_.tpm);
}

}  // namespace huntaze::ai_router
