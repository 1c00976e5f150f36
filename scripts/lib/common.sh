# Shared by scripts/run, scripts/test and bench/*: building and private services.
# Source it; it defines functions only.

HUNTAZE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# initdb and postgres refuse to run as root; as root we run them as this user.
PG_SYSTEM_USER=huntaze-pg

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# build <preset>: configure once, then build incrementally with Ninja.
build() {
  local preset=$1
  local dir="$HUNTAZE_ROOT/build/$preset"
  if [ ! -f "$dir/build.ninja" ]; then
    cmake --preset "$preset" -S "$HUNTAZE_ROOT" >/dev/null || die "cmake configure ($preset) failed"
  fi
  log "building ($preset)"
  cmake --build "$dir" -- -j"$(nproc)" || die "build ($preset) failed"
}

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_SYSTEM_USER" -- "$@"
  else
    "$@"
  fi
}

ensure_pg_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  id "$PG_SYSTEM_USER" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_SYSTEM_USER"
}

# pg_start <datadir> <port> <profile: dev|test>
pg_start() {
  local data=$1 port=$2 profile=$3
  ensure_pg_user
  mkdir -p "$data"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$PG_SYSTEM_USER" "$data"
    as_pg_user test -w "$data" || die "$PG_SYSTEM_USER cannot reach $data (a parent directory is not searchable)"
  fi
  chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    as_pg_user "$PG_BIN/initdb" -D "$data" -U huntaze --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null \
      || die "initdb failed"
  fi
  local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c max_connections=300"
  if [ "$profile" = test ]; then
    # Throwaway data: durability off for speed.
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB"
  fi
  as_pg_user "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -o "$opts" -w -t 60 start >/dev/null \
    || { cat "$data/server.log" >&2; die "PostgreSQL did not start"; }
}

pg_stop() {
  local data=$1
  [ -f "$data/postmaster.pid" ] || return 0
  as_pg_user "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
}

# pg_url <port> <dbname>
pg_url() { echo "host=127.0.0.1 port=$1 user=huntaze dbname=$2"; }

pg_createdb() {
  local port=$1 name=$2
  "$PG_BIN/psql" "$(pg_url "$port" postgres)" -qAt -v ON_ERROR_STOP=1 \
    -c "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 \
    || "$PG_BIN/psql" "$(pg_url "$port" postgres)" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name" >/dev/null
}

# pg_drop_test_databases PORT: drops the per-test databases (t_*) that crashed
# tests left behind, so one pass's leftovers do not fill the disk for the next.
pg_drop_test_databases() {
  local port=$1 name
  for name in $("$PG_BIN/psql" "$(pg_url "$port" postgres)" -qAt \
                  -c "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'"); do
    "$PG_BIN/psql" "$(pg_url "$port" postgres)" -q \
      -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
}

# redis_start <dir> <port> <profile: dev|test>
redis_start() {
  local dir=$1 port=$2 profile=$3
  mkdir -p "$dir"
  local persist=(--save "" --appendonly no)
  [ "$profile" = dev ] && persist=(--save "60 1" --appendonly no)
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "${persist[@]}" >/dev/null \
    || die "redis-server did not start"
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  die "redis-server did not answer on port $port"
}

redis_stop() {
  local dir=$1
  [ -f "$dir/redis.pid" ] || return 0
  local pid
  pid=$(cat "$dir/redis.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$dir/redis.pid"
}
