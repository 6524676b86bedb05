#!/usr/bin/env bash
# static_test.sh ARCH QEMU BINDIR NAME...: every file in BINDIR is a static executable (no
# program interpreter, not static-pie) for ARCH's CPU and byte order; each NAME is among them;
# and BINDIR/ckpt --help works under QEMU, as it must on a board with no libraries at all.
set -euo pipefail
arch=$1 qemu=$2 bindir=$3
shift 3

declare -A machine=([x86_64]='Advanced Micro Devices X86-64' [aarch64]=AArch64 [ppc64]=PowerPC64 [ppc64le]=PowerPC64 [s390x]='IBM S/390')
declare -A data=([x86_64]=little [aarch64]=little [ppc64]=big [ppc64le]=little [s390x]=big)
[ -n "${machine[$arch]:-}" ] || { echo "no expectations for arch $arch; add it here" >&2; exit 2; }

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

for name in "$@"; do
  [ -f "$bindir/$name" ] || fail "$bindir/$name is missing: build the preset first"
done

checked=0
for f in "$bindir"/*; do
  [ -f "$f" ] || continue
  checked=$((checked + 1))
  header=$(readelf -hW "$f")
  grep -q "Type: *EXEC " <<<"$header" ||
    fail "$f is not a fixed-address executable (static-pie or shared?): $(grep 'Type:' <<<"$header")"
  grep -q "Machine: *${machine[$arch]}\$" <<<"$header" ||
    fail "$f is not for ${machine[$arch]}: $(grep 'Machine:' <<<"$header")"
  grep -q "Data: .*${data[$arch]} endian" <<<"$header" ||
    fail "$f is not ${data[$arch]}-endian: $(grep 'Data:' <<<"$header")"
  if readelf -lW "$f" | grep -q INTERP; then
    fail "$f asks for a program interpreter: $(readelf -lW "$f" | grep -A1 INTERP | tail -1)"
  fi
  file -b "$f" | grep -q "statically linked" || fail "$f: file says $(file -b "$f")"
done
[ "$checked" -gt 0 ] || fail "no binaries in $bindir"

if ! out=$("$qemu" "$bindir/ckpt" --help 2>&1); then
  fail "ckpt --help under $qemu failed: $out"
elif ! grep -q "^usage: ckpt" <<<"$out"; then
  fail "ckpt --help under $qemu printed no usage: $out"
fi

echo "$checked binaries in $bindir checked; $failures failures"
[ "$failures" -eq 0 ]
