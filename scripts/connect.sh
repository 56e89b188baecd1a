#!/usr/bin/env bash
# Build and locate pitwall's custom Redpanda Connect distribution.
#
#   scripts/connect.sh build   build (or reuse) the binary; last stdout line is
#                              its absolute path
#   scripts/connect.sh path    print the binary path (exit 1 if not built)
#
# Sources: tools/redpanda-connect/{main.go,go.mod,go.sum}. Output:
# .cache/redpanda-connect/bin/redpanda-connect (ignored by git). A stamp file
# holding a hash of the sources makes a second `build` a no-op.
#
# Go's own defaults (or the caller's GOPATH/GOMODCACHE/GOCACHE/GOPROXY) are
# used for module download and build caching; nothing here names a registry.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
SRC_DIR="$REPO_ROOT/tools/redpanda-connect"
CACHE_DIR="$REPO_ROOT/.cache/redpanda-connect"
BIN_DIR="$CACHE_DIR/bin"
BIN="$BIN_DIR/redpanda-connect"
STAMP="$CACHE_DIR/build.stamp"

log() { printf 'connect.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $(basename "$0") <command>

commands:
  build   build the custom Redpanda Connect binary (no-op if up to date);
          prints its absolute path as the last line on stdout
  path    print the binary path (exit 1 if it has not been built)
EOF
}

hash_sources() {
  local f
  for f in go.mod go.sum main.go; do
    [[ -f "$SRC_DIR/$f" ]] || die "missing source file: $SRC_DIR/$f"
  done
  local hasher
  if command -v sha256sum >/dev/null 2>&1; then
    hasher=(sha256sum)
  elif command -v shasum >/dev/null 2>&1; then
    hasher=(shasum -a 256)
  else
    die "need sha256sum or shasum"
  fi
  # Hash names and contents together so renames/reorders change the stamp.
  (cd "$SRC_DIR" && for f in go.mod go.sum main.go; do
     printf '%s\n' "$f"; cat "$f"
   done) | "${hasher[@]}" | awk '{print $1}'
}

cmd_build() {
  command -v go >/dev/null 2>&1 || die "go toolchain not found on PATH"

  local want have=""
  want="$(hash_sources)"
  [[ -f "$STAMP" ]] && have="$(cat "$STAMP")"
  if [[ -x "$BIN" && "$have" == "$want" ]]; then
    log "up to date (stamp $want)"
    printf '%s\n' "$BIN"
    return 0
  fi

  local version
  version="$(awk '$1 == "github.com/redpanda-data/connect/v4" { print $2 }' "$SRC_DIR/go.mod")"
  log "building Redpanda Connect ${version:-?} (pitwall's distribution: pure, io and kafka components)"
  log "from $SRC_DIR with $(go version | awk '{print $3}') into ${BIN#"$REPO_ROOT"/}"
  log "first build: Go downloads the modules and compiles them, usually 2-8 minutes on 2 cores;"
  log "later builds reuse Go's caches and take seconds; nothing is printed meanwhile"
  mkdir -p "$BIN_DIR"
  rm -f "$STAMP"

  local tmp="$BIN.tmp.$$"
  local start=$SECONDS
  # -mod=readonly: go.sum is committed and must already be complete.
  if ! (cd "$SRC_DIR" && \
        CGO_ENABLED=0 GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly" \
        go build -trimpath -ldflags "-s -w" -o "$tmp" . >&2); then
    rm -f "$tmp"
    die "go build failed"
  fi
  mv -f "$tmp" "$BIN"
  printf '%s\n' "$want" >"$STAMP"
  log "built in $((SECONDS - start))s: $(du -h "$BIN" | awk '{print $1}'), $("$BIN" --version | head -n1)"
  printf '%s\n' "$BIN"
}

cmd_path() {
  if [[ ! -x "$BIN" ]]; then
    log "Redpanda Connect binary not built: $BIN"
    log "run: $SCRIPT_DIR/connect.sh build"
    exit 1
  fi
  printf '%s\n' "$BIN"
}

case "${1:-}" in
  build) cmd_build ;;
  path) cmd_path ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
