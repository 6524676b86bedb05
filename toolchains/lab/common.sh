# Shared by the lab image scripts: cache layout, progress, atomic publishing. Sourced, not run.

# Bump when a change to these scripts changes what they produce, so cached results are redone.
lab_script_version=1

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/crossrig
lab_quiet=${lab_quiet:-0}
# The name messages start with: the script that sourced this file.
lab_tool=${lab_tool:-lab-images}

# Progress goes to stderr so stdout stays free for paths and JSON.
progress() {
  [ "$lab_quiet" = 1 ] || echo "$lab_tool: $*" >&2
}

die() {
  echo "$lab_tool: $*" >&2
  exit 1
}

sha256_of_stdin() {
  sha256sum | cut -c1-64
}

# publish TMP FINAL: makes a finished temp dir visible under its final name in one rename, so a
# reader never sees half a result. A concurrent run that finished first wins; ours is dropped.
publish() {
  local tmp=$1 final=$2
  if ! mv -T "$tmp" "$final" 2>/dev/null; then
    [ -d "$final" ] || die "cannot rename $tmp to $final; check permissions on $(dirname "$final")"
    rm -rf "$tmp"
  fi
}

# This machine's apt keeps no package cache, so each apt-cache call would parse every list again
# (seconds of CPU each); keep one under the cache root, which apt rebuilds when the lists change.
apt_opts=(-o "Dir::Cache::pkgcache=$cache_root/apt/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$cache_root/apt/srcpkgcache.bin")
mkdir -p "$cache_root/apt"

# Debian version of an installed package, or empty.
installed_version() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true
}
