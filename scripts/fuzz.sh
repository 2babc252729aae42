#!/usr/bin/env bash
# Builds and runs the libFuzzer harnesses of the native core (native/fuzz/*_fuzz.cc: every file
# of that name is a harness, so a new payload kind is a one-file change) with clang's
# AddressSanitizer and UndefinedBehaviorSanitizer. See native/fuzz/README.md.
#
#   bash scripts/fuzz.sh [--runs N | --seconds S] [--quick] [--only NAME[,NAME]] [--build-only] [-- libFuzzer flags]
#
# Default (npm run fuzz): the long run, 10 million executions of parser and entropy and 1 million
# of every other harness. --runs / --seconds set one budget for all; --quick (npm run fuzz:quick,
# CI) is 20 s each. Harnesses run one at a time. Each first runs its regression inputs
# (native/fuzz/regressions/<name>/), then fuzzes from native/fuzz/corpus/<name>/ (new inputs go to
# build/fuzz/corpus/<name>/). A crash's input is copied to native/fuzz/regressions/<name>/ and the
# script exits non-zero after the remaining harnesses ran.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/fuzz"
runs="" seconds="" only="" buildOnly=0 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --quick) seconds="${seconds:-20}"; shift ;;
    --only) only="$2"; shift 2 ;;
    --build-only) buildOnly=1; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

CXX="${AIC_FUZZ_CXX:-clang++}"
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# --- inputs: ORT headers and library, libopus, the built TypeScript (for the configs) ----------
bash "$root/scripts/fetch-ort-headers.sh" >/dev/null
bash "$root/scripts/fetch-opus.sh" >/dev/null
ortInc="${ONNXRUNTIME_DIR:+$ONNXRUNTIME_DIR/include}"
ortInc="${ortInc:-$root/.deps/onnxruntime/include}"
[ -f "$ortInc/onnxruntime/onnxruntime_cxx_api.h" ] && ortInc="$ortInc/onnxruntime"
case "$(uname -m)" in aarch64|arm64) arch=arm64 ;; *) arch=x64 ;; esac
ortLib="${ONNXRUNTIME_LIB:-$root/node_modules/onnxruntime-node/bin/napi-v6/linux/$arch/libonnxruntime.so.1}"
if pkg-config --exists opus 2>/dev/null && [ "${AIC_OPUS_FROM_DEPS:-}" != 1 ]; then
  opusInc="$(pkg-config --cflags-only-I opus)"
  opusLib="$(pkg-config --libs opus)"
else
  opusInc="-I$root/.deps/opus/include/opus"
  opusLib="-L$root/.deps/opus/lib -Wl,-rpath,$root/.deps/opus/lib -lopus"
fi
[ -f "$root/dist/manifest.js" ] || (cd "$root" && npx tsc -p tsconfig.json)

mkdir -p "$build/obj" "$build/bin"
node "$root/native/fuzz/dump-config.mjs" "$build" >/dev/null

# --- build: the core once (instrumented, no fuzzer main), then one binary per harness ---------
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
cxxflags="-std=c++17 $san -DORT_API_MANUAL_INIT -I$root/native/core -I$ortInc $opusInc -DAIC_FUZZ_ROOT=\"$root/native/fuzz\" -DAIC_FUZZ_DATA=\"$build\""
newest() { local n=0 t; for f in "$@"; do t=$(stat -c %Y "$f"); [ "$t" -gt "$n" ] && n=$t; done; echo $n; }
# Every .cc / .h under native/core, in any folder (a new folder needs no change here). Objects
# mirror the source tree (build/fuzz/obj/entropy/rans.o), so equal names in two folders don't clash.
mapfile -t coreSrcs < <(cd "$root/native/core" && find . -name '*.cc' | sed 's|^\./||' | LC_ALL=C sort)
mapfile -t coreHdrs < <(find "$root/native/core" -name '*.h' | LC_ALL=C sort)
# Rebuilt when older than its source or any header it may include (core headers for the core;
# those and the fuzz headers for a harness), or than the flags (this script).
hdrTime=$(newest "${coreHdrs[@]}")
stale() { [ ! -f "$1" ] || [ "$(stat -c %Y "$1")" -lt "$(stat -c %Y "$2")" ] || [ "$(stat -c %Y "$1")" -lt "$hdrTime" ]; }
objs=() todo=()
for rel in "${coreSrcs[@]}"; do
  obj="$build/obj/${rel%.cc}.o"
  objs+=("$obj")
  stale "$obj" "$root/native/core/$rel" && todo+=("${rel%.cc}")
done
if [ ${#todo[@]} -gt 0 ]; then
  echo "fuzz.sh: compiling ${#todo[@]} core file(s)"
  printf '%s\n' "${todo[@]}" | xargs -P "${AIC_FUZZ_JOBS:-2}" -I{} sh -c \
    "mkdir -p \"\$(dirname $build/obj/{}.o)\" && $CXX $cxxflags -fsanitize=fuzzer-no-link -c $root/native/core/{}.cc -o $build/obj/{}.o"
fi
harnesses=()
for src in "$root"/native/fuzz/*_fuzz.cc; do
  name="$(basename "${src%_fuzz.cc}")"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  harnesses+=("$name")
  bin="$build/bin/${name}_fuzz"
  newestDep=$(newest "${objs[@]}" "$root"/native/fuzz/*.h)
  if stale "$bin" "$src" || [ "$(stat -c %Y "$bin")" -lt "$newestDep" ]; then
    echo "fuzz.sh: building ${name}_fuzz"
    $CXX $cxxflags -fsanitize=fuzzer "$src" "${objs[@]}" -o "$bin" "$ortLib" -Wl,-rpath,"$(dirname "$ortLib")" $opusLib -lpthread
  fi
done
[ "$buildOnly" = 1 ] && { echo "fuzz.sh: built ${harnesses[*]}"; exit 0; }

# --- run --------------------------------------------------------------------------------------
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/native/fuzz/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for name in "${harnesses[@]}"; do
  corpus="$build/corpus/$name" seeds="$root/native/fuzz/corpus/$name" artifacts="$build/artifacts/$name"
  mkdir -p "$corpus" "$seeds" "$artifacts"
  case "$name" in parser|entropy|lossless) target=10000000; maxLen=4096 ;; image_decode) target=1000000; maxLen=20000 ;; *) target=1000000; maxLen=4096 ;; esac
  budget=(-runs="${runs:-$target}")
  [ -n "$seconds" ] && budget=(-max_total_time="$seconds")
  log="$build/$name.log"
  echo "fuzz.sh: $name ${budget[*]} (log: $log)"
  set +e
  "$build/bin/${name}_fuzz" "${budget[@]}" -max_len="$maxLen" -timeout=20 -rss_limit_mb=3072 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${extra[@]}" "$corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  grep -E '^stat::number_of_executed_units|^Done|regression input' "$log" | sed "s/^/  $name: /" || true
  if [ $rc -ne 0 ]; then
    failed+=("$name")
    tail -40 "$log"
    mkdir -p "$root/native/fuzz/regressions/$name"
    for a in "$artifacts"/*; do [ -f "$a" ] && cp "$a" "$root/native/fuzz/regressions/$name/" && echo "fuzz.sh: saved $(basename "$a") to native/fuzz/regressions/$name/"; done
  fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz.sh: FAILED: ${failed[*]}" >&2; exit 1; fi
echo "fuzz.sh: all harnesses passed (${harnesses[*]})"
