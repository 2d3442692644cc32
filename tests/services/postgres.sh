#!/usr/bin/env bash
# A throw-away PostgreSQL for tests, on a free loopback port.
#   postgres.sh start STATE_DIR   initdb in a fresh temp dir, start; writes STATE_DIR/pg.url
#   postgres.sh stop STATE_DIR    stop it and remove its files
# The server refuses to run as root: as root, the data lives in a postgres-owned temp dir and
# the server runs as postgres; as anyone else, it runs as that user. Running start twice stops
# the first instance. fsync is off: the data is thrown away anyway.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

cmd=${1:?usage: postgres.sh start|stop STATE_DIR}
state=${2:?usage: postgres.sh start|stop STATE_DIR}
mkdir -p "$state"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$bindir/initdb" ] || { echo "postgres.sh: PostgreSQL server binaries not found" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

stop() {
  [ -f "$state/pg.dir" ] || return 0
  local dir
  dir=$(cat "$state/pg.dir")
  if [ -d "$dir/data" ]; then
    as_pg "'$bindir/pg_ctl' -D '$dir/data' -m immediate -w stop" >/dev/null 2>&1 || true
  fi
  case "$dir" in /tmp/sdsim-pg.*) rm -rf "$dir" ;; esac
  rm -f "$state/pg.dir" "$state/pg.url"
}

start() {
  stop
  local dir port try
  dir=$(mktemp -d /tmp/sdsim-pg.XXXXXX)
  echo "$dir" > "$state/pg.dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  as_pg "'$bindir/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 --no-locale --no-sync" \
    > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  for try in 1 2 3 4 5; do
    port=$(free_port)
    if as_pg "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 20 \
        -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off \
        -c full_page_writes=off -c synchronous_commit=off\" start" > /dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$port/postgres" > "$state/pg.url"
      cat "$state/pg.url"
      return 0
    fi
  done
  cat "$dir/server.log" >&2
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: postgres.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
