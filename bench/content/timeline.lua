-- wrk script for bench/content.sh: GET one conversation's latest messages,
-- a random fan per request out of the ids listed in BENCH_FANS_FILE.
--   env: BENCH_TOKEN BENCH_WORKSPACE BENCH_FANS_FILE BENCH_LIMIT

-- Each thread's number seeds its random choice of fans.
local next_thread = 1

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

local fans = {}
local headers, limit

function init(args)
  for line in io.lines(os.getenv("BENCH_FANS_FILE")) do
    if #line > 0 then fans[#fans + 1] = line end
  end
  limit = os.getenv("BENCH_LIMIT") or "50"
  headers = {
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
    ["X-Huntaze-Workspace"] = os.getenv("BENCH_WORKSPACE"),
  }
  math.randomseed(os.time() * 1000 + tid)
end

function request()
  local fan = fans[math.random(#fans)]
  return wrk.format("GET", "/api/v1/conversations/" .. fan .. "/messages?limit=" .. limit, headers)
end
