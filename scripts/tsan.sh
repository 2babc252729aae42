#!/usr/bin/env bash
# Builds the C++ core and its unit tests with ThreadSanitizer (no Node, no addon) and runs them:
# the many_threads_share_one_model case runs 8 threads against one shared model, half of them
# writing into caller buffers. ONNX Runtime itself is not instrumented; the engine in the tests
# runs with one intra-op thread so that no ORT pool thread hands memory across a sync TSAN
# cannot see. Exit status is non-zero on any race report.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/fetch-ort-headers.sh" >/dev/null
bash "$root/scripts/fetch-opus.sh" >/dev/null
build="$root/build-tsan"
cmake -S "$root" -B "$build" -DAIC_BUILD_ADDON=OFF -DAIC_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --parallel 2 >/dev/null
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}" "$build/out/aic_core_tests" "$root/test/fixtures" "$@"
