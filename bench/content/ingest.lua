-- wrk script for bench/content.sh: POST /api/v1/ingest/messages, each
-- request a batch of BENCH_BATCH (500) messages with ids never sent before
-- (wrk thread number and a per-thread counter), spread over BENCH_FANS fans
-- and the BENCH_SPREAD seconds before BENCH_NOW. A batch holds messages of
-- BENCH_FANS_PER_BATCH of those fans (consecutive ones, a different window
-- each batch; all of them by default). Counts the answers that created the
-- whole batch.
--   env: BENCH_TOKEN BENCH_WORKSPACE BENCH_FANS BENCH_FANS_PER_BATCH BENCH_BATCH BENCH_NOW BENCH_SPREAD

local threads = {}
local next_thread = 1

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local batch, fans, per_batch, now, spread, headers
local n = 0
local live = false

function init(args)
  batch = tonumber(os.getenv("BENCH_BATCH") or "500")
  fans = tonumber(os.getenv("BENCH_FANS") or "500")
  per_batch = math.min(fans, tonumber(os.getenv("BENCH_FANS_PER_BATCH") or tostring(fans)))
  now = tonumber(os.getenv("BENCH_NOW"))
  spread = tonumber(os.getenv("BENCH_SPREAD") or "2592000")
  live = os.getenv("BENCH_LIVE") == "1"
  headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
    ["X-Huntaze-Workspace"] = os.getenv("BENCH_WORKSPACE"),
  }
  full = 0
  partial = 0
end

local bodies = {
  "hey, did you see my last post?",
  "thanks for the tip babe, that made my day",
  "what are you up to tonight?",
  "I have something special for you, want a peek?",
  "haha you are too sweet",
  "can you send the video from yesterday?",
  "good morning! how did you sleep?",
  "new set is out, check your messages",
}

function request()
  n = n + 1
  local parts = {}
  local first_fan = (n * 7919 + tid * 131) % fans
  for i = 0, batch - 1 do
    local seq = n * batch + i
    local fan = (first_fan + i % per_batch) % fans
    local t = now - ((seq * 61 + tid * 17) % spread)
    local stamp = os.date("!%Y-%m-%dT%H:%M:%SZ", t)
    if live then
      -- A live stream: every message newer than the last, so every batch
      -- moves each of its fans' last-message times (a fan-row write each).
      stamp = os.date("!%Y-%m-%dT%H:%M:%S", os.time()) .. string.format(".%06dZ", seq % 1000000)
    end
    parts[#parts + 1] = string.format(
      '{"platform_message_id":"t%d-%d-%d","platform_fan_id":"fan-%d","direction":"%s","body":"%s","sent_at":"%s"}',
      tid, n, i, fan, (seq % 3 == 0) and "out" or "in", bodies[seq % #bodies + 1], stamp)
  end
  local body = '{"platform":"onlyfans","items":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/api/v1/ingest/messages", headers, body)
end

function response(status, hdrs, body)
  if status == 200 and string.find(body, '"created":' .. batch .. ',', 1, true) then
    full = full + 1
  else
    partial = partial + 1
  end
end

function done(summary, latency, requests)
  local f, p = 0, 0
  for _, t in ipairs(threads) do
    f = f + t:get("full")
    p = p + t:get("partial")
  end
  io.write(string.format("batches fully created: %d, other answers: %d\n", f, p))
end
