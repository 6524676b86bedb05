#!/bin/sh
# The lab tests' ctest fixture: `lab_fixture.sh up RIG SOURCE_DIR` makes sure every arch's boot
# files are cached and brings the virtual lab up; `lab_fixture.sh down RIG` takes it down.
set -eu
rig=$2
case "$1" in
up)
  # toolchains/lab-images is quick once the boot files are cached.
  if [ -x "$3/toolchains/lab-images" ]; then
    "$3/toolchains/lab-images" --quiet
  fi
  # A lab a killed run left behind is taken down first.
  "$rig" lab down
  exec "$rig" lab up
  ;;
down)
  exec "$rig" lab down
  ;;
*)
  echo "usage: lab_fixture.sh up RIG SOURCE_DIR | down RIG" >&2
  exit 2
  ;;
esac
