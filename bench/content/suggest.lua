-- wrk script for bench/content.sh: POST /api/v1/conversations/{fan}/suggestions.
--   BENCH_SUGGEST_MODE=hit   every request for the same fan (BENCH_SUGGEST_FAN): cache hits
--   BENCH_SUGGEST_MODE=miss  every request for a fan not asked before (the ids in
--                            BENCH_FANS_FILE, each thread its own stripe): two model calls
--   env: BENCH_TOKEN BENCH_WORKSPACE BENCH_THREADS

local next_thread = 1

function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end

local fans = {}
local headers, mode, fixed, cursor, stride

function init(args)
  mode = os.getenv("BENCH_SUGGEST_MODE") or "hit"
  fixed = os.getenv("BENCH_SUGGEST_FAN")
  if mode == "miss" then
    for line in io.lines(os.getenv("BENCH_FANS_FILE")) do
      if #line > 0 then fans[#fans + 1] = line end
    end
  end
  stride = tonumber(os.getenv("BENCH_THREADS") or "1")
  cursor = tid
  headers = {
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
    ["X-Huntaze-Workspace"] = os.getenv("BENCH_WORKSPACE"),
  }
end

function request()
  local fan = fixed
  if mode == "miss" then
    -- Past the end of the list the fans repeat (and hit the cache): the
    -- script prints a warning through the count of calls the upstream saw.
    fan = fans[((cursor - 1) % #fans) + 1]
    cursor = cursor + stride
  end
  return wrk.format("POST", "/api/v1/conversations/" .. fan .. "/suggestions", headers, "")
end
