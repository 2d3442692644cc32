#!/usr/bin/env bash
# Accounts and projects through the real `sdsim serve` (SQLite in a temp data dir; then the
# same flow against a throw-away PostgreSQL from tests/services/postgres.sh when its binaries
# are installed): register, login, /api/me, projects (create, save, stale save 409, fork,
# list, delete), refresh rotation and reuse, forged and malformed tokens, the login rate
# limit, hostile project names stored verbatim, and the data surviving a restart.
# Usage: accounts.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE
sdsim=$1
src=$2
. "$src/tests/cli/lib/common.sh"
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
# A known secret, so that the test can sign tokens of its own (expired, wrong key).
secret=0123456789abcdef0123456789abcdef-accounts-test
export SDSIM_JWT_SECRET=$secret
pid=""
pgstate=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  [ -n "$pgstate" ] && bash "$src/tests/services/postgres.sh" stop "$pgstate" >/dev/null 2>&1
  [ -n "$pgstate" ] && bash "$src/tests/services/redis.sh" clean "$pgstate" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
good=$src/tests/cli/data/three_tier.json

. "$src/tests/cli/lib/server.sh"
post() { local path=$1 data=$2; shift 2; req -X POST -H 'content-type: application/json' \
  --data-binary "$data" "$@" "$B$path"; }
authz() { printf 'Authorization: Bearer %s' "$1"; }
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
# sign HEADER_JSON PAYLOAD_JSON KEY: an HS256 token made here.
sign() {
  local h p s
  h=$(printf '%s' "$1" | b64url)
  p=$(printf '%s' "$2" | b64url)
  s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$3" -binary | b64url)
  printf '%s.%s.%s' "$h" "$p" "$s"
}

design=$(cat "$good")
# flow LABEL DATA_DIR [SERVER OPTIONS...]
flow() {
  local L=$1 data=$2
  shift 2
  start "$data" "$@"

  # ---- register, login, me
  post /api/auth/register '{"email":"Ann@Example.com","password":"correct horse","name":"Ann Lee"}'
  check "$L register 201" [ "$code" = 201 ]
  local tok uid rt
  tok=$(jget .token)
  rt=$(jget .refreshToken)
  uid=$(jget .user.id)
  check "$L register answers user and tokens" [ "$(jget .user.email)" = ann@example.com \
    -a "$(jget .user.role)" = user -a "$(jget .user.subscriptionTier)" = free \
    -a ${#rt} = 43 -a "$(jget '.token | split(".") | length')" = 3 ]
  post /api/auth/register '{"email":"ann@example.com","password":"another one"}'
  check "$L same email again 409" [ "$code" = 409 ]
  post /api/auth/register '{"email":"not-an-email","password":"x"}'
  check "$L bad email and short password 422 with paths" [ "$code" = 422 \
    -a "$(jget '[.errors[].path] | sort | join(",")')" = '$.email,$.password' ]
  post /api/auth/login '{"email":"ann@example.com","password":"wrong password"}'
  check "$L wrong password 401" [ "$code" = 401 ]
  local t0 t1 t2
  t0=$(date +%s%N)
  post /api/auth/login '{"email":"nobody@example.com","password":"wrong password"}'
  t1=$(date +%s%N)
  check "$L unknown email 401, same message" [ "$code" = 401 \
    -a "$(jget .error)" = "wrong email or password" ]
  post /api/auth/login '{"email":"ANN@example.com","password":"correct horse"}'
  t2=$(date +%s%N)
  check "$L login 200 (email case-insensitive)" [ "$code" = 200 -a "$(jget .user.id)" = "$uid" ]
  # An unknown email burns a verify: it takes at least a third of what a real login takes
  # (a missing burn answers in well under a millisecond; argon2 takes tens).
  check "$L unknown email costs a verify ($(((t1 - t0) / 1000000)) ms vs $(((t2 - t1) / 1000000)) ms)" \
    [ $((3 * (t1 - t0))) -ge $((t2 - t1)) ]
  tok=$(jget .token)
  rt=$(jget .refreshToken)
  req -H "$(authz "$tok")" "$B/api/me"
  check "$L me 200" [ "$code" = 200 -a "$(jget .id)" = "$uid" -a "$(jget .name)" = "Ann Lee" \
    -a "$(jget .limits.maxProjects)" = 5 ]
  req -X PATCH -H "$(authz "$tok")" --data-binary '{"name":"Ann Marie Lee"}' "$B/api/me"
  check "$L patch me" [ "$code" = 200 -a "$(jget .firstName)" = Ann \
    -a "$(jget .lastName)" = "Marie Lee" ]

  # ---- tokens refused
  req "$B/api/me"
  check "$L no token 401" [ "$code" = 401 -a "$(jget .error)" != null ]
  req -H "Authorization: Basic abc" "$B/api/me"
  check "$L malformed header 401" [ "$code" = 401 ]
  req -H "$(authz garbage)" "$B/api/me"
  check "$L garbage token 401" [ "$code" = 401 ]
  local now claims
  now=$(date +%s)
  claims="{\"sub\":\"$uid\",\"role\":\"admin\",\"iss\":\"sdsim\",\"typ\":\"access\",\"iat\":$now,\"exp\":$((now + 600))}"
  local none
  none="$(printf '{"alg":"none","typ":"JWT"}' | b64url).$(printf '%s' "$claims" | b64url)."
  req -H "$(authz "$none")" "$B/api/me"
  check "$L alg none 401" [ "$code" = 401 ]
  req -H "$(authz "${tok%?}$( [ "${tok: -1}" = A ] && echo B || echo A)")" "$B/api/me"
  check "$L tampered signature 401" [ "$code" = 401 ]
  local mine
  mine=$(sign '{"alg":"HS256","typ":"JWT"}' "$claims" "$secret")
  req -H "$(authz "$mine")" "$B/api/me"
  check "$L a token signed here with the server's key is accepted (the signer works)" \
    [ "$code" = 200 ]
  req -H "$(authz "$(sign '{"alg":"HS256","typ":"JWT"}' "$claims" wrong-key-wrong-key-wrong-key-12)")" \
    "$B/api/me"
  check "$L wrong key 401" [ "$code" = 401 ]
  local old="{\"sub\":\"$uid\",\"role\":\"user\",\"iss\":\"sdsim\",\"typ\":\"access\",\"iat\":$((now - 2000)),\"exp\":$((now - 1000))}"
  req -H "$(authz "$(sign '{"alg":"HS256","typ":"JWT"}' "$old" "$secret")")" "$B/api/me"
  check "$L expired 401 ($(jget .error))" [ "$code" = 401 ]

  # ---- projects
  local hostile="x'); DROP TABLE projects;-- <script>alert(\"1\")</script> % _ \\\\ é"
  local pj
  pj=$(jq -nc --arg n "$hostile" --argjson d "$design" '{name:$n, description:"d", design:$d}')
  post /api/projects "$pj" -H "$(authz "$tok")"
  check "$L create project 201" [ "$code" = 201 -a "$(jget .version)" = 1 ]
  local id
  id=$(jget .id)
  check "$L hostile name returned verbatim" [ "$(jget .name)" = "$hostile" ]
  check "$L design stored as sent" [ "$(printf '%s' "$body" | jq -cS .design)" \
    = "$(jq -cS . "$good")" ]
  post /api/projects "$pj"
  check "$L create without token 401" [ "$code" = 401 ]
  post /api/projects '{"name":"bad","design":{"version":1,"components":[{"id":"a","type":"nope"}]}}' \
    -H "$(authz "$tok")"
  check "$L invalid design 422 with paths under \$.design" [ "$code" = 422 \
    -a "$(jget '.errors[0].path | startswith("$.design")')" = true ]
  post /api/projects '{"design":{}}' -H "$(authz "$tok")"
  check "$L missing name 422" [ "$code" = 422 ]
  local upd
  upd=$(jq -nc --argjson d "$design" '{version:1, name:"renamed", design:$d}')
  req -X PUT -H "$(authz "$tok")" --data-binary "$upd" "$B/api/projects/$id"
  check "$L update 200 version 2" [ "$code" = 200 -a "$(jget .version)" = 2 \
    -a "$(jget .name)" = renamed ]
  req -X PUT -H "$(authz "$tok")" --data-binary "$upd" "$B/api/projects/$id"
  check "$L stale update 409 with current version" [ "$code" = 409 \
    -a "$(jget .currentVersion)" = 2 ]
  req -X PUT -H "$(authz "$tok")" --data-binary '{"name":"n"}' "$B/api/projects/$id"
  check "$L update without version 422" [ "$code" = 422 ]
  req -H "$(authz "$tok")" "$B/api/projects/$id"
  check "$L get 200" [ "$code" = 200 -a "$(jget .name)" = renamed -a "$(jget .version)" = 2 ]
  req -X POST -H "$(authz "$tok")" "$B/api/projects/$id/fork"
  check "$L fork 201" [ "$code" = 201 -a "$(jget .forkedFrom)" = "$id" -a "$(jget .id)" != "$id" ]
  local fork
  fork=$(jget .id)
  req -H "$(authz "$tok")" "$B/api/projects?limit=1"
  check "$L list paged" [ "$code" = 200 -a "$(jget .total)" = 2 -a "$(jget '.projects | length')" = 1 ]
  req -H "$(authz "$tok")" "$B/api/projects?limit=0"
  check "$L bad limit 422" [ "$code" = 422 ]
  # another user sees none of it
  post /api/auth/register '{"email":"bob@example.com","password":"bobs password"}'
  local tb
  tb=$(jget .token)
  req -H "$(authz "$tb")" "$B/api/projects/$id"
  check "$L someone else's private project 404" [ "$code" = 404 ]
  req -X DELETE -H "$(authz "$tb")" "$B/api/projects/$id"
  check "$L someone else cannot delete 404" [ "$code" = 404 ]
  req -H "$(authz "$tok")" "$B/api/projects/not-a-uuid"
  check "$L malformed id 404" [ "$code" = 404 ]
  req -X DELETE -H "$(authz "$tok")" "$B/api/projects/$fork"
  check "$L delete 204" [ "$code" = 204 ]
  req -X DELETE -H "$(authz "$tok")" "$B/api/projects/$fork"
  check "$L delete again 404" [ "$code" = 404 ]
  # the free plan's limit (5): 1 left after the delete, 4 more creations fill it
  local i
  for i in 1 2 3 4; do post /api/projects "$pj" -H "$(authz "$tok")"; done
  check "$L fifth project 201" [ "$code" = 201 ]
  post /api/projects "$pj" -H "$(authz "$tok")"
  check "$L sixth project 403 (limit)" [ "$code" = 403 -a "$(jget .limit)" = 5 ]
  # concurrent creations do not go past the limit either (delete 2, then 6 at once)
  req -H "$(authz "$tok")" "$B/api/projects?limit=2"
  local p1 p2
  p1=$(jget '.projects[0].id')
  p2=$(jget '.projects[1].id')
  req -X DELETE -H "$(authz "$tok")" "$B/api/projects/$p1"
  req -X DELETE -H "$(authz "$tok")" "$B/api/projects/$p2"
  local kids=()
  for i in 1 2 3 4 5 6; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST --data-binary "$pj" -H "$(authz "$tok")" \
      "$B/api/projects" >"$tmp/par.$i" &
    kids+=($!)
  done
  wait "${kids[@]}"
  req -H "$(authz "$tok")" "$B/api/projects?limit=100"
  check "$L 6 concurrent creations with 2 places left: at most 2 created ($(cat "$tmp"/par.* | sort | uniq -c | tr -s ' \n' ' '))" \
    [ "$(jget .total)" -le 5 -a "$(cat "$tmp"/par.* | grep -c 201)" -le 2 ]
  # top up to 5 again for the checks after restart
  while [ "$(jget .total)" -lt 5 ]; do
    post /api/projects "$pj" -H "$(authz "$tok")"
    req -H "$(authz "$tok")" "$B/api/projects?limit=1"
  done

  # ---- refresh rotation and reuse
  post /api/auth/refresh "{\"refreshToken\":\"$rt\"}"
  check "$L refresh 200 rotated" [ "$code" = 200 -a "$(jget .refreshToken)" != "$rt" \
    -a "$(jget .user.id)" = "$uid" ]
  local rt2
  rt2=$(jget .refreshToken)
  req -H "$(authz "$(jget .token)")" "$B/api/me"
  check "$L the new access token works" [ "$code" = 200 ]
  post /api/auth/refresh "{\"refreshToken\":\"$rt\"}"
  check "$L reused refresh token 401" [ "$code" = 401 ]
  post /api/auth/refresh "{\"refreshToken\":\"$rt2\"}"
  check "$L reuse revoked the family (the newer token too)" [ "$code" = 401 ]
  post /api/auth/refresh '{"refreshToken":"short"}'
  check "$L malformed refresh token 401" [ "$code" = 401 ]
  post /api/auth/login '{"email":"ann@example.com","password":"correct horse"}'
  local rt3
  rt3=$(jget .refreshToken)
  post /api/auth/logout "{\"refreshToken\":\"$rt3\"}"
  check "$L logout 204" [ "$code" = 204 ]
  post /api/auth/refresh "{\"refreshToken\":\"$rt3\"}"
  check "$L refresh after logout 401" [ "$code" = 401 ]

  # ---- login rate limit: 10 attempts per 5 minutes per email and address
  local codes=""
  for i in $(seq 11); do
    post /api/auth/login '{"email":"bob@example.com","password":"wrong password"}'
    codes="$codes$code "
  done
  check "$L 11th login attempt 429 ($codes)" [ "$code" = 429 \
    -a "$(grep -ci '^retry-after:' "$tmp/h")" = 1 ]
  post /api/auth/login '{"email":"ann@example.com","password":"correct horse"}'
  check "$L another email is not limited" [ "$code" = 200 ]

  # ---- restart: the data is still there
  stop_server "$L"
  start "$data" "$@"
  req -H "$(authz "$tok")" "$B/api/projects/$id"
  check "$L after restart the project is intact" [ "$code" = 200 -a "$(jget .version)" = 2 \
    -a "$(jget .name)" = renamed ]
  post /api/auth/login '{"email":"ann@example.com","password":"correct horse"}'
  check "$L after restart login works" [ "$code" = 200 ]
  req -H "$(authz "$(jget .token)")" "$B/api/projects"
  check "$L after restart list has 5 projects" [ "$(jget .total)" = 5 ]
  stop_server "$L (after restart)"
}

flow sqlite "$tmp/data"
check "sqlite database file in the data dir" [ -s "$tmp/data/sdsim.db" ]
# the audit log has the sign-ins, with the client's address
if command -v sqlite3 >/dev/null; then
  actions=$(sqlite3 "$tmp/data/sdsim.db" \
    "SELECT action FROM audit_log GROUP BY action ORDER BY action" | tr '\n' ' ')
  check "audit actions: $actions" [ "$actions" = \
    "login login_failed login_rate_limited logout refresh_reuse register " ]
  check "audit rows of logins carry the address" [ "$(sqlite3 "$tmp/data/sdsim.db" \
    "SELECT count(*) FROM audit_log WHERE action = 'login' AND ip = '127.0.0.1'")" -ge 3 ]
else
  echo "skip audit check: no sqlite3"
fi

# PostgreSQL (and Redis for the bus, when redis-server is installed): throw-away servers.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  pgstate=$tmp/pg
  redis_opt=()
  if command -v redis-server >/dev/null \
    && rurl=$(bash "$src/tests/services/redis.sh" start "$pgstate" 2>>"$tmp/pg.log" | tail -n1) \
    && [ -n "$rurl" ]; then
    redis_opt=(--redis "$rurl")
  fi
  if url=$(bash "$src/tests/services/postgres.sh" start "$pgstate" 2>>"$tmp/pg.log" | tail -n1) \
    && [ -n "$url" ]; then
    flow postgres "$tmp/data-pg" --database "$url" "${redis_opt[@]}"
    if [ ${#redis_opt[@]} -gt 0 ]; then
      # the login counts were kept in Redis (the bus was not in-process)
      rport=${rurl##*:}
      check "postgres login rate-limit keys are in Redis" \
        [ -n "$(redis-cli -p "$rport" --scan --pattern '*login*' 2>/dev/null | head -n1)" ]
    else
      echo "skip Redis: redis-server not installed"
    fi
  else
    bad "postgres could not start: $(tail -3 "$tmp/pg.log")"
  fi
else
  echo "skip PostgreSQL flow: no PostgreSQL server binaries"
fi

finish
