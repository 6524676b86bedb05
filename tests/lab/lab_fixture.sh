#!/bin/sh
# The lab tests' ctest fixture: `lab_fixture.sh up RIG` brings the virtual lab up (the lab_images
# fixture has made every arch's boot files before); `lab_fixture.sh down RIG` takes it down.
set -eu
rig=$2
case "$1" in
up)
  # A lab a killed run left behind is taken down first.
  "$rig" lab down
  exec "$rig" lab up
  ;;
down)
  exec "$rig" lab down
  ;;
*)
  echo "usage: lab_fixture.sh up RIG | down RIG" >&2
  exit 2
  ;;
esac
