#!/usr/bin/env bash
# Benchmark of full and incremental syncs against the local stand-in server.
#
#   bash bench/sync.sh [--checks N] [--pings M] [--latency-ms L] [--concurrency C]
#
# Defaults: 1000 checks with 1000 pings each (the server's ping log limit is
# raised to 1000 for the run), no added latency, max_concurrency 4. Reports
# wall time, CPU time, peak resident memory, records per second and requests
# made, and the floor: one `curl --parallel` process fetching the same URLs
# with the same concurrency and writing nothing. With --latency-ms it also
# runs the full sync with max_concurrency 1, for the speed-up. A second full
# sync with stdout sent to /dev/null shows what writing the output costs.
set -euo pipefail

checks=1000 pings=1000 latency=0 concurrency=4
while [ $# -gt 0 ]; do
    case $1 in
        --checks) checks=$2; shift 2 ;;
        --pings) pings=$2; shift 2 ;;
        --latency-ms) latency=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        *) echo "unknown argument $1; see the comment at the top of $0" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$target_dir/bench
rm -rf "$work" && mkdir -p "$work"
cargo build --release --locked --quiet --manifest-path "$root/Cargo.toml"
tap=$target_dir/release/tap-healthchecks
key=hcw_GeneratedReadWriteKey0000001

"$target_dir/release/hc-standin" serve --port 0 --generate "$checks,$pings" \
    --ping-log-limit 1000 --latency-ms "$latency" >"$work/server.out" 2>"$work/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    [ -s "$work/server.out" ] && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$url" ] || { echo "hc-standin did not start: $(cat "$work/server.err")" >&2; exit 1; }

config() {
    printf '{"api_key": "%s", "base_url": "%s", "max_concurrency": %s}\n' "$key" "$url" "$1" \
        >"$work/config-$1.json"
    echo "$work/config-$1.json"
}

# measure NAME COMMAND...: runs COMMAND with stdout to $work/NAME.out (or
# to /dev/null when DISCARD is set, leaving NAME.out empty) and
# records "wall user system max_rss_kb" in $work/NAME.time and the API
# requests the server counted in $work/NAME.requests.
measure() {
    local name=$1; shift
    curl -s -X POST "$url/__standin/reset" >/dev/null
    local out=$work/$name.out
    : >"$out"
    [ -n "${DISCARD:-}" ] && out=/dev/null
    /usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" "$@" >"$out" 2>"$work/$name.err"
    curl -s "$url/__standin/requests" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' \
        >"$work/$name.requests"
}

measure full "$tap" --config "$(config "$concurrency")"
tail -n 1 "$work/full.out" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["value"]))' \
    >"$work/state.json"
measure incremental "$tap" --config "$(config "$concurrency")" --state "$work/state.json"
DISCARD=1 measure discarded "$tap" --config "$(config "$concurrency")"
if [ "$latency" != 0 ]; then
    measure sequential "$tap" --config "$(config 1)"
fi

# The floor: the same URLs, fetched by curl with the same concurrency.
python3 - "$work/full.out" "$url" "$key" >"$work/curl.config" <<'PY'
import json, sys
out, url, key = sys.argv[1:]
print(f'header = "X-Api-Key: {key}"')
paths = ["checks/", "channels/"]
for line in open(out):
    message = json.loads(line)
    if message["type"] == "RECORD" and message["stream"] == "checks":
        uuid = message["record"]["uuid"]
        if message["record"]["n_pings"]:
            paths.append(f"checks/{uuid}/pings/")
        paths.append(f"checks/{uuid}/flips/")
for path in paths:
    print(f'url = "{url}/api/v3/{path}"\noutput = "/dev/null"')
PY
measure curl curl --silent --show-error --fail --parallel --parallel-max "$concurrency" --config "$work/curl.config"

python3 - "$work" "$checks" "$pings" "$latency" "$concurrency" <<'PY'
import os, sys
work, checks, pings, latency, concurrency = sys.argv[1:]
def row(name, label):
    path = os.path.join(work, name + ".time")
    if not os.path.exists(path):
        return None
    wall, user, system, rss = open(path).read().split()
    requests = open(os.path.join(work, name + ".requests")).read().strip()
    records = sum(1 for line in open(os.path.join(work, name + ".out")) if '"type":"RECORD"' in line)
    rate = f"{records / float(wall):,.0f}" if records and float(wall) > 0 else "-"
    cpu = float(user) + float(system)
    print(f"| {label} | {float(wall):.2f} | {cpu:.2f} | {int(rss) / 1024:.1f} | {records or '-'} | {rate} | {requests} |")
    return float(wall)
print(f"{checks} checks x {pings} pings, latency {latency} ms, max_concurrency {concurrency}\n")
print("| run | wall s | CPU s | peak RSS MB | records | records/s | requests |")
print("|---|---|---|---|---|---|---|")
full = row("full", "full sync")
row("discarded", "full sync, stdout to /dev/null")
row("incremental", "incremental sync, no changes")
sequential = row("sequential", "full sync, max_concurrency 1")
floor = row("curl", f"floor: curl --parallel-max {concurrency}")
print()
if full and floor:
    print(f"full sync / curl floor: {full / floor:.2f}x")
out = os.path.join(work, "full.out")
total = os.path.getsize(out)
state = sum(len(line) for line in open(out, "rb") if line.startswith(b'{"type":"STATE"'))
print(f"full sync output: {total / 1e6:.0f} MB, of which STATE messages {state / 1e6:.0f} MB")
if full and sequential:
    print(f"max_concurrency {concurrency} speed-up over 1: {sequential / full:.2f}x")
PY
