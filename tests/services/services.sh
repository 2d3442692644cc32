#!/usr/bin/env bash
# The ctest fixture of tests/store: PostgreSQL and Redis on free loopback ports.
#   services.sh start STATE_DIR   both up; URLs in STATE_DIR/pg.url and STATE_DIR/redis.url
#   services.sh stop STATE_DIR    both down, their temp dirs removed
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: services.sh start|stop STATE_DIR}
state=${2:?usage: services.sh start|stop STATE_DIR}
case "$cmd" in
  start)
    bash "$here/postgres.sh" start "$state"
    bash "$here/redis.sh" start "$state"
    ;;
  stop)
    rc=0
    bash "$here/postgres.sh" stop "$state" || rc=1
    bash "$here/redis.sh" clean "$state" || rc=1
    exit $rc
    ;;
  *) echo "usage: services.sh start|stop STATE_DIR" >&2; exit 2 ;;
esac
