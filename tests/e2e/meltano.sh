#!/usr/bin/env bash
# Runs the tap inside a real Meltano project with real Singer targets,
# against the stand-in server on 127.0.0.1, and checks:
#   1. meltano.yml declares the capabilities and settings that the tap's
#      --about advertises, and Meltano hands the tap the configured base_url
#      and the api_key from TAP_HEALTHCHECKS_API_KEY;
#   2. `meltano select --list --all` runs discovery and lists the four
#      streams, with their key fields automatic;
#   3. `meltano run tap-healthchecks target-jsonl` three times. The first
#      run is a full sync. The second starts from the state Meltano stored
#      and writes no pings. Two pings are then added through the admin API,
#      and the third run writes exactly those two;
#   4. a load into PostgreSQL with meltanolabs-target-postgres, api_key now
#      stored by `meltano config set`: rows per table, primary keys, column
#      types and every date-time value against the dataset;
#   5. the same load into DuckDB with target-duckdb;
#   6. with activate_version on, a check deleted upstream is the only row of
#      the PostgreSQL checks table marked deleted.
# Tools come from PyPI into virtual environments under target/e2e/venvs,
# one per tool because their pinned dependencies conflict, and are reused
# while their pins are unchanged. PostgreSQL is Debian's package, installed
# when missing, and runs as a throwaway cluster in target/e2e/pg on
# 127.0.0.1, stopped on exit. Any mismatch prints FAIL and exits 1.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$target_dir/e2e/meltano
venvs=$target_dir/e2e/venvs
pgdir=$target_dir/e2e/pg
checks=$root/tests/e2e/meltano_checks.py
started=$SECONDS

# Settings from the caller's environment would override the project's:
# Meltano reads TAP_HEALTHCHECKS_*, TARGET_* and MELTANO_* variables, and
# psql reads PG* ones.
for name in $(compgen -e); do
    case $name in
        TAP_HEALTHCHECKS_* | TARGET_* | MELTANO_* | PG*) unset "$name" ;;
    esac
done

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# Runs a command with its output in $work/logs/NAME.log, and shows the end
# of that log if the command fails.
step() {
    local name=$1
    shift
    if ! "$@" >"$work/logs/$name.log" 2>&1; then
        echo "FAIL: '$*' exited non-zero; the end of $work/logs/$name.log:" >&2
        tail -n 40 "$work/logs/$name.log" >&2
        exit 1
    fi
}

# Like step, but writes the command's stdout to the file OUTPUT.
capture() {
    local output=$1 name=$2
    shift 2
    if ! "$@" >"$output" 2>"$work/logs/$name.log"; then
        echo "FAIL: '$*' exited non-zero; the end of $work/logs/$name.log:" >&2
        tail -n 40 "$work/logs/$name.log" >&2
        exit 1
    fi
}

# Creates or reuses the virtual environment NAME with the packages given,
# recreating it when the pins differ from the ones it was made with.
venv() {
    local name=$1 executable=$2
    shift 2
    local dir=$venvs/$name
    if [ -x "$dir/bin/$executable" ] && [ "$(cat "$dir/e2e-pins.txt" 2>/dev/null)" = "$*" ]; then
        return
    fi
    echo "installing $* into $dir"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
    echo "$*" >"$dir/e2e-pins.txt"
}

free_port() {
    python3 -c 'import socket
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1])'
}

# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# postgres user that Debian's package creates.
pg_as_owner=()
pg_started=
server_pid=

stop_postgres() {
    if [ -f "$pgdir/data/postmaster.pid" ]; then
        "${pg_as_owner[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -m fast -w stop \
            >/dev/null 2>&1 || true
    fi
}

cleanup() {
    if [ -n "$pg_started" ]; then
        stop_postgres
    fi
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

find_postgres() {
    pg_bin=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null |
        sort -V | tail -n 1)
    [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ]
}

start_postgres() {
    if ! find_postgres; then
        [ "$(id -u)" = 0 ] || fail "PostgreSQL is missing; install Debian's postgresql package"
        echo "installing PostgreSQL (Debian package postgresql)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            postgresql >/dev/null
        find_postgres ||
            fail "no initdb under /usr/lib/postgresql/*/bin after installing postgresql"
    fi
    if [ "$(id -u)" = 0 ]; then
        pg_as_owner=(runuser -u postgres --)
    fi

    stop_postgres
    rm -rf "$pgdir"
    mkdir -p "$pgdir"
    PGPASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    echo "$PGPASSWORD" >"$pgdir/password"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$pgdir"
        runuser -u postgres -- test -w "$pgdir" ||
            fail "the postgres user cannot write $pgdir; every folder above it must be searchable"
    fi

    step initdb "${pg_as_owner[@]}" "$pg_bin/initdb" -D "$pgdir/data" -U e2e \
        --auth=scram-sha-256 --pwfile="$pgdir/password" -E UTF8 --no-sync --no-instructions

    PGPORT=$(free_port)
    pg_started=1
    step pg_ctl "${pg_as_owner[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" \
        -l "$pgdir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $pgdir" start
    export PGHOST=127.0.0.1 PGPORT PGUSER=e2e PGPASSWORD PGDATABASE=healthchecks
    step createdb "$pg_bin/psql" -X -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE healthchecks"
    local version
    version=$("$pg_bin/postgres" --version | awk '{print $3}')
    echo "  PostgreSQL $version listening on 127.0.0.1:$PGPORT"
}

rm -rf "$work"
mkdir -p "$work/logs"

cargo build --locked --quiet --manifest-path "$root/Cargo.toml"
tap=$target_dir/debug/tap-healthchecks
standin=$target_dir/debug/hc-standin

venv meltano meltano meltano==4.4.1
venv target-jsonl target-jsonl target-jsonl==0.1.4
venv target-postgres target-postgres meltanolabs-target-postgres==0.8.1
# target-duckdb 0.8.0 copies rows in with COPY, without HEADER false, and
# DuckDB 1.1.3 and 1.2.2 read the first row of an all-text table (such as
# integrations) as a CSV header and drop it; 1.0.0 keeps it.
venv target-duckdb target-duckdb target-duckdb==0.8.0 duckdb==1.0.0
python_meltano=$venvs/meltano/bin/python
python_duckdb=$venvs/target-duckdb/bin/python

"$standin" serve --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
    [ -s "$work/server.out" ] && break
    sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$url" ] || fail "hc-standin did not start: $(cat "$work/server.err")"
key=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["projects"][0]["rw_key"])' \
    "$root/tests/fixtures/lab.json")
# The checks compare the api_key Meltano passes with this variable.
export E2E_API_KEY=$key

# Unless configured otherwise, Meltano sends usage statistics, checks PyPI
# for a newer release and reads plugin definitions from its hub. Hub lookups go to
# the stand-in, which returns 404, so that a plugin missing from
# meltano.yml fails here instead of reaching the network.
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_DISABLE_TRACKING=true
export MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS='[]' MELTANO_CLI_DISABLE_VERSION_CHECK=true
export MELTANO_AUTO_INSTALL=false MELTANO_HUB_URL=$url/meltano-hub

project=$work/project
mkdir -p "$project"
meltano() {
    (cd "$project" && "$venvs/meltano/bin/meltano" "$@")
}

echo "== meltano.yml against the tap's --about"
"$tap" --about --format json >"$work/about.json"
"$python_meltano" "$checks" check-about --about "$work/about.json" --meltano-yml "$root/meltano.yml"
"$python_meltano" "$checks" make-project \
    --source "$root/meltano.yml" --dest "$project/meltano.yml" \
    --tap "$tap" \
    --loader "target-jsonl=$venvs/target-jsonl/bin/target-jsonl" \
    --loader "target-postgres=$venvs/target-postgres/bin/target-postgres" \
    --loader "target-duckdb=$venvs/target-duckdb/bin/target-duckdb"

echo "== configuration passed by Meltano"
step config-base-url meltano config set tap-healthchecks base_url "$url"
export TAP_HEALTHCHECKS_API_KEY=$key
capture "$work/config-env.json" dump-config-env meltano invoke --dump=config tap-healthchecks
"$python_meltano" "$checks" check-config --dump "$work/config-env.json" --base-url "$url" \
    --key-source "TAP_HEALTHCHECKS_API_KEY"

echo "== meltano select tap-healthchecks --list --all"
capture "$work/select.txt" select meltano select tap-healthchecks --list --all
"$python_meltano" "$checks" check-select --listing "$work/select.txt"
step config-test meltano config test tap-healthchecks
grep -q "Plugin configuration is valid" "$work/logs/config-test.log" ||
    fail "meltano config test did not report a valid configuration"
echo "  ok: meltano config test tap-healthchecks: plugin configuration is valid"

echo "== meltano run tap-healthchecks target-jsonl, three times"
state_id=dev:tap-healthchecks-to-target-jsonl
run_jsonl() {
    mkdir -p "$work/jsonl/run$1"
    TARGET_JSONL_DESTINATION_PATH=$work/jsonl/run$1 TARGET_JSONL_DO_TIMESTAMP_FILE=false \
        step "jsonl-run$1" \
        meltano run tap-healthchecks target-jsonl
}
run_jsonl 1
echo "  run 1 (no state):"
"$python_meltano" "$checks" check-jsonl-full --url "$url" --dir "$work/jsonl/run1"
capture "$work/state-list.txt" state-list meltano state list
grep -qx "$state_id" "$work/state-list.txt" || fail "meltano state list does not show $state_id"
echo "  ok: meltano state list shows $state_id"
capture "$work/state1.json" state-get1 meltano state get "$state_id"
"$python_meltano" "$checks" check-state --url "$url" --state "$work/state1.json" \
    --checks-dir "$work/jsonl/run1"

run_jsonl 2
echo "  run 2 (state from run 1, nothing new):"
"$python_meltano" "$checks" check-jsonl-incremental --url "$url" --dir "$work/jsonl/run2" \
    --new-pings '[]'

new_pings=$("$python_meltano" "$checks" add-pings --url "$url" --count 2)
echo "  added 2 pings through the admin API: $new_pings"
run_jsonl 3
echo "  run 3 (state from run 2):"
"$python_meltano" "$checks" check-jsonl-incremental --url "$url" --dir "$work/jsonl/run3" \
    --new-pings "$new_pings"
capture "$work/state3.json" state-get3 meltano state get "$state_id"
"$python_meltano" "$checks" check-state --url "$url" --state "$work/state3.json" \
    --checks-dir "$work/jsonl/run1"

echo "== meltano run tap-healthchecks target-postgres"
start_postgres
unset TAP_HEALTHCHECKS_API_KEY
step config-api-key meltano config set tap-healthchecks api_key "$key"
grep -q "^TAP_HEALTHCHECKS_API_KEY=" "$project/.env" ||
    fail "meltano config set did not store the sensitive api_key in .env"
if grep -qF "$key" "$project/meltano.yml"; then
    fail "meltano config set wrote the sensitive api_key into meltano.yml"
fi
capture "$work/config-dotenv.json" dump-config-dotenv meltano invoke --dump=config tap-healthchecks
"$python_meltano" "$checks" check-config --dump "$work/config-dotenv.json" --base-url "$url" \
    --key-source ".env (meltano config set)"
export TARGET_POSTGRES_HOST=$PGHOST TARGET_POSTGRES_PORT=$PGPORT TARGET_POSTGRES_USER=$PGUSER
export TARGET_POSTGRES_PASSWORD=$PGPASSWORD TARGET_POSTGRES_DATABASE=$PGDATABASE
step postgres-run meltano run tap-healthchecks target-postgres
"$python_meltano" "$checks" check-db postgres --url "$url" --schema healthchecks \
    --psql "$pg_bin/psql"

echo "== meltano run tap-healthchecks target-duckdb"
mkdir -p "$work/duckdb"
TARGET_DUCKDB_FILEPATH=$work/duckdb/healthchecks.duckdb step duckdb-run \
    meltano run tap-healthchecks target-duckdb
"$python_duckdb" "$checks" check-db duckdb --url "$url" --schema healthchecks \
    --path "$work/duckdb/healthchecks.duckdb"

echo "== activate_version into PostgreSQL after a check is deleted upstream"
deleted=$("$python_meltano" "$checks" delete-check --url "$url" --check-index 1)
echo "  deleted check $deleted through the admin API"
TAP_HEALTHCHECKS_ACTIVATE_VERSION=true step postgres-activate-version \
    meltano run tap-healthchecks target-postgres
"$python_meltano" "$checks" check-activate-version --url "$url" --schema healthchecks \
    --psql "$pg_bin/psql" --deleted "$deleted"

echo "Meltano: all checks passed in $((SECONDS - started)) s"
