# Shared helpers for vigie's tools/ scripts (sourced, not run).
# Every fetched artefact is pinned by version and SHA-256 and lands in the per-user cache
# (VIGIE_CACHE, default ~/.cache/vigie), outside the clone, so a fresh clone on the same
# machine reuses it and a second run does no network access.

set -euo pipefail

VIGIE_CACHE="${VIGIE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigie}"
export VIGIE_CACHE
VIGIE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VIGIE_ROOT

say() { printf 'vigie-setup: %s\n' "$*" >&2; }
die() { printf 'vigie-setup: error: %s\n' "$*" >&2; exit 1; }

# sha256_ok FILE EXPECTED -> 0 if FILE exists and matches.
sha256_ok() {
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

# check_sha256 FILE EXPECTED: die with a clear message on mismatch.
check_sha256() {
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  [ "$got" = "$2" ] || die "SHA-256 mismatch for $1: got $got, expected $2 (the registry served different bytes; delete the file and retry, or update the pin after checking why)"
}

# as_root CMD...: run as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $* (run as root or install sudo)"; fi
}
