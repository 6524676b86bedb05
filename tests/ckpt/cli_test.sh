#!/bin/bash
# ckpt's command line: help on every subcommand, documented exit codes, `show --json`,
# options from a configuration file, and refusal of a foreign-arch image.
# usage: cli_test.sh CKPT TRACEE WORKDIR
set -u
ckpt=$1 tracee=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { local want=$1; shift; "$@" >out.txt 2>err.txt; local rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited with $rc, expected $want: $(cat err.txt)"; }

expect_rc 0 "$ckpt" --help
for cmd in pre-dump dump restore show check page-server migrate receive; do
  expect_rc 0 "$ckpt" $cmd --help
  grep -q -- "--help" out.txt || fail "ckpt $cmd --help lists no options"
done
expect_rc 2 "$ckpt" dump
expect_rc 2 "$ckpt" frobnicate
expect_rc 2 "$ckpt" dump -t 1 -D x --no-such-option
expect_rc 2 "$ckpt" migrate -t 1
expect_rc 2 "$ckpt" migrate -t 1 --to 127.0.0.1
expect_rc 2 "$ckpt" receive --listen 127.0.0.1:0
expect_rc 4 "$ckpt" show "$work/none"

# The tracee gets only stdio: inherited pipes would make the dump refuse it.
(
  for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  exec "$tracee" --pidfile "$work/pid" --outfile "$work/out" </dev/null >/dev/null 2>&1
) &
child=$!
for _ in $(seq 3000); do [ -s "$work/pid" ] && break; sleep 0.01; done
pid=$(cat "$work/pid") || fail "tracee wrote no pidfile"
[ "$pid" = "$child" ] || fail "pidfile says $pid, started $child"

# leave-running comes from the configuration file only.
echo "# test config" > ckpt.conf
echo "leave-running" >> ckpt.conf
CKPT_CONFIG=$work/ckpt.conf expect_rc 0 "$ckpt" dump -t "$pid" -D "$work/img" --json
kill -0 "$pid" 2>/dev/null || fail "leave-running from the config file was ignored"
# A task of ckpt's own user opens the image and writes its pages itself (the fast path).
python3 -c 'import json,sys; d=json.load(open("out.txt")); assert d["pages_bytes"] > 0 and d["pages_by_task"] == d["pages_bytes"], d' \
  || fail "dump --json: the task did not write its own pages: $(cat out.txt)"

expect_rc 0 "$ckpt" show "$work/img" --json
python3 -c 'import json,sys; d=json.load(open("out.txt")); assert d["inventory"]["arch"]=="x86_64"; assert d["processes"]' \
  || fail "show --json is not the decoded image"
expect_rc 0 "$ckpt" show "$work/img"
grep -q "thread $pid" out.txt || fail "show prints no thread"

kill -TERM "$pid"; wait "$pid"; pid=
grep -q PASS "$work/out" || fail "tracee after dump: $(cat "$work/out")"

# Reseal the inventory with another arch or page size: a correct seal, but an image this host
# cannot run.
reseal() {
  python3 - "$work/img/inventory.json" "$1" "$2" <<'PY' || fail "cannot rewrite inventory"
import hashlib, json, sys
doc = json.load(open(sys.argv[1]))
doc["body"][sys.argv[2]] = json.loads(sys.argv[3])
body = json.dumps(doc["body"], separators=(",", ":"), sort_keys=True)
doc["sha256"] = hashlib.sha256(body.encode()).hexdigest()
json.dump(doc, open(sys.argv[1], "w"))
PY
}
reseal page_size 65536
expect_rc 4 "$ckpt" restore -D "$work/img" -d
grep -q "has 65536-byte pages; this x86_64 kernel uses 4096-byte pages" err.txt \
  || fail "an image of other pages refused without naming both sizes: $(cat err.txt)"
reseal page_size 4096
reseal arch '"aarch64"'
expect_rc 4 "$ckpt" restore -D "$work/img" -d
grep -q "was dumped on arch aarch64 (little-endian); this host is x86_64" err.txt \
  || fail "foreign image refused without naming both arches: $(cat err.txt)"
kill -0 "$child" 2>/dev/null && fail "a refused restore created a process"

# Tracee $1 started through the command "${@:2}", in its own directory; sets pid.
start_in() {
  local dir=$work/$1; shift
  mkdir -p "$dir" && chmod 0777 "$dir"
  (
    for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
    exec "$@" "$tracee" --pidfile "$dir/pid" --outfile "$dir/out" </dev/null >/dev/null 2>&1
  ) &
  child=$!
  for _ in $(seq 3000); do [ -s "$dir/pid" ] && break; sleep 0.01; done
  pid=$(cat "$dir/pid") || fail "tracee in $dir wrote no pidfile"
}
# Dumps (killing), restores and checks the tracee in $1; $2 is the Python test of
# dump --json's object d.
dump_restore_in() {
  local dir=$work/$1
  expect_rc 0 "$ckpt" dump -t "$pid" -D "$dir/img" --json
  python3 -c "import json; d=json.load(open('out.txt')); assert $2, d" \
    || fail "dump --json of the tracee in $dir: $(cat out.txt)"
  wait "$child" 2>/dev/null
  expect_rc 0 "$ckpt" restore -D "$dir/img" -d
  kill -TERM "$pid"
  for _ in $(seq 3000); do [ -s "$dir/out" ] && break; sleep 0.01; done
  pid=
  grep -q PASS "$dir/out" || fail "tracee in $dir after restore: $(cat "$dir/out")"
}

# Another user's task gets the image file from ckpt (SCM_RIGHTS) and writes its own pages,
# though it could not open the image directory (root's, mode 0700).
start_in nobody setpriv --reuid=65534 --regid=65534 --clear-groups
dump_restore_in nobody 'd["pages_bytes"] > 0 and d["pages_by_task"] == d["pages_bytes"]'
[ "$(stat -c %u "$work/nobody/out")" = 65534 ] || fail "the restored task did not run as nobody"

# A task at its fd limit cannot take the pages file (its one free slot goes to the socket
# it would come by): ckpt reads its pages itself.
start_in fdlimit
prlimit --pid "$pid" --nofile=$(($(ls "/proc/$pid/fd" | wc -l) + 1))
dump_restore_in fdlimit 'd["pages_bytes"] > 0 and d["pages_by_task"] == 0'
rm -rf "$work"
echo PASS
