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
for cmd in dump restore show check; do
  expect_rc 0 "$ckpt" $cmd --help
  grep -q -- "--help" out.txt || fail "ckpt $cmd --help lists no options"
done
expect_rc 2 "$ckpt" dump
expect_rc 2 "$ckpt" frobnicate
expect_rc 2 "$ckpt" dump -t 1 -D x --no-such-option
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

# Reseal the inventory with another arch: a correct seal, but an image this host cannot run.
python3 - "$work/img/inventory.json" <<'PY' || fail "cannot rewrite inventory"
import hashlib, json, sys
doc = json.load(open(sys.argv[1]))
doc["body"]["arch"] = "aarch64"
body = json.dumps(doc["body"], separators=(",", ":"), sort_keys=True)
doc["sha256"] = hashlib.sha256(body.encode()).hexdigest()
json.dump(doc, open(sys.argv[1], "w"))
PY
expect_rc 4 "$ckpt" restore -D "$work/img" -d
grep -q "is for arch 'aarch64'" err.txt || fail "foreign image refused without naming its arch: $(cat err.txt)"
kill -0 "$child" 2>/dev/null && fail "a refused restore created a process"

# A task of another user cannot open the image (its directory is root's, mode 0700): ckpt
# reads the pages itself, and the restored task still finds its state intact.
mkdir -p "$work/nobody" && chmod 0777 "$work/nobody"
(
  for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
  exec setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$tracee" --pidfile "$work/nobody/pid" --outfile "$work/nobody/out" </dev/null >/dev/null 2>&1
) &
child=$!
for _ in $(seq 3000); do [ -s "$work/nobody/pid" ] && break; sleep 0.01; done
pid=$(cat "$work/nobody/pid") || fail "nobody's tracee wrote no pidfile"
expect_rc 0 "$ckpt" dump -t "$pid" -D "$work/img-nobody" --json
python3 -c 'import json,sys; d=json.load(open("out.txt")); assert d["pages_bytes"] > 0 and d["pages_by_task"] == 0, d' \
  || fail "dump --json of a task that cannot open the image: $(cat out.txt)"
wait "$child" 2>/dev/null
expect_rc 0 "$ckpt" restore -D "$work/img-nobody" -d
[ "$(stat -c %u /proc/"$pid")" = 65534 ] || fail "the restored task is not nobody's"
kill -TERM "$pid"
for _ in $(seq 3000); do [ -s "$work/nobody/out" ] && break; sleep 0.01; done
pid=
grep -q PASS "$work/nobody/out" || fail "nobody's tracee after restore: $(cat "$work/nobody/out")"
rm -rf "$work"
echo PASS
