#!/usr/bin/env bash
# The addon under valgrind memcheck: bench/leak-frames.mjs drives every public path through the
# native addon (sessions opened and closed, neural / JPEG / Opus / lossless frames, decodes, error
# paths, detached outputs) over --frames frames (default 10000), and scripts/valgrind-report.mjs
# fails the run if any block definitely or indirectly lost, or any memory error, is in the
# project's code; ONNX Runtime's, Node's and libvips' own one-off allocations are reported, not
# counted (as sharp does for libvips). About 30 ms a frame under valgrind on the 2-core machine.
# Usage: npm run build && npm run test:leaks:addon [-- --frames N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
frames=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --frames) frames="$2"; shift 2 ;;
    *) echo "leaks-addon.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || { echo "leaks-addon.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
out="$root/build/leaks-addon"
mkdir -p "$out"
log="$out/valgrind-$frames.log"
# --jitless: V8 generates no machine code, which valgrind would otherwise have to re-translate.
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --num-callers=40 --log-file="$log" \
  node --jitless "$root/bench/leak-frames.mjs" --frames "$frames" | tee "$out/frames-$frames.json"
node "$root/scripts/valgrind-report.mjs" "$log" --json "$out/report-$frames.json"
