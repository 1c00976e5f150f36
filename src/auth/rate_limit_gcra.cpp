#include "auth/rate_limit_gcra.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

namespace huntaze::auth::gcra {

namespace asio = boost::asio;

namespace {

// KEYS: one TAT key per rule (a decimal string of µs), then any deny keys:
//       keys whose existence refuses the request outright (a revoked
//       session), checked in the same round trip.
// ARGV[1]: now in µs, or '' for the server's TIME (so that every instance
//          shares one clock; Redis 7 replicates scripts by effects, which
//          lets a script read TIME and then write).
// ARGV[2]: the cost. Then per key i: ARGV[1+2i] T, ARGV[2+2i] B (µs).
// Returns {now, allowed (1 or 0), prior TAT of each rule key..., denied (1 or
// 0)}; writes nothing unless every key passes and no deny key exists. Numbers stay integers below 2^53, exact in Lua's
// doubles; they are written with %.17g because tostring() keeps 14 digits.
// The arithmetic must stay the same as LocalGcra::check's.
const redis::Script& check_script() {
  static const redis::Script script(R"lua(
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[1])
end
local cost = tonumber(ARGV[2])
local n = (#ARGV - 2) / 2
local denied = 0
for j = n + 1, #KEYS do
  if redis.call('EXISTS', KEYS[j]) == 1 then denied = 1 end
end
local prior, after = {}, {}
local allowed = 1 - denied
for i = 1, n do
  local interval = tonumber(ARGV[1 + 2 * i])
  local tolerance = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '') or now
  if tat < now then tat = now end
  prior[i] = tat
  after[i] = tat + cost * interval
  if after[i] - now > tolerance then allowed = 0 end
end
if allowed == 1 then
  for i = 1, n do
    local ttl = math.ceil((after[i] - now) / 1000)
    redis.call('SET', KEYS[i], string.format('%.17g', after[i]), 'PX', string.format('%.17g', ttl))
  end
end
local out = {now, allowed}
for i = 1, n do out[2 + i] = prior[i] end
out[3 + n] = denied
return out
)lua");
  return script;
}

}  // namespace

Params params_of(int64_t limit, int64_t period_ms) {
  if (limit <= 0) throw std::invalid_argument("rate rule: a disabled rule has no GCRA parameters");
  if (period_ms <= 0) throw std::invalid_argument("rate rule: the period must be positive");
  Params p;
  const int64_t period_us = period_ms * 1000;
  p.limit = limit;
  p.interval_us = (period_us + limit - 1) / limit;
  p.tolerance_us = p.interval_us * limit;
  return p;
}

asio::awaitable<Outcome> check_in_redis(redis::Redis& redis, std::vector<std::string> keys, std::vector<Params> params,
                                        int64_t cost, std::optional<int64_t> now_us,
                                        std::vector<std::string> deny_keys) {
  std::vector<std::string> args;
  args.reserve(2 + 2 * params.size());
  args.push_back(now_us ? std::to_string(*now_us) : std::string());
  args.push_back(std::to_string(cost));
  for (const Params& p : params) {
    args.push_back(std::to_string(p.interval_us));
    args.push_back(std::to_string(p.tolerance_us));
  }
  const size_t n = keys.size();
  for (auto& k : deny_keys) keys.push_back(std::move(k));
  redis::Reply reply = co_await redis.eval(check_script(), std::move(keys), std::move(args));
  if (reply.type != redis::Reply::Type::array || reply.elements.size() != 3 + n)
    throw redis::RedisError("rate limit script: unexpected reply");
  for (const auto& e : reply.elements)
    if (e.type != redis::Reply::Type::integer) throw redis::RedisError("rate limit script: unexpected reply");
  Outcome out;
  out.now_us = reply.elements[0].integer;
  out.allowed = reply.elements[1].integer == 1;
  out.prior_tat_us.reserve(n);
  for (size_t i = 0; i < n; ++i) out.prior_tat_us.push_back(reply.elements[2 + i].integer);
  out.denied = reply.elements[2 + n].integer == 1;
  co_return out;
}

LocalGcra::LocalGcra(size_t max_keys)
    : shards_(std::make_unique<Shard[]>(kShards)), shard_cap_(std::max<size_t>(1, max_keys / kShards)) {}

size_t LocalGcra::shard_of(const std::string& key) const {
  return std::hash<std::string>{}(key) % kShards;
}

// Called with the shard locked, before `incoming` new keys go in.
void LocalGcra::make_room(Shard& shard, size_t incoming, int64_t now_us) {
  auto& tats = shard.tats;
  if (tats.size() + incoming <= shard_cap_) return;
  std::erase_if(tats, [&](const auto& kv) { return kv.second <= now_us; });
  const size_t target = shard_cap_ > incoming ? shard_cap_ - incoming : 0;
  if (tats.size() <= target) return;
  // Drop at least what is needed and an eighth more, so that a full shard
  // is not scanned on every new key.
  const size_t drop = std::min(tats.size(), tats.size() - target + tats.size() / 8);
  std::vector<int64_t> values;
  values.reserve(tats.size());
  for (const auto& kv : tats) values.push_back(kv.second);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(drop - 1), values.end());
  const int64_t threshold = values[drop - 1];
  // Exactly `drop`, even when many keys share the threshold.
  size_t ties =
      drop - static_cast<size_t>(std::count_if(values.begin(), values.end(), [&](int64_t v) { return v < threshold; }));
  std::erase_if(tats, [&](const auto& kv) {
    if (kv.second < threshold) return true;
    if (kv.second == threshold && ties > 0) {
      --ties;
      return true;
    }
    return false;
  });
  evictions_.fetch_add(drop, std::memory_order_relaxed);
}

Outcome LocalGcra::check(const std::vector<std::string>& keys, const std::vector<Params>& params, int64_t cost,
                         int64_t now_us) {
  const size_t n = keys.size();
  std::vector<size_t> shard_ids(n);
  for (size_t i = 0; i < n; ++i) shard_ids[i] = shard_of(keys[i]);
  // Every shard involved, locked in index order (no deadlock between checks).
  std::vector<size_t> order = shard_ids;
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(order.size());
  for (size_t s : order) locks.emplace_back(shards_[s].mutex);

  Outcome out;
  out.now_us = now_us;
  out.allowed = true;
  out.prior_tat_us.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& tats = shards_[shard_ids[i]].tats;
    auto it = tats.find(keys[i]);
    const int64_t tat = it == tats.end() ? now_us : std::max(it->second, now_us);
    out.prior_tat_us[i] = tat;
    if (refuses(params[i], tat, now_us, cost)) out.allowed = false;
  }
  if (!out.allowed) return out;

  for (size_t s : order) {
    size_t incoming = 0;
    for (size_t i = 0; i < n; ++i)
      if (shard_ids[i] == s && !shards_[s].tats.contains(keys[i])) ++incoming;
    make_room(shards_[s], incoming, now_us);
  }
  for (size_t i = 0; i < n; ++i)
    shards_[shard_ids[i]].tats[keys[i]] = out.prior_tat_us[i] + cost * params[i].interval_us;
  return out;
}

std::optional<int64_t> LocalGcra::tat(const std::string& key) const {
  const Shard& shard = shards_[shard_of(key)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.tats.find(key);
  if (it == shard.tats.end()) return std::nullopt;
  return it->second;
}

size_t LocalGcra::size() const {
  size_t total = 0;
  for (size_t s = 0; s < kShards; ++s) {
    std::lock_guard lock(shards_[s].mutex);
    total += shards_[s].tats.size();
  }
  return total;
}

}  // namespace huntaze::auth::gcra
