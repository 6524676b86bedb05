#!/usr/bin/env bash
# The nightly units as a host installs them: systemd accepts the service and the timer (with
# ExecStart pointing at this build's rig), and the options the service, its defaults file and
# the cron line give are options rig nightly takes. Usage: nightly_units_test.sh RIG
set -euo pipefail
rig=$1
units=$(cd "$(dirname "$0")/../../rig/matrix/nightly" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed "s#/usr/local/bin/rig#$rig#" "$units/rig-nightly.service" >"$tmp/rig-nightly.service"
cp "$units/rig-nightly.timer" "$tmp/"
if ! out=$(systemd-analyze verify --man=no "$tmp/rig-nightly.service" "$tmp/rig-nightly.timer" 2>&1) ||
  [ -n "$out" ]; then
  echo "systemd-analyze verify objects to the units:"; echo "$out"; exit 1
fi
grep -qx 'OnCalendar=\*-\*-\* 02:00:00' "$tmp/rig-nightly.timer"
systemd-analyze calendar '*-*-* 02:00:00' >/dev/null

# rig parses options before it checks the date, so a bad --date appended shows whether every
# option before it was accepted.
accepts() {
  local what=$1; shift
  local err
  if err=$("$rig" nightly "$@" --date=not-a-date 2>&1 >/dev/null); then
    echo "$what: rig nightly ran instead of refusing --date=not-a-date"; exit 1
  fi
  case $err in
    *"--date takes YYYY-MM-DD"*) ;;
    *) echo "$what: rig nightly does not take these options: $*"; echo "$err"; exit 1 ;;
  esac
}
service_args=$(sed -n 's/^Environment=RIG_NIGHTLY_ARGS=//p' "$units/rig-nightly.service")
accepts "rig-nightly.service" $service_args
(. "$units/rig-nightly.default" && accepts "rig-nightly.default" $RIG_NIGHTLY_ARGS)

line=$(grep -v '^#' "$units/rig-nightly.cron" | grep ' rig nightly ')
read -r minute hour dom month dow user _ <<<"$line"
[[ "$minute $hour $dom $month $dow $user" == "0 2 * * * root" ]] ||
  { echo "cron line's schedule or user is not 02:00 as root: $line"; exit 1; }
cron_args=$(sed -n 's/.* rig nightly \([^>]*\) >>.*/\1/p' <<<"$line")
accepts "rig-nightly.cron" $cron_args
echo "units verified; the service, defaults file and cron line give options rig nightly takes"
