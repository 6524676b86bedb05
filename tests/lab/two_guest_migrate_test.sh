#!/usr/bin/env bash
# two_guest_migrate_test.sh ARCH: live migration between two QEMU boards of ARCH (TCG), booted
# straight from the lab's kernel and ramdisk and linked by a private Ethernet (QEMU's socket
# netdev over loopback: nothing else can reach them). Each board's ramdisk gets /lab/migrate: its
# role and TLS files made for the run by a CA of the run. The source migrates the writer tracee to
# the destination with pre-copy, then with post-copy (toolchains/lab/ckpt-migrate); the test
# passes when both boards report every case passed (migrate exited 0 and the source's tracee
# was killed; receive exited 0 and the tracee passed its own check on the destination) and
# powered off. A board that hangs is killed after LAB_BOOT_TIMEOUT seconds (default 1500).
# Exit status 0 pass, 1 fail, 2 usage.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: two_guest_migrate_test.sh ARCH" >&2; exit 2; }
arch=$1
. "$(dirname "$0")/direct_board.sh"
direct_board "$arch"

logs=${LAB_LOG_DIR:-$PWD}
mkdir -p "$logs"
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# One CA, a certificate for each end (EC P-256, valid from yesterday: the guests' clocks come from
# this host's).
tls=$work/tls
mkdir -p "$tls"
openssl_quiet() {
  openssl "$@" 2>>"$work/openssl.log" || { echo "FAIL: openssl $1: $(tail -3 "$work/openssl.log")"; exit 1; }
}
openssl_quiet req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=crossrig lab migration CA" -keyout "$tls/ca-key.pem" -out "$tls/ca.pem"
for role in source destination; do
  openssl_quiet req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=lab-$role" -keyout "$tls/$role-key.pem" -out "$tls/$role.csr"
  openssl_quiet x509 -req -in "$tls/$role.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
    -CAcreateserial -days 2 -out "$tls/$role.pem"
done

# ramdisk ROLE: the lab's ramdisk with /lab/migrate appended as a second archive (the kernel
# unpacks them in turn).
ramdisk_for() {
  local role=$1 root=$work/$1
  mkdir -p "$root/lab/migrate"
  echo "$role" >"$root/lab/migrate/role"
  cp "$tls/ca.pem" "$tls"/source*.pem "$tls"/destination*.pem "$root/lab/migrate/"
  (cd "$root" && find lab | cpio -o -H newc -R 0:0 --quiet) | gzip -n >"$work/$role.cpio.gz"
  cat "$ramdisk" "$work/$role.cpio.gz" >"$work/$role-ramdisk.cpio.gz"
  echo "$work/$role-ramdisk.cpio.gz"
}

# boot ROLE MAC NETDEV: starts that board, its console in $logs.
boot() {
  local role=$1 mac=$2 netdev=$3 initrd
  initrd=$(ramdisk_for "$role")
  timeout --kill-after=10 "${LAB_BOOT_TIMEOUT:-1500}" "${qemu[@]}" -nographic -no-reboot \
    -kernel "$kernel" -initrd "$initrd" -append "console=$console rdinit=/init panic=-1" \
    -netdev "socket,id=lab,$netdev" -device "$nic,netdev=lab,mac=$mac" \
    </dev/null >"$logs/migrate-$arch-$role.log" 2>&1 &
  pids+=($!)
}

# The destination's QEMU listens on loopback, the source's connects. A port some other process
# holds makes the destination's QEMU exit at once, and the test tries another.
for attempt in 1 2 3 4 5; do
  port=$((30000 + RANDOM % 20000))
  pids=()
  boot destination 52:54:00:77:00:02 "listen=127.0.0.1:$port"
  for _ in $(seq 50); do
    ss -Hltn "sport = :$port" | grep -q . && break
    kill -0 "${pids[0]}" 2>/dev/null || break
    sleep 0.1
  done
  ss -Hltn "sport = :$port" | grep -q . && break
  wait "${pids[0]}" || true
  [ "$attempt" -lt 5 ] || { echo "FAIL: the destination's QEMU never listened on a port"; tail "$logs/migrate-$arch-destination.log"; exit 1; }
done
boot source 52:54:00:77:00:01 "connect=127.0.0.1:$port"
echo "booting two $arch boards: $kernel + $ramdisk; consoles in $logs/migrate-$arch-*.log"

failures=()
rcs=()
for p in "${pids[@]}"; do
  rc=0
  wait "$p" || rc=$?
  rcs+=("$rc")
done
pids=()
cases=(precopy lazy)
roles=(destination source) # the order they were booted in, as in rcs
for i in 0 1; do
  role=${roles[$i]}
  log=$logs/migrate-$arch-$role.log
  tr -d '\r' <"$log" >"$log.txt"
  rc=${rcs[$i]}
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || failures+=("the $role did not power off within ${LAB_BOOT_TIMEOUT:-1500} s (hung)")
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] || [ "$rc" -eq 0 ] || failures+=("the $role's QEMU exited with status $rc")
  grep -qF '<LAVA_SIGNAL_STARTRUN migrate 1>' "$log.txt" || failures+=("the $role printed no STARTRUN line")
  for c in "${cases[@]}"; do
    grep -qF "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=migrate/$c/$role RESULT=pass" "$log.txt" ||
      failures+=("migrate/$c/$role did not report RESULT=pass")
  done
  grep -qF '<LAVA_SIGNAL_ENDRUN migrate 1>' "$log.txt" || failures+=("the $role printed no ENDRUN line")
done

if [ ${#failures[@]} -gt 0 ]; then
  printf "FAIL $arch: %s\n" "${failures[@]}"
  for role in source destination; do
    echo "--- last 30 console lines of the $role ($logs/migrate-$arch-$role.log) ---"
    tail -n 30 "$logs/migrate-$arch-$role.log.txt"
  done
  exit 1
fi
grep -hF '<LAVA_SIGNAL_TESTCASE' "$logs/migrate-$arch-source.log.txt" "$logs/migrate-$arch-destination.log.txt"
echo "PASS $arch"
