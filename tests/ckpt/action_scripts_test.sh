#!/bin/bash
# ckpt's --action-script on a live tick counter: every action once, in order, with its
# environment; a script failing at pre-dump or post-dump leaves the counter counting and no
# image; at pre-restore or post-restore no process; at post-resume only a message.
# usage: action_scripts_test.sh CKPT TICK_COUNTER WORKDIR
set -u
ckpt=$1 counter=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { local want=$1; shift; "$@" >out.txt 2>err.txt; local rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited with $rc, expected $want: $(cat err.txt)"; }

# Starts the counter with only stdio (inherited pipes would make the dump refuse it); sets pid.
start_counter() {
  rm -f "$work/count" "$work/stop"
  (
    for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
    exec "$counter" "$work/count" "$work/stop" </dev/null >/dev/null 2>&1
  ) &
  pid=$!
  count_is 0 || fail "the counter does not count"
}
# Whether the counter's file says $1 within 10 s.
count_is() {
  for _ in $(seq 1000); do
    [ "$(tr -d ' ' <"$work/count" 2>/dev/null)" = "$1" ] && return 0
    sleep 0.01
  done
  return 1
}
# Proves process $pid still runs its own code: one more SIGUSR1 makes its count $1.
answers() { kill -USR1 "$pid" 2>/dev/null && count_is "$1"; }
# Fails unless $1 holds no image nor any half-written one beside it.
no_image() {
  [ ! -e "$1/inventory.json" ] || fail "$1 holds an image after the failed dump"
  ! ls -d "$1".tmp-* >/dev/null 2>&1 || fail "a temporary image is left beside $1"
}
# Waits until no process has PID $1.
gone() { for _ in $(seq 1000); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.01; done; return 1; }

# A script that logs "NAME ACTION PID" and checks what that action promises: stdin is
# /dev/null, CKPT_IMAGE_DIR the absolute image directory ($want_dir), the root readable in
# /proc and held by ckpt (its tracer) at post-dump and post-restore and let go at post-resume,
# its PID free at pre-restore, the image committed at post-dump.
logger() {
  cat >"$work/$1" <<EOF
#!/bin/sh
[ "\$(readlink /proc/\$\$/fd/0)" = /dev/null ] || { echo "$1: stdin is no /dev/null" >&2; exit 9; }
[ "\$CKPT_IMAGE_DIR" = "\$want_dir" ] || { echo "$1: CKPT_IMAGE_DIR=\$CKPT_IMAGE_DIR" >&2; exit 9; }
case "\$CKPT_SCRIPT_ACTION" in
  post-dump|post-restore)
    grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/\$CKPT_INIT_PID/status ||
      { echo "$1: process not held" >&2; exit 9; } ;;
  post-resume)
    grep -q '^TracerPid:[[:space:]]*0\$' /proc/\$CKPT_INIT_PID/status ||
      { echo "$1: process not let go" >&2; exit 9; } ;;
  pre-restore)
    [ ! -e /proc/\$CKPT_INIT_PID ] || { echo "$1: PID taken" >&2; exit 9; } ;;
esac
[ "\$CKPT_SCRIPT_ACTION" != post-dump ] || [ -f "\$CKPT_IMAGE_DIR/inventory.json" ] ||
  { echo "$1: no image at post-dump" >&2; exit 9; }
echo "$1 \$CKPT_SCRIPT_ACTION \$CKPT_INIT_PID" >>"$work/log"
EOF
  chmod +x "$work/$1"
}
# A script that exits with status $3 at action $2 and succeeds at every other.
failing() {
  printf '#!/bin/sh\n[ "$CKPT_SCRIPT_ACTION" = %s ] && exit %s\nexit 0\n' "$2" "$3" >"$work/$1"
  chmod +x "$work/$1"
}
logger a
logger b
export want_dir=$work/img

# 1. Dump then restore: every action once, in order, each script in the order given.
start_counter
answers 1 || fail "the counter does not answer"
expect_rc 0 "$ckpt" dump -t "$pid" -D img --action-script "$work/a" --action-script "$work/b"
printf 'a pre-dump %s\nb pre-dump %s\na post-dump %s\nb post-dump %s\n' $pid $pid $pid $pid \
  >want.txt
diff want.txt log || fail "dump ran the scripts otherwise than expected"
wait "$pid" 2>/dev/null
gone "$pid" || fail "the dump left the counter running"
rm log
# b from the configuration file, after a from the command line.
echo "action-script $work/b" >ckpt.conf
CKPT_CONFIG=$work/ckpt.conf expect_rc 0 "$ckpt" restore -D img -d --action-script "$work/a"
printf 'a %s %s\nb %s %s\n' pre-restore $pid pre-restore $pid post-restore $pid post-restore $pid \
  post-resume $pid post-resume $pid >want.txt
diff want.txt log || fail "restore ran the scripts otherwise than expected"
answers 2 || fail "the restored counter does not count on from the image"
touch stop
gone "$pid" || fail "the restored counter did not stop"
pid=
rm -rf log img

# 2. A pre-dump script that fails: exit 5 naming it, the counter runs on, no image.
start_counter
failing fail pre-dump 1
expect_rc 5 "$ckpt" dump -t "$pid" -D img --action-script "$work/fail" --action-script "$work/a"
grep -q "action script $work/fail exited with status 1 at pre-dump of process $pid" err.txt ||
  fail "a failed pre-dump script is not named: $(cat err.txt)"
[ ! -e log ] || fail "a script after the failed one ran"
answers 1 || fail "the counter stopped after a failed pre-dump script"
no_image img

# 3. A post-dump script that fails, without --leave-running: the counter is not killed, it
# counts on, and the image directory, which existed empty, is empty again.
mkdir img
failing fail post-dump 3
expect_rc 5 "$ckpt" dump -t "$pid" -D img --action-script "$work/fail"
grep -q "action script $work/fail exited with status 3 at post-dump of process $pid" err.txt ||
  fail "a failed post-dump script is not named: $(cat err.txt)"
answers 2 || fail "the counter stopped after a failed post-dump script"
no_image img
[ -d img ] && [ -z "$(ls -A img)" ] || fail "the empty image directory was not left empty"
# The same in a pre-dump, whose processes run on anyway: still no image.
expect_rc 5 "$ckpt" pre-dump -t "$pid" -D img --action-script "$work/fail"
answers 3 || fail "the counter stopped after a pre-dump's failed post-dump script"
no_image img
want_dir=$work/pre expect_rc 0 "$ckpt" pre-dump -t "$pid" -D pre --action-script "$work/a"
printf 'a pre-dump %s\na post-dump %s\n' $pid $pid >want.txt
diff want.txt log || fail "pre-dump ran the scripts otherwise than expected"
rm log
kill -9 "$pid"
wait "$pid" 2>/dev/null

# 4. A pre-restore or post-restore script that fails: exit 5, and no process has the PID.
rm -rf img
start_counter
answers 1 || fail "the counter does not answer"
expect_rc 0 "$ckpt" dump -t "$pid" -D img
wait "$pid" 2>/dev/null
gone "$pid" || fail "the dump left the counter running"
for action in pre-restore post-restore; do
  failing fail $action 4
  expect_rc 5 "$ckpt" restore -D img -d --action-script "$work/fail"
  grep -q "action script $work/fail exited with status 4 at $action of process $pid" err.txt ||
    fail "a failed $action script is not named: $(cat err.txt)"
  gone "$pid" || fail "a process $pid is left after a failed $action script"
done
# At post-resume it is too late to fail: a message, and the counter runs.
failing fail post-resume 6
expect_rc 0 "$ckpt" restore -D img -d --action-script "$work/fail"
grep -q "action script $work/fail exited with status 6 at post-resume" err.txt ||
  fail "a failed post-resume script is not reported: $(cat err.txt)"
answers 2 || fail "the counter restored with a failing post-resume script does not count"
touch stop
gone "$pid" || fail "the restored counter did not stop"
pid=
rm -rf "$work"
echo PASS
