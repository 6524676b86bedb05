#!/usr/bin/env bash
# direct_boot_test.sh ARCH SMOKE_HOST: boots ARCH's lab kernel and ramdisk (from the manifest
# toolchains/lab-images wrote) straight from QEMU (TCG, no firmware) and checks what a user would
# read on the console: the run started, every test the payload lists (SMOKE_HOST --list, the
# payload built for this host) and every case of the ramdisk's ckpt suite (ckpt/check and each
# line of /lab/ckpt/ckpt-suite.txt) reported RESULT=pass, the run ended, and the guest powered
# itself off. A kernel panic reboots at once, which -no-reboot turns into QEMU exiting; a guest that
# hangs otherwise is killed after LAB_BOOT_TIMEOUT seconds (default 900) and fails.
# Exit status 0 pass, 1 fail, 2 usage.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: direct_boot_test.sh ARCH SMOKE_HOST" >&2; exit 2; }
arch=$1 smoke_host=$2
. "$(dirname "$0")/direct_board.sh"
direct_board "$arch"

log=${LAB_LOG_DIR:-$PWD}/direct-boot-$arch.log
mkdir -p "$(dirname "$log")"
echo "booting $arch: $kernel + $ramdisk; console log $log"
rc=0
timeout --kill-after=10 "${LAB_BOOT_TIMEOUT:-900}" "${qemu[@]}" -nographic -no-reboot \
  -kernel "$kernel" -initrd "$ramdisk" -append "console=$console rdinit=/init panic=-1" \
  </dev/null >"$log" 2>&1 || rc=$?
tr -d '\r' <"$log" >"$log.txt"

failures=()
[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || failures+=("guest did not power off within ${LAB_BOOT_TIMEOUT:-900} s (hung)")
[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || [ "$rc" -eq 0 ] || failures+=("QEMU exited with status $rc")
grep -qF '<LAVA_SIGNAL_STARTRUN smoke 1>' "$log.txt" || failures+=("no STARTRUN line")
for t in $("$smoke_host" --list); do
  grep -qF "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$t RESULT=pass>" "$log.txt" ||
    failures+=("test case $t did not report RESULT=pass")
done
cases=$(gzip -dc "$ramdisk" | cpio -i --quiet --to-stdout lab/ckpt/ckpt-suite.txt |
  awk '!/^#/ && NF { print $1 }')
[ -n "$cases" ] || failures+=("the ramdisk has no ckpt suite (lab/ckpt/ckpt-suite.txt)")
for c in check $cases; do
  grep -qF "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/$c RESULT=pass " "$log.txt" ||
    failures+=("ckpt case ckpt/$c did not report RESULT=pass")
done
# The throughput rig matrix plots per arch over the nights.
for b in dump_rate restore_rate; do
  grep -qE "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ckpt/bench_${b}_64MiB RESULT=pass MEASUREMENT=[0-9.]+ UNITS=MiB/s>" "$log.txt" ||
    failures+=("no ckpt/bench_${b}_64MiB in MiB/s")
done
grep -qF '<LAVA_SIGNAL_ENDRUN smoke 1>' "$log.txt" || failures+=("no ENDRUN line")

if [ ${#failures[@]} -gt 0 ]; then
  printf "FAIL $arch: %s\n" "${failures[@]}"
  echo "--- last 40 console lines ($log) ---"
  tail -n 40 "$log.txt"
  exit 1
fi
grep -F '<LAVA_SIGNAL_' "$log.txt"
echo "PASS $arch"
