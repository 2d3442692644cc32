#!/usr/bin/env bash
# A throw-away Redis for tests, on a free loopback port (no persistence).
#   redis.sh start STATE_DIR     start; writes STATE_DIR/redis.url (and redis.port)
#   redis.sh stop STATE_DIR      stop it (the port is kept in redis.port)
#   redis.sh restart STATE_DIR   start again on the same port (tests of reconnection)
#   redis.sh clean STATE_DIR     stop it and remove its files
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

cmd=${1:?usage: redis.sh start|stop|restart|clean STATE_DIR}
state=${2:?usage: redis.sh start|stop|restart|clean STATE_DIR}
mkdir -p "$state"
command -v redis-server >/dev/null || { echo "redis.sh: redis-server not found" >&2; exit 1; }

stop() {
  [ -f "$state/redis.dir" ] || return 0
  local dir pid i
  dir=$(cat "$state/redis.dir")
  if [ -f "$dir/redis.pid" ]; then
    pid=$(cat "$dir/redis.pid")
    if kill "$pid" 2>/dev/null; then
      for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
    fi
    rm -f "$dir/redis.pid"
  fi
}

launch() {
  local dir=$1 port=$2
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >/dev/null
  wait_port "$port"
}

start() {
  stop
  local dir port try
  if [ -f "$state/redis.dir" ] && [ -d "$(cat "$state/redis.dir")" ]; then
    dir=$(cat "$state/redis.dir")
  else
    dir=$(mktemp -d /tmp/sdsim-redis.XXXXXX)
    echo "$dir" > "$state/redis.dir"
  fi
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if launch "$dir" "$port"; then
      echo "$port" > "$state/redis.port"
      echo "redis://127.0.0.1:$port" > "$state/redis.url"
      cat "$state/redis.url"
      return 0
    fi
  done
  cat "$dir/redis.log" >&2
  exit 1
}

restart() {
  local dir port
  dir=$(cat "$state/redis.dir")
  port=$(cat "$state/redis.port")
  stop
  launch "$dir" "$port"
}

clean() {
  stop
  if [ -f "$state/redis.dir" ]; then
    case "$(cat "$state/redis.dir")" in /tmp/sdsim-redis.*) rm -rf "$(cat "$state/redis.dir")" ;; esac
  fi
  rm -f "$state/redis.dir" "$state/redis.url" "$state/redis.port"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) restart ;;
  clean) clean ;;
  *) echo "usage: redis.sh start|stop|restart|clean STATE_DIR" >&2; exit 2 ;;
esac
