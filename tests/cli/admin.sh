#!/usr/bin/env bash
# Administration through the real `sdsim serve` and `sdsim admin` (SQLite in a temp data dir;
# then the same flow against a throw-away PostgreSQL from tests/services/postgres.sh when its
# binaries are installed): the first admin made offline (server stopped) with `sdsim admin
# set-role`, then live; every admin route refused to a user (403) and without a token (401);
# listing with paging; role, tier and active changes; per-user limits that the project limit
# then enforces; deactivation signing the user out; an admin unable to demote or deactivate
# themself; a demoted or deactivated admin's still-valid token refused at once; bad bodies;
# the audit log of every action, in order, with actor, target, detail and address.
# Usage: admin.sh SDSIM_BINARY SOURCE_DIR
set -u
trap '' PIPE
sdsim=$1
src=$2
. "$src/tests/cli/lib/common.sh"
export LSAN_OPTIONS="suppressions=$src/tests/server/lsan.supp:print_suppressions=0"
export SDSIM_JWT_SECRET=0123456789abcdef0123456789abcdef-admin-test
unset SDSIM_DATABASE_URL
pid=""
pgstate=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  [ -n "$pgstate" ] && bash "$src/tests/services/postgres.sh" stop "$pgstate" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
. "$src/tests/cli/lib/server.sh"
post() { local path=$1 data=$2; shift 2; req -X POST -H 'content-type: application/json' \
  --data-binary "$data" "$@" "$B$path"; }
authz() { printf 'Authorization: Bearer %s' "$1"; }
design=$(cat "$src/tests/cli/data/three_tier.json")
project=$(jq -nc --argjson d "$design" '{name:"p", design:$d}')

# register NAME: signs NAME@example.com up; sets tok_NAME, rt_NAME, id_NAME
register() {
  post /api/auth/register "{\"email\":\"$1@example.com\",\"password\":\"$1 password 1\",\"name\":\"$1\"}"
  [ "$code" = 201 ] || bad "register $1: $code $body"
  eval "tok_$1=\$(jget .token); rt_$1=\$(jget .refreshToken); id_$1=\$(jget .user.id)"
}
# cli ARGS...: sdsim admin on this flow's store; output in $out, status in $rc
cli() { out=$("$sdsim" admin "${store_opt[@]}" "$@" 2>&1); rc=$?; }
# every admin route with TOKEN (or none): the codes, space-separated. The bodies change
# nothing (cat is active already; a negative limit is refused after the admin check: 422).
admin_codes() {
  local h=() codes="" r
  [ -n "$1" ] && h=(-H "$(authz "$1")")
  for r in "GET /api/admin/users" "GET /api/admin/users/$id_cat" \
    "PATCH /api/admin/users/$id_cat {\"active\":true}" "GET /api/admin/users/$id_cat/limits" \
    "PUT /api/admin/users/$id_cat/limits {\"maxProjects\":-5}" "GET /api/admin/audit"; do
    set -- $r
    req -X "$1" "${h[@]}" -H 'content-type: application/json' ${3:+--data-binary "$3"} "$B$2"
    codes="$codes$code "
  done
  echo "${codes% }"
}

# flow LABEL DATA_DIR [SERVER OPTIONS...]  (store_opt set by the caller)
flow() {
  local L=$1 data=$2
  shift 2
  # ---- a fresh install: the CLI migrates an empty store and finds nobody
  cli list-users
  check "$L admin list-users on a fresh store (migrates): rc 0, header only" \
    [ "$rc" = 0 -a "$(printf '%s\n' "$out" | wc -l)" = 1 ]
  cli set-role ann@example.com admin
  check "$L set-role of an unknown email: rc 1, says so" \
    [ "$rc" = 1 -a -n "$(printf '%s' "$out" | grep "no account with the email 'ann@example.com'")" ]
  cli set-role ann@example.com root
  check "$L set-role with a bad role: rc 2, says so" \
    [ "$rc" = 2 -a -n "$(printf '%s' "$out" | grep "unknown role 'root'")" ]
  cli set-role ann@example.com
  check "$L set-role without a role: rc 2" [ "$rc" = 2 ]
  cli frobnicate
  check "$L unknown admin command: rc 2" [ "$rc" = 2 ]

  start "$data" "$@"
  register ann
  register bob
  register cat
  # ---- before any admin: everybody is refused
  check "$L no token: 401 on every admin route" [ "$(admin_codes "")" = "401 401 401 401 401 401" ]
  check "$L a user: 403 on every admin route" \
    [ "$(admin_codes "$tok_ann")" = "403 403 403 403 403 403" ]
  req -H "$(authz "$tok_ann")" "$B/api/admin/users"
  check "$L the 403 says admin only" [ "$code" = 403 -a "$(jget .error)" = "admin only" ]

  # ---- the first admin, offline (server stopped)
  stop_server "$L"
  cli set-role Ann@Example.com admin
  check "$L offline set-role: rc 0 ($out)" [ "$rc" = 0 -a "$out" = "ann@example.com: user -> admin" ]
  cli set-role ann@example.com admin
  check "$L set-role again: rc 0, already" [ "$rc" = 0 -a "$out" = "ann@example.com is already admin" ]
  cli list-users
  check "$L list-users shows ann admin, 3 accounts" [ "$rc" = 0 \
    -a "$(printf '%s\n' "$out" | awk '$2 == "ann@example.com" {print $3}')" = admin \
    -a "$(printf '%s\n' "$out" | wc -l)" = 4 ]
  start "$data" "$@"
  # ann's token was issued when she was a user (its role claim says so): the role is read from
  # the database, so it works at once
  check "$L the promoted admin's older token passes every route's check (the PUT body is then refused: 422)" \
    [ "$(admin_codes "$tok_ann")" = "200 200 200 200 422 200" ]
  check "$L bob (user) still 403 everywhere" [ "$(admin_codes "$tok_bob")" = "403 403 403 403 403 403" ]
  # from here on, ann's token is one issued while she is admin (its claim says admin): the
  # demotion checks below then show that the claim alone gives nothing
  post /api/auth/login '{"email":"ann@example.com","password":"ann password 1"}'
  check "$L ann signs in again: her new token's role is admin" [ "$code" = 200 \
    -a "$(jget .user.role)" = admin ]
  tok_ann=$(jget .token)
  local A=(-H "$(authz "$tok_ann")" -H 'content-type: application/json')

  # ---- list and paging
  req "${A[@]}" "$B/api/admin/users"
  check "$L list users: 3, newest first, fields (lastLogin set), no hash" [ "$code" = 200 \
    -a "$(jget '[.users[].email] | join(",")')" = "cat@example.com,bob@example.com,ann@example.com" \
    -a "$(jget '.users[2] | [.id, .name, .role, .subscriptionTier, .active, (.createdAt > 0), (.lastLogin > 0)] | map(tostring) | join(",")')" \
       = "$id_ann,ann,admin,free,true,true,true" \
    -a "$(jget '[.users[] | keys[]] | unique | join(",")')" \
       = "active,createdAt,email,id,lastLogin,name,role,subscriptionTier" \
    -a "$(jget .nextOffset)" = null ]
  req "${A[@]}" "$B/api/admin/users?limit=2"
  check "$L page 1 of 2: nextOffset 2" [ "$(jget '.users | length')" = 2 -a "$(jget .nextOffset)" = 2 ]
  req "${A[@]}" "$B/api/admin/users?limit=2&offset=2"
  check "$L page 2 of 2: ann, nextOffset null" [ "$(jget '.users[0].email')" = ann@example.com \
    -a "$(jget '.users | length')" = 1 -a "$(jget .nextOffset)" = null ]
  req "${A[@]}" "$B/api/admin/users?limit=0"
  check "$L limit 0: 422 query.limit" [ "$code" = 422 -a "$(jget '.errors[0].path')" = query.limit ]
  req "${A[@]}" "$B/api/admin/users/$id_bob"
  check "$L get one user" [ "$code" = 200 -a "$(jget .email)" = bob@example.com ]
  req "${A[@]}" "$B/api/admin/users/00000000-0000-4000-8000-000000000000"
  check "$L unknown user 404" [ "$code" = 404 ]
  req "${A[@]}" "$B/api/admin/users/not-a-uuid"
  check "$L malformed id 404" [ "$code" = 404 ]

  # ---- role, tier
  req -X PATCH "${A[@]}" --data-binary '{"role":"premium","subscriptionTier":"pro"}' \
    "$B/api/admin/users/$id_bob"
  check "$L bob -> premium, pro" [ "$code" = 200 -a "$(jget .role)" = premium \
    -a "$(jget .subscriptionTier)" = pro -a "$(jget .id)" = "$id_bob" ]
  req -H "$(authz "$tok_bob")" "$B/api/me"
  check "$L bob's profile says premium, pro plan limits (100 projects)" [ "$(jget .role)" = premium \
    -a "$(jget .limits.maxProjects)" = 100 ]
  req -X PATCH "${A[@]}" --data-binary '{"role":"root","active":"no","subscriptionTier":7,"x":1}' \
    "$B/api/admin/users/$id_bob"
  check "$L bad patch: 422 with every path" [ "$code" = 422 \
    -a "$(jget '[.errors[].path] | sort | join(",")')" = '$.active,$.role,$.subscriptionTier,$.x' ]
  req -X PATCH "${A[@]}" --data-binary '{}' "$B/api/admin/users/$id_bob"
  check "$L empty patch: 422 nothing to change" [ "$code" = 422 -a "$(jget '.errors[0].path')" = '$' ]
  req -X PATCH "${A[@]}" --data-binary '{"role":' "$B/api/admin/users/$id_bob"
  check "$L malformed JSON: 400" [ "$code" = 400 ]
  req -X PATCH "${A[@]}" --data-binary '["role"]' "$B/api/admin/users/$id_bob"
  check "$L a JSON array: 400" [ "$code" = 400 ]
  req -X PATCH "${A[@]}" --data-binary '{"role":"user"}' \
    "$B/api/admin/users/00000000-0000-4000-8000-000000000000"
  check "$L patch of an unknown user: 404" [ "$code" = 404 ]

  # ---- an admin cannot demote or deactivate themself
  req -X PATCH "${A[@]}" --data-binary '{"role":"user"}' "$B/api/admin/users/$id_ann"
  check "$L self-demotion: 409 with the reason" [ "$code" = 409 \
    -a -n "$(jget .error | grep 'your own admin role')" ]
  req -X PATCH "${A[@]}" --data-binary '{"active":false}' "$B/api/admin/users/$id_ann"
  check "$L self-deactivation: 409 with the reason" [ "$code" = 409 \
    -a -n "$(jget .error | grep 'deactivate your own')" ]
  req -X PATCH "${A[@]}" --data-binary '{"subscriptionTier":"enterprise"}' "$B/api/admin/users/$id_ann"
  check "$L an admin may change their own tier" [ "$code" = 200 -a "$(jget .role)" = admin \
    -a "$(jget .subscriptionTier)" = enterprise ]

  # ---- limits: cat may have 1 project
  req "${A[@]}" "$B/api/admin/users/$id_cat/limits"
  check "$L cat's limits: the free tier's" [ "$code" = 200 -a "$(jget .tier)" = free \
    -a "$(jget '[.maxProjects, .maxConcurrentSimulations, .maxSimulationDurationS, .maxComponentsPerProject, .projectsUsed, .simulationsActive] | map(tostring) | join(",")')" \
       = "5,1,3600,50,0,0" ]
  req -X PUT "${A[@]}" --data-binary '{"maxProjects":-1,"maxConcurrentSimulations":1.5,"maxSimulationDurationS":"x","maxComponentsPerProject":100001,"maxThings":1}' \
    "$B/api/admin/users/$id_cat/limits"
  check "$L bad limits: 422 with every path" [ "$code" = 422 \
    -a "$(jget '[.errors[].path] | sort | join(",")')" \
       = '$.maxComponentsPerProject,$.maxConcurrentSimulations,$.maxProjects,$.maxSimulationDurationS,$.maxThings' ]
  req -X PUT "${A[@]}" --data-binary '{"maxProjects":1,"maxComponentsPerProject":100000}' \
    "$B/api/admin/users/$id_cat/limits"
  check "$L set cat's limits: 1 project, the rest of the tier" [ "$code" = 200 \
    -a "$(jget '[.maxProjects, .maxConcurrentSimulations, .maxSimulationDurationS, .maxComponentsPerProject] | map(tostring) | join(",")')" \
       = "1,1,3600,100000" ]
  req -X PUT "${A[@]}" --data-binary '{"maxProjects":1}' \
    "$B/api/admin/users/00000000-0000-4000-8000-000000000000/limits"
  check "$L limits of an unknown user: 404" [ "$code" = 404 ]
  post /api/projects "$project" -H "$(authz "$tok_cat")"
  check "$L cat's first project 201" [ "$code" = 201 ]
  post /api/projects "$project" -H "$(authz "$tok_cat")"
  check "$L cat's second project refused: 403 limit 1" [ "$code" = 403 -a "$(jget .limit)" = 1 ]
  req -H "$(authz "$tok_cat")" "$B/api/me"
  check "$L cat's /api/me shows the override" [ "$(jget .limits.maxProjects)" = 1 ]
  req -X PUT "${A[@]}" --data-binary '{"maxProjects":null}' "$B/api/admin/users/$id_cat/limits"
  check "$L override cleared: the tier's 5 again" [ "$code" = 200 -a "$(jget .maxProjects)" = 5 \
    -a "$(jget .projectsUsed)" = 1 ]
  post /api/projects "$project" -H "$(authz "$tok_cat")"
  check "$L cat's second project now 201" [ "$code" = 201 ]

  # ---- deactivation signs the user out
  req -X PATCH "${A[@]}" --data-binary '{"active":false}' "$B/api/admin/users/$id_cat"
  check "$L deactivate cat" [ "$code" = 200 -a "$(jget .active)" = false ]
  post /api/auth/refresh "{\"refreshToken\":\"$rt_cat\"}"
  check "$L cat's refresh refused: 401" [ "$code" = 401 ]
  post /api/auth/login '{"email":"cat@example.com","password":"cat password 1"}'
  check "$L cat's login refused: 401" [ "$code" = 401 ]
  req -X PATCH "${A[@]}" --data-binary '{"active":true}' "$B/api/admin/users/$id_cat"
  check "$L reactivate cat" [ "$code" = 200 -a "$(jget .active)" = true ]
  post /api/auth/login '{"email":"cat@example.com","password":"cat password 1"}'
  check "$L cat can log in again" [ "$code" = 200 ]
  tok_cat=$(jget .token)

  # ---- a demoted admin's valid token is refused at once
  req -X PATCH "${A[@]}" --data-binary '{"role":"admin"}' "$B/api/admin/users/$id_bob"
  check "$L promote bob" [ "$code" = 200 -a "$(jget .role)" = admin ]
  req -H "$(authz "$tok_bob")" "$B/api/admin/users"
  check "$L bob (token from before) is admin at once" [ "$code" = 200 ]
  post /api/auth/login '{"email":"bob@example.com","password":"bob password 1"}'
  tok_bob=$(jget .token) # its claim says admin
  req -X PATCH -H "$(authz "$tok_bob")" --data-binary '{"role":"user"}' "$B/api/admin/users/$id_ann"
  check "$L bob, now admin, demotes ann (one admin may demote another)" [ "$code" = 200 ]
  req -H "$(authz "$tok_ann")" "$B/api/admin/users"
  check "$L ann, demoted by bob, is refused at once with her still-valid admin token" [ "$code" = 403 ]
  cli set-role ann@example.com admin
  check "$L set-role on the live store restores ann (rc 0)" [ "$rc" = 0 ]
  req -H "$(authz "$tok_ann")" "$B/api/admin/users"
  check "$L ann is admin again at once, no restart" [ "$code" = 200 ]
  req -X PATCH "${A[@]}" --data-binary '{"role":"user"}' "$B/api/admin/users/$id_bob"
  check "$L ann demotes bob" [ "$code" = 200 -a "$(jget .role)" = user ]
  req -H "$(authz "$tok_bob")" "$B/api/admin/users"
  check "$L bob's token (issued while admin) is refused at once: 403" [ "$code" = 403 ]
  # a deactivated admin
  req -X PATCH "${A[@]}" --data-binary '{"role":"admin"}' "$B/api/admin/users/$id_cat"
  post /api/auth/login '{"email":"cat@example.com","password":"cat password 1"}'
  tok_cat=$(jget .token) # its claim says admin
  req -H "$(authz "$tok_cat")" "$B/api/admin/audit"
  check "$L cat promoted: admin" [ "$code" = 200 ]
  req -X PATCH "${A[@]}" --data-binary '{"active":false}' "$B/api/admin/users/$id_cat"
  req -H "$(authz "$tok_cat")" "$B/api/admin/audit"
  check "$L cat deactivated: her valid token gets 403" [ "$code" = 403 ]

  # ---- the audit log
  req "${A[@]}" "$B/api/admin/audit?limit=500"
  check "$L audit 200" [ "$code" = 200 ]
  local got want got_n want_n
  got=$(printf '%s' "$body" | jq -r --arg a "$id_ann" --arg b "$id_bob" --arg c "$id_cat" '
    def who: if . == $a then "ann" elif . == $b then "bob" elif . == $c then "cat"
             elif . == null then "-" else "?" end;
    [.entries | reverse[] | select(.action | startswith("admin."))
     | "\(.userId | who) \(.action) \(.target | who) \(.detail.from | tostring)>\(.detail.to | tostring)"]
    | join("|")')
  want="- admin.set_role ann user>admin|ann admin.set_role bob user>premium|ann admin.set_tier bob free>pro"
  want="$want|ann admin.set_tier ann free>enterprise"
  want="$want|ann admin.set_limits cat "'{"maxProjects":5,"maxConcurrentSimulations":1,"maxSimulationDurationS":3600,"maxComponentsPerProject":50}'
  want="$want>"'{"maxProjects":1,"maxConcurrentSimulations":1,"maxSimulationDurationS":3600,"maxComponentsPerProject":100000}'
  want="$want|ann admin.set_limits cat "'{"maxProjects":1,"maxConcurrentSimulations":1,"maxSimulationDurationS":3600,"maxComponentsPerProject":100000}'
  want="$want>"'{"maxProjects":5,"maxConcurrentSimulations":1,"maxSimulationDurationS":3600,"maxComponentsPerProject":50}'
  want="$want|ann admin.set_active cat true>false|ann admin.set_active cat false>true"
  want="$want|ann admin.set_role bob premium>admin|bob admin.set_role ann admin>user"
  want="$want|- admin.set_role ann user>admin|ann admin.set_role bob admin>user"
  want="$want|ann admin.set_role cat user>admin|ann admin.set_active cat true>false"
  # key order inside detail objects differs per database: compare the decoded values
  local norm='split("|") | map(split(" ") | .[0:3] + [.[3:] | join(" ") | split(">")
                                                     | map(fromjson? // .)])'
  got_n=$(jq -cSn --arg s "$got" "\$s | $norm" 2>&1)
  want_n=$(jq -cSn --arg s "$want" "\$s | $norm" 2>&1)
  check "$L audit: every admin action in order with actor, target, from>to" [ "$got_n" = "$want_n" ]
  [ "$got_n" = "$want_n" ] || { echo "  got:  $got"; echo "  want: $want"; }
  check "$L audit: the HTTP actions carry the address, the CLI ones are actor cli" \
    [ "$(jget '[.entries[] | select(.action | startswith("admin.")) | select(.userId != null) | .ip] | unique | join(",")')" = 127.0.0.1 \
      -a "$(jget '[.entries[] | select(.action | startswith("admin.")) | select(.userId == null) | .detail.actor] | unique | join(",")')" = cli ]
  check "$L audit: deactivation revoked cat's refresh tokens (count in detail)" \
    [ "$(jget '[.entries[] | select(.action == "admin.set_active" and .detail.to == false)][-1].detail.refreshTokensRevoked')" -ge 1 ]
  check "$L audit: the sign-ins are there too" \
    [ "$(jget '[.entries[] | select(.action == "register")] | length')" = 3 ]
  local n_all first_id
  n_all=$(jget '.entries | length')
  req "${A[@]}" "$B/api/admin/audit?limit=2"
  first_id=$(jget '.entries[0].id')
  check "$L audit page of 2: newest first, nextBefore = the last id" [ "$(jget '.entries | length')" = 2 \
    -a "$(jget '.entries[0].id > .entries[1].id')" = true -a "$(jget .nextBefore)" = "$(jget '.entries[1].id')" ]
  req "${A[@]}" "$B/api/admin/audit?limit=500&before=$(jget .nextBefore)"
  check "$L audit next page: the rest, all older" [ "$(jget '.entries | length')" = $((n_all - 2)) \
    -a "$(jget "[.entries[].id] | max < $first_id")" = true -a "$(jget .nextBefore)" = null ]
  req "${A[@]}" "$B/api/admin/audit?userId=$id_bob"
  check "$L audit by actor: bob's (his register and one admin action)" \
    [ "$(jget '[.entries[].userId] | unique | join(",")')" = "$id_bob" \
      -a "$(jget '[.entries[] | select(.action | startswith("admin."))] | length')" = 1 ]
  req "${A[@]}" "$B/api/admin/audit?userId=nope"
  check "$L audit bad userId: 422" [ "$code" = 422 -a "$(jget '.errors[0].path')" = query.userId ]
  req "${A[@]}" "$B/api/admin/audit?limit=501"
  check "$L audit limit 501: 422" [ "$code" = 422 ]
  stop_server "$L"
}

store_opt=(--data-dir "$tmp/data")
flow sqlite "$tmp/data"

# PostgreSQL: a throw-away server.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  pgstate=$tmp/pg
  if url=$(bash "$src/tests/services/postgres.sh" start "$pgstate" 2>>"$tmp/pg.log" | tail -n1) \
    && [ -n "$url" ]; then
    store_opt=(--data-dir "$tmp/data-pg" --database "$url")
    flow postgres "$tmp/data-pg" --database "$url"
  else
    bad "postgres could not start: $(tail -3 "$tmp/pg.log")"
  fi
else
  echo "skip PostgreSQL flow: no PostgreSQL server binaries"
fi

finish
