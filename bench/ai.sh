#!/usr/bin/env bash
# Model router figures of the release build (the work is done by bench_ai,
# bench/ai_bench.cpp) against a private PostgreSQL (usage log) and Redis
# (cache), with the fake OpenAI upstream answering instantly in-process:
#   ai_direct_p50/p99        the upstream called directly at --rate
#   ai_routed_p50/p99        the same through POST /api/v1/ai/chat/completions (no-store)
#   ai_overhead_p50/p99      routed minus direct: what the router adds
#   ai_router_own_time_*     the router's own histogram (request minus upstream time), bucket bound
#   ai_cache_hit_p50/p99     the same request answered from the cache
#   ai_routed_max, ai_direct_max   closed-loop throughput
#   machine_wakeup_late_p99  how late a thread sleeping 1 ms wakes up on this host (its own
#                            noise, contained in every latency above)
# bench_ai exits 1, with no figures, when a request failed or a cache_hit answer was not a hit.
#
#   bench/ai.sh                                 1,000 req/s, 5 interleaved rounds of 2 s per path,
#                                               2 server I/O threads, usage log on
#   bench/ai.sh --rate 500 --seconds 5          flags go to bench_ai (see its header):
#                                               --rate --seconds --rounds --connections
#   bench/ai.sh --threads 1 --usage 0           one I/O thread; no usage log at all
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$HUNTAZE_ROOT"

"$HUNTAZE_ROOT/scripts/bootstrap"
if [ ! -f build/release/build.ninja ]; then
  cmake --preset release -S "$HUNTAZE_ROOT" >/dev/null || die "cmake configure (release) failed"
fi
log "building bench_ai (release)"
cmake --build build/release --target bench_ai -- -j"$(nproc)" || die "build (release) failed"

tmp=$(mktemp -d /tmp/huntaze-bench-ai.XXXXXX)
chmod 755 "$tmp"
cleanup() {
  redis_stop "$tmp/redis"
  pg_stop "$tmp/pg"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_port=$(free_port)
pg_start "$tmp/pg" "$pg_port" dev
pg_createdb "$pg_port" huntaze_bench
redis_port=$(free_port)
redis_start "$tmp/redis" "$redis_port" dev

log "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
build/release/bench/bench_ai --db "$(pg_url "$pg_port" huntaze_bench)" --redis-port "$redis_port" "$@"
