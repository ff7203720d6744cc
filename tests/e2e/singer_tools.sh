#!/usr/bin/env bash
# Validates the tap's real output with real Singer tools, against the
# stand-in server on 127.0.0.1:
#   - singer-check-tap (PyPI singer-tools) checks every RECORD against its
#     SCHEMA, date-time formats included, for a read-write and a read-only
#     key, and runs the tap a second time with the STATE it produced;
#   - target-jsonl loads a sync, and the rows per stream must equal the
#     RECORD messages sent.
# Each tool gets its own virtual environment under target/e2e, because
# their pinned dependencies conflict. Any complaint fails the script.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
work=$target_dir/e2e/singer-tools
venvs=$target_dir/e2e/venvs
rm -rf "$work" && mkdir -p "$work"

cargo build --locked --quiet --manifest-path "$root/Cargo.toml"
tap=$target_dir/debug/tap-healthchecks
standin=$target_dir/debug/hc-standin

venv() {
    local name=$1 package=$2
    if [ ! -x "$venvs/$name/bin/$name" ]; then
        echo "installing $package into $venvs/$name"
        python3 -m venv "$venvs/$name"
        "$venvs/$name/bin/pip" install --quiet --disable-pip-version-check "$package"
    fi
}
venv singer-check-tap singer-tools==0.4.1
venv target-jsonl target-jsonl==0.1.4

"$standin" serve --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    [ -s "$work/server.out" ] && break
    sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$url" ] || { echo "FAIL: hc-standin did not start" >&2; exit 1; }

key() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["projects"][0][sys.argv[2]])' \
        "$root/tests/fixtures/lab.json" "$1"
}
printf '{"api_key": "%s", "base_url": "%s"}\n' "$(key rw_key)" "$url" >"$work/rw.json"
printf '{"api_key": "%s", "base_url": "%s"}\n' "$(key ro_key)" "$url" >"$work/ro.json"

# singer-check-tap reads the tap's output on stdin. Its --tap mode reads
# the summary before its reader thread finishes, so with a fast tap it
# crashes with "'NoneType' object has no attribute 'num_messages'" (seen
# with singer-tools 0.4.1). Like --tap mode, each key type is checked twice:
# from scratch, then with the STATE the first run ended with.
check() {
    local label=$1; shift
    echo "== singer-check-tap, $label"
    "$tap" "$@" >"$work/$label.jsonl" 2>"$work/$label.err" \
        || { echo "FAIL: the tap exited non-zero:" >&2; cat "$work/$label.err" >&2; exit 1; }
    # It creates a working folder in the current directory.
    (cd "$work" && "$venvs/singer-check-tap/bin/singer-check-tap" <"$work/$label.jsonl") \
        | tee "$work/$label.check"
    grep -q "The output is valid." "$work/$label.check"
    tail -n 1 "$work/$label.jsonl" \
        | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["value"]))' >"$work/$label.state"
}
for config in rw ro; do
    check "$config" --config "$work/$config.json"
    check "$config-with-state" --config "$work/$config.json" --state "$work/$config.state"
done
repeated=$(grep -c '"type":"RECORD","stream":"pings"' "$work/rw-with-state.jsonl" || true)
if [ "$repeated" -ne 0 ]; then
    echo "FAIL: the run with state wrote $repeated pings again" >&2
    exit 1
fi

echo "== target-jsonl"
mkdir -p "$work/jsonl"
printf '{"destination_path": "%s", "do_timestamp_file": false}\n' "$work/jsonl" >"$work/target.json"
"$tap" --config "$work/rw.json" >"$work/sync.jsonl" 2>"$work/sync.err"
"$venvs/target-jsonl/bin/target-jsonl" --config "$work/target.json" \
    <"$work/sync.jsonl" >"$work/target-state.jsonl"
for stream in checks pings flips integrations; do
    sent=$(grep -c "\"type\":\"RECORD\",\"stream\":\"$stream\"" "$work/sync.jsonl" || true)
    loaded=$(wc -l <"$work/jsonl/$stream.jsonl")
    echo "$stream: $sent records sent, $loaded rows loaded"
    if [ "$sent" -eq 0 ] || [ "$sent" -ne "$loaded" ]; then
        echo "FAIL: target-jsonl loaded $loaded rows of $stream, expected $sent" >&2
        exit 1
    fi
done
tail -n 1 "$work/target-state.jsonl" | python3 -c 'import json,sys; json.load(sys.stdin)["bookmarks"]'
echo "Singer tools: all checks passed"
