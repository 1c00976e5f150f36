# Sourced by bench/content.sh (after scripts/lib/common.sh): fills
# content.messages straight in SQL for the timeline benchmark.

# content_fill <db url> <workspace id> <fans> <rows> <months> <parallel jobs> <scratch dir>:
# <fans> fans (platform onlyfans, platform ids bulk-N) and <rows> messages
# spread evenly over them and over the <months> months before now, one
# INSERT ... SELECT per monthly partition, <parallel jobs> at a time; then
# VACUUM ANALYZE (as autovacuum would, and so that it does not run during
# the measurement) and a CHECKPOINT.
content_fill() {
  local url=$1 ws=$2 fans=$3 rows=$4 months=$5 jobs=$6 dir=$7
  local here start=$SECONDS
  here="$(dirname "${BASH_SOURCE[0]}")"
  local psql=("$PG_BIN/psql" "$url" -qAtX -v ON_ERROR_STOP=1)
  "${psql[@]}" -v ws="$ws" -v fans="$fans" -f "$here/fill_fans.sql"
  "${psql[@]}" -v rows="$rows" -v months="$months" -F ' ' -f "$here/fill_plan.sql" >"$dir/plan.txt"
  # The partitions first, in one transaction under the lock the server's own
  # partition maintenance takes (db::MonthlyPartitions).
  {
    echo "SET client_min_messages = warning; BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('content.messages', 0));"
    local part from to rest
    while read -r part from to rest; do
      echo "CREATE TABLE IF NOT EXISTS content.$part PARTITION OF content.messages FOR VALUES FROM ('$from') TO ('$to');"
    done <"$dir/plan.txt"
    echo "COMMIT;"
  } | "${psql[@]}" >/dev/null
  local pids=() c_lo c_hi first count pid
  while read -r part _ _ c_lo c_hi first count; do
    [ "$count" -gt 0 ] || continue
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.1; done
    "${psql[@]}" -v ws="$ws" -v fans="$fans" -v part="$part" -v c_lo="$c_lo" -v c_hi="$c_hi" \
      -v first="$first" -v count="$count" -f "$here/fill_month.sql" </dev/null &
    pids+=($!)
  done <"$dir/plan.txt"
  for pid in "${pids[@]}"; do wait "$pid" || die "filling a partition failed"; done
  log "fill: $rows rows inserted in $((SECONDS - start)) s; VACUUM ANALYZE and CHECKPOINT"
  "${psql[@]}" -c "VACUUM (ANALYZE) content.fans" -c "VACUUM (ANALYZE) content.messages" -c "CHECKPOINT"
}
