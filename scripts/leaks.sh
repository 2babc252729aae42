#!/usr/bin/env bash
# Builds the C++ core and its unit tests with AddressSanitizer + LeakSanitizer (no Node, no addon)
# and runs them: any leak in the project's code fails the run. ONNX Runtime's own allocations that
# live until exit are suppressed (scripts/lsan.supp), as sharp suppresses libvips'.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/fetch-ort-headers.sh" >/dev/null
bash "$root/scripts/fetch-opus.sh" >/dev/null
build="$root/build-asan"
cmake -S "$root" -B "$build" -DAIC_BUILD_ADDON=OFF -DAIC_SANITIZE=address -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --parallel 2 >/dev/null
ASAN_OPTIONS="detect_leaks=1 halt_on_error=1 ${ASAN_OPTIONS:-}" LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp print_suppressions=0" \
  "$build/out/aic_core_tests" "$root/test/fixtures" "$@"
