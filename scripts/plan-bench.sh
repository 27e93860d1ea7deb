#!/usr/bin/env bash
# Builds the git repositories `asoguard plan` is measured on (docs/performance.md, "Plan"):
# a generated corpus committed as the base, then a change touching 1 % of its YAML files left in
# the working tree: half edited (an ASO location or an object's label), a quarter deleted, a
# quarter renamed. The same arguments always give the same change.
#
#   scripts/plan-bench.sh OUT_DIR SIZE_MB       (needs target/release/examples/gen-corpus)
set -euo pipefail
out=${1:?usage: plan-bench.sh OUT_DIR SIZE_MB}
size=${2:?usage: plan-bench.sh OUT_DIR SIZE_MB}
here=$(cd "$(dirname "$0")/.." && pwd)

rm -rf "$out"
"$here/target/release/examples/gen-corpus" "$out" "$size" >/dev/null
cd "$out"
git init -q
git -c user.name=bench -c user.email=bench@example.com -c commit.gpgsign=false \
  add -A
git -c user.name=bench -c user.email=bench@example.com -c commit.gpgsign=false \
  commit -qm base

python3 - <<'EOF'
import os, subprocess
files = sorted(subprocess.run(["git", "ls-files", "*.yaml", "*.yml"], capture_output=True,
                              text=True, check=True).stdout.split())
touched = files[::100]  # 1 %
for n, path in enumerate(touched):
    kind = n % 4
    if kind in (0, 1):
        text = open(path, encoding="utf-8").read()
        if "\n  location: " in text:
            start = text.index("\n  location: ") + len("\n  location: ")
            end = text.index("\n", start)
            text = text[:start] + "northeurope" + text[end:]
        else:
            text = text.replace("metadata:\n", "metadata:\n  labels:\n    touched: \"yes\"\n", 1)
        open(path, "w", encoding="utf-8").write(text)
    elif kind == 2:
        os.remove(path)
    else:
        base, ext = os.path.splitext(path)
        os.rename(path, base + "-renamed" + ext)
print(f"{len(files)} YAML files, {len(touched)} touched")
EOF
