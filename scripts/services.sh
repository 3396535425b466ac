#!/bin/sh
# Local PostgreSQL and Redis for trying several replicas by hand (the tests start their own, see
# test/support/services.ts). Data lives in $SERVICES_DIR; nothing is installed or left as a service.
#
#   scripts/services.sh start    # start both, print the variables to point replicas at them
#   scripts/services.sh env      # print those variables again
#   scripts/services.sh status
#   scripts/services.sh stop     # stop both (data is kept; `rm -rf $SERVICES_DIR` to drop it)
#
# Ports: PG_PORT (default 55432) and REDIS_PORT (default 56379), on 127.0.0.1 only. Needs the Debian
# packages postgresql and redis-server (scripts/system-deps.sh). As root, PostgreSQL runs as the
# postgres system user (it refuses root).
set -eu
SERVICES_DIR="${SERVICES_DIR:-/tmp/smarterrouter-services}"
PG_PORT="${PG_PORT:-55432}"
REDIS_PORT="${REDIS_PORT:-56379}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
PG_DATA="$SERVICES_DIR/pg"
REDIS_PID="$SERVICES_DIR/redis.pid"

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

need() {
  [ -x "$1" ] || { echo "missing $1: install $2 (sh scripts/system-deps.sh)" >&2; exit 1; }
}

print_env() {
  echo "ROUTER_DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/smarterrouter"
  echo "ROUTER_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

start() {
  need "$PG_BIN/initdb" postgresql
  need "$(command -v redis-server || echo /usr/bin/redis-server)" redis-server
  mkdir -p "$SERVICES_DIR"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$SERVICES_DIR"
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust -E UTF8 --locale=C >/dev/null
  fi
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$SERVICES_DIR/pg.log" -w -t 30 \
      -o "-p $PG_PORT -h 127.0.0.1 -k $SERVICES_DIR" start >/dev/null
  fi
  as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "select 1 from pg_database where datname = 'smarterrouter'" | grep -q 1 ||
    as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "create database smarterrouter"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$SERVICES_DIR" --save '' --appendonly no \
      --daemonize yes --pidfile "$REDIS_PID" --logfile "$SERVICES_DIR/redis.log"
  fi
  echo "PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT; for each replica:"
  print_env
}

stop() {
  if [ -f "$PG_DATA/PG_VERSION" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  echo "stopped"
}

status() {
  if [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    echo "PostgreSQL: running on 127.0.0.1:$PG_PORT"
  else
    echo "PostgreSQL: stopped"
  fi
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then echo "Redis: running on 127.0.0.1:$REDIS_PORT"; else echo "Redis: stopped"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
