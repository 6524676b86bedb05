#!/usr/bin/env bash
# rig matrix over the running virtual lab: each board's arch built by toolchains/lab-images
# (its manifest names the files the board boots), the jobs run through the boards' firmware,
# and the night's reports checked by their readers (KCIDB schema, headless Chromium).
# Usage: matrix_test.sh RIG BOARD...   (the lab fixture has the lab up)
set -euo pipefail
rig=$1
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
boards=$(IFS=,; echo "$*")
out=${LAB_LOG_DIR:-/tmp}/matrix-$(IFS=-; echo "$*")
rm -rf "$out"
mkdir -p "$out"

fail() {
  echo "FAIL: $*"
  echo "--- rig matrix's stderr ---"
  cat "$out/stderr"
  for log in "$out"/results/*/*/console.log; do
    [ -f "$log" ] && { echo "--- last 20 lines of $log ---"; tail -n 20 "$log"; }
  done
  exit 1
}

status=0
"$rig" matrix --boards "$boards" --results "$out/results" --parallel 2 --json \
  --build "$repo/toolchains/lab-images --json --quiet {arch}" >"$out/summary.json" \
  2>"$out/stderr" || status=$?
[ "$status" -eq 0 ] || fail "rig matrix exited $status (a first night has no regressions)"
night=$(jq -r .dir "$out/summary.json")
results=$night/results.json

jq -e --argjson n $# '.boards | length == $n' "$results" >/dev/null || fail "not every board ran"
for board in "$@"; do
  b=$(jq -c --arg b "$board" '.boards[] | select(.board == $b)' "$results")
  [ "$(jq -r .result <<<"$b")" = pass ] ||
    fail "$board: job $(jq -r '.result + " " + .error' <<<"$b")"
  arch=$(jq -r .arch <<<"$b")
  manifest=$(jq -c --arg a "$arch" '.builds[] | select(.arch == $a)' "$results")
  [ "$(jq -r .ok <<<"$manifest")" = true ] || fail "$arch: build failed"
  [ "$(jq -r .kernel <<<"$b")" = "$(jq -r .kernel <<<"$manifest")" ] ||
    fail "$board did not boot the kernel its build named"
  for t in dump_rate restore_rate; do
    jq -e --arg t "ckpt/bench_${t}_64MiB" \
      '[.tests[] | select(.name == $t and .units == "MiB/s" and .measurement > 0)] | length == 1' \
      <<<"$b" >/dev/null || fail "$board: no ckpt/bench_${t}_64MiB in MiB/s"
  done
  [ -s "$night/$(jq -r .console_log <<<"$b")" ] || fail "$board: no console log"
done

/usr/bin/python3 "$repo/tests/rig/check_kcidb.py" "$repo/tests/rig/fixtures/kcidb/kcidb-v5.3.schema.json" \
  "$night/kcidb.json" || fail "kcidb.json does not validate"
arches=$(jq -r '[.boards[].arch] | unique | .[]' "$results")
# shellcheck disable=SC2086
/usr/bin/python3 "$repo/tests/rig/check_report_page.py" "$night/report.html" $arches ||
  fail "report.html does not show what it should"
echo "rig matrix over $boards: every job passed; kcidb.json valid; report.html checked in Chromium"
