#!/usr/bin/env bash
# The performance targets of docs/performance.md, measured end to end on generated corpora: each command runs
# RUNS times (default 5) and the median CPU seconds (user + system), wall seconds and the
# largest peak RSS are printed as a markdown table (docs/performance.md holds its output).
#
#   scripts/perf-targets.sh [CORPUS_ROOT]
#
# CORPUS_ROOT (default /tmp/asoguard-perf) receives the deterministic corpora of the gen-corpus
# example: mixed50 (50 MB, about one document in five relevant) and aso20 (20 MB, every
# document an ASO resource); they are written once and reused. Speed is measured here, never
# asserted in tests.
set -euo pipefail
cd "$(dirname "$0")/.."

root="${1:-/tmp/asoguard-perf}"
runs="${RUNS:-5}"
if [[ ! -x /usr/bin/time ]]; then
  echo "error: /usr/bin/time (GNU time) is needed: apt-get install time" >&2
  exit 2
fi

cargo build --release --quiet --bin asoguard -p asoguard
cargo build --release --quiet -p asoguard-core --example gen-corpus --example parse-events
bin=./target/release/asoguard
mkdir -p "$root"
[[ -d "$root/mixed50" ]] || ./target/release/examples/gen-corpus "$root/mixed50" 50 >/dev/null
[[ -d "$root/aso20" ]] || ./target/release/examples/gen-corpus "$root/aso20" 20 --all-aso >/dev/null
[[ -f "$root/many.yaml" ]] || python3 -c 'print("\n---\n".join(f"apiVersion: resources.azure.com/v1api20200601\nkind: ResourceGroup\nmetadata:\n  name: rg{i}\nspec:\n  location: westeurope" for i in range(10000)))' >"$root/many.yaml"

# measure LABEL THREADS COMMAND...: one table row, the medians of $runs runs.
measure() {
  local label="$1" threads="$2"
  shift 2
  local samples=()
  for _ in $(seq "$runs"); do
    # asoguard exits 1 when it finds something: that is not a failure here.
    samples+=("$(RAYON_NUM_THREADS="$threads" /usr/bin/time -f "%e %U %S %M" "$@" 2>&1 >/dev/null | tail -1 || true)")
  done
  printf '%s\n' "${samples[@]}" | python3 -c '
import statistics, sys
label = sys.argv[1]
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
wall = statistics.median(r[0] for r in rows)
cpu = statistics.median(r[1] + r[2] for r in rows)
rss = max(r[3] for r in rows) / 1024
print(f"| {label} | {wall:.2f} | {cpu:.2f} | {rss:.0f} |")
' "$label"
}

mb() { find -L "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.1f", s / 1e6}'; }
echo "Corpora: mixed50 $(mb "$root/mixed50") MB, aso20 $(mb "$root/aso20") MB; $runs runs each, medians; RSS the largest."
echo
echo "| command | wall s | CPU s | peak RSS MB |"
echo "|---|---|---|---|"
measure "check mixed50, 2 threads" 2 "$bin" check "$root/mixed50" -q --format json -o /dev/null
measure "check mixed50, 1 thread" 1 "$bin" check "$root/mixed50" -q --format json -o /dev/null
measure "check aso20, 2 threads" 2 "$bin" check "$root/aso20" -q --format json -o /dev/null
measure "check aso20, 1 thread" 1 "$bin" check "$root/aso20" -q --format json -o /dev/null
measure "parse-events aso20 (parser floor, 1 thread)" 1 ./target/release/examples/parse-events "$root/aso20"
measure "text output, 10,000 findings in one file" 2 "$bin" check "$root/many.yaml"

# The all-ASO ratio to the parser floor, from CPU time with less noise than /usr/bin/time's
# 10 ms steps: `perf stat` task-clock and cycles (user and kernel), runs interleaved so that
# all sides see the same machine. Two floors: the parser with its default options (comments
# captured as events) and with comment capture off, as asoguard parses a text that does not
# name asoguard (every text of aso20). Skipped when perf is not installed.
if command -v perf >/dev/null 2>&1; then
  RUNS="$runs" python3 - "$bin" "$root/aso20" ./target/release/examples/parse-events <<'PY'
import os, statistics, subprocess, sys
bin, corpus, floor = sys.argv[1:4]
env = dict(os.environ, RAYON_NUM_THREADS="1")
def stat(cmd):
    out = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock,cycles"] + cmd,
                         env=env, capture_output=True, text=True).stderr
    rows = [l.split(",") for l in out.splitlines() if "," in l]
    return tuple(float(r[0]) for r in rows[:2])
runs = {"ours": [], "default": [], "no-comments": []}
for _ in range(int(os.environ["RUNS"])):
    runs["ours"].append(stat([bin, "check", corpus, "-q", "--format", "json", "-o", "/dev/null"]))
    runs["default"].append(stat([floor, corpus]))
    runs["no-comments"].append(stat([floor, corpus, "--no-comments"]))
med = lambda name, i: statistics.median(x[i] for x in runs[name])
print()
print(f"aso20 against the parser floor (perf stat, {len(runs['ours'])} interleaved runs, medians, 1 thread):")
for floor_name in ("default", "no-comments"):
    print(f"parser {floor_name}: task-clock {med('ours', 0):.0f} ms against {med(floor_name, 0):.0f} ms:"
          f" {100 * med(floor_name, 0) / med('ours', 0):.1f} %; cycles {med('ours', 1) / 1e9:.2f} G against"
          f" {med(floor_name, 1) / 1e9:.2f} G: {100 * med(floor_name, 1) / med('ours', 1):.1f} %")
PY
fi
