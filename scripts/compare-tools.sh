#!/usr/bin/env bash
# Side by side on one generated GitOps tree: asoguard against the tools a user would otherwise
# run (yamllint, checkov's Kubernetes framework) and PyYAML's C loader as a parsing floor.
# Prints a markdown table (docs/performance.md holds its output). A tool that is not installed
# is skipped with a note. Install the others with: pip install yamllint checkov pyyaml
#
#   scripts/compare-tools.sh [SIZE_MB] [CORPUS_DIR]
#
# SIZE_MB (default 10) sizes the mixed corpus written by the gen-corpus example into
# CORPUS_DIR (default: a temporary directory, removed at the end). Timings are wall-clock and
# CPU seconds (user + system) and peak RSS from /usr/bin/time; one run each.
# ONLY=asoguard,pyyaml,yamllint,checkov (the default: all) runs some of the rows.
set -euo pipefail
cd "$(dirname "$0")/.."

size="${1:-10}"
corpus="${2:-}"
cleanup=""
if [[ -z "$corpus" ]]; then
  corpus="$(mktemp -d)"
  cleanup="$corpus"
fi
trap '[[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT

if [[ ! -x /usr/bin/time ]]; then
  echo "error: /usr/bin/time (GNU time) is needed: apt-get install time" >&2
  exit 2
fi

cargo build --release --quiet --bin asoguard --example gen-corpus -p asoguard -p asoguard-core
if [[ ! -d "$corpus/clusters" ]]; then
  ./target/release/examples/gen-corpus "$corpus" "$size" >&2
fi
mkdir -p "$corpus/.git"   # the corpus is its own repository root
bytes=$(find "$corpus" -name '*.y*ml' -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}')
files=$(find "$corpus" -name '*.y*ml' -type f | wc -l)

echo "Corpus: $mb MB, $files files (scripts/compare-tools.sh $size)."
echo
echo "| tool | what it does | wall s | CPU s | MB per CPU-s | peak RSS MB | note |"
echo "|---|---|---|---|---|---|---|"

# row NAME WHAT COMMAND...: time one run and print a table row.
row() {
  local name="$1" what="$2"
  shift 2
  local stats status
  stats="$(mktemp)"
  set +e
  /usr/bin/time -o "$stats" -f "%e %U %S %M" "$@" >/dev/null 2>&1
  status=$?
  set -e
  read -r wall user sys rss < <(tail -n 1 "$stats")
  rm -f "$stats"
  awk -v n="$name" -v w="$what" -v wall="$wall" -v u="$user" -v s="$sys" -v rss="$rss" \
      -v mb="$mb" -v st="$status" 'BEGIN {
        cpu = u + s; per = (cpu > 0) ? mb / cpu : 0;
        printf "| %s | %s | %.2f | %.2f | %.2f | %.0f | exit %s |\n", n, w, wall, cpu, per, rss / 1024, st }'
}

skip() {
  echo "| $1 | $2 | | | | | not installed: skipped |"
}

only="${ONLY:-asoguard,pyyaml,yamllint,checkov}"
wanted() { [[ ",$only," == *",$1,"* ]]; }

if wanted asoguard; then
  row "asoguard check" "ASO hazards, all rules" ./target/release/asoguard check "$corpus" --format concise
  row "asoguard check --strict-syntax" "the same, every file parsed" \
    ./target/release/asoguard check "$corpus" --format concise --strict-syntax
fi

if ! wanted pyyaml; then
  :
elif command -v python3 >/dev/null && python3 -c 'import yaml; yaml.CSafeLoader' 2>/dev/null; then
  row "PyYAML CSafeLoader" "parse every document (libyaml), nothing else" python3 -c '
import sys, os, yaml
n = 0
for root, _, names in os.walk(sys.argv[1]):
    for name in names:
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(root, name), "rb") as f:
                try:
                    for _ in yaml.load_all(f, Loader=yaml.CSafeLoader):
                        n += 1
                except yaml.YAMLError:
                    pass
print(n)' "$corpus"
else
  skip "PyYAML CSafeLoader" "parse every document (libyaml)"
fi

if ! wanted yamllint; then
  :
elif command -v yamllint >/dev/null; then
  row "yamllint" "YAML style and syntax (default rules)" yamllint -f parsable "$corpus"
else
  skip "yamllint" "YAML style and syntax"
fi

if ! wanted checkov; then
  :
elif command -v checkov >/dev/null; then
  row "checkov --framework kubernetes" "Kubernetes security policies" \
    checkov -d "$corpus" --framework kubernetes --quiet --compact --skip-download
else
  skip "checkov --framework kubernetes" "Kubernetes security policies"
fi
