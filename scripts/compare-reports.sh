#!/usr/bin/env bash
# Byte-for-byte comparison of every report two asoguard binaries write, for refactors that must
# not change behaviour: each format (text, concise, json, sarif, github, azure, junit), with
# --statistics, --diff and the tree --fix (and --fix --unsafe-fixes) leaves, on the demo, every
# fixture repository, every rule fixture directory, ASO's samples (also with --crds), and the
# two generated corpora of scripts/perf-targets.sh.
#
#   scripts/compare-reports.sh OLD_BINARY NEW_BINARY [CORPUS_ROOT]
#
# CORPUS_ROOT (default /tmp/asoguard-perf) holds mixed50 and aso20 (written by gen-corpus when
# missing). Prints one line per difference and exits 1 if there is any.
set -uo pipefail
cd "$(dirname "$0")/.."

old="$(realpath "$1")"
new="$(realpath "$2")"
root="${3:-/tmp/asoguard-perf}"
samples="$(realpath ../shared/corpus/aso-samples 2>/dev/null || true)"
crds="$(realpath ../shared/crds 2>/dev/null || true)"

if [[ ! -d "$root/mixed50" || ! -d "$root/aso20" ]]; then
  cargo build --release --quiet -p asoguard-core --example gen-corpus
  mkdir -p "$root"
  [[ -d "$root/mixed50" ]] || ./target/release/examples/gen-corpus "$root/mixed50" 50 >/dev/null
  [[ -d "$root/aso20" ]] || ./target/release/examples/gen-corpus "$root/aso20" 20 --all-aso >/dev/null
fi

targets=(fixtures/demo fixtures/repos/* fixtures/rules/*/)
[[ -n "$samples" ]] && targets+=("$samples")
big=("$root/mixed50" "$root/aso20")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
differences=0

# run BINARY DIR ARGS...: stdout, stderr and exit code of one run, in DIR, as one blob. Each
# run has files of its own: `same` runs the two binaries at once.
run() {
  local bin="$1" dir="$2" out
  shift 2
  out="$(mktemp -d "$work/run.XXXXXX")"
  (cd "$dir" && "$bin" "$@" >"$out/out" 2>"$out/err"; echo "exit $?" >"$out/code")
  cat "$out/out" "$out/err" "$out/code"
  rm -rf "$out"
}

# same LABEL DIR ARGS...: both binaries give the same bytes.
same() {
  local label="$1" dir="$2"
  shift 2
  if ! cmp -s <(run "$old" "$dir" "$@") <(run "$new" "$dir" "$@"); then
    echo "differs: $label: asoguard $*"
    differences=$((differences + 1))
  fi
}

# fixed_tree LABEL DIR ARGS...: --fix on two copies of DIR leaves the same trees and reports.
fixed_tree() {
  local label="$1" dir="$2"
  shift 2
  rm -rf "$work/a" "$work/b"
  cp -r "$dir" "$work/a" && cp -r "$dir" "$work/b"
  local ra rb
  ra="$(run "$old" "$work/a" check . "$@")"
  rb="$(run "$new" "$work/b" check . "$@")"
  if [[ "$ra" != "$rb" ]] || ! diff -r "$work/a" "$work/b" >/dev/null; then
    echo "differs: $label: asoguard check . $*"
    differences=$((differences + 1))
  fi
}

for target in "${targets[@]}" "${big[@]}"; do
  dir="$(realpath "$target")"
  label="${target%/}"
  for format in text concise json sarif github azure junit; do
    same "$label" "$dir" check . --format "$format"
  done
  same "$label" "$dir" check . --statistics
  same "$label" "$dir" check . --diff
  same "$label" "$dir" check . --diff --unsafe-fixes
  same "$label" "$dir" inventory --format json
  fixed_tree "$label" "$dir" --fix
  fixed_tree "$label" "$dir" --fix --unsafe-fixes
done
if [[ -n "$samples" && -n "$crds" ]]; then
  for format in concise json sarif; do
    same "samples --crds" "$samples" check . --crds "$crds" --format "$format"
  done
fi

if [[ "$differences" -gt 0 ]]; then
  echo "$differences differences"
  exit 1
fi
echo "no difference: ${#targets[@]} trees and 2 corpora, every format"
