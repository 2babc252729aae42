#!/usr/bin/env bash
# What the native build needs on a GitHub-hosted runner, the same way on every release platform
# (.github/workflows/release.yml; docs/RELEASING.md). Runs under bash on Linux, macOS and
# Windows (Git Bash), before `npm ci`.
#
#  - ONNX Runtime C/C++ headers: the official ONNX Runtime release archive for the platform (the
#    version of the onnxruntime-node package in package-lock.json, whose libonnxruntime the addon
#    ships), checked against its SHA-256 and unpacked into .deps/; ONNXRUNTIME_DIR points at it.
#    (scripts/fetch-ort-headers.sh takes Debian's package with apt-get, which macOS and Windows
#    lack.) Only include/ is used: the library still comes from onnxruntime-node.
#  - libopus: built from its release tarball (SHA-256 checked) with CMake as a static library
#    into .deps/opus, where CMakeLists.txt and scripts/fetch-opus.sh look; AIC_OPUS_FROM_DEPS=1
#    keeps any libopus of the runner out of the build. Static, so the platform package needs no
#    libopus of the machine it is installed on.
#
# With GITHUB_ENV set (in Actions) the variables are written there for the later steps; else they
# are printed as `export` lines.
#
#   bash scripts/ci-native-deps.sh <platform>-<arch>     (linux-x64 linux-arm64 darwin-arm64 win32-x64)
set -euo pipefail
target="${1:?usage: ci-native-deps.sh <platform>-<arch>}"
root="$(cd "$(dirname "$0")/.." && pwd)"
deps="$root/.deps"
dl="$deps/downloads"

ort_version="1.30.0"
opus_version="1.5.2"
opus_sha256="65c1d2f78b9f2fb20082c38cbe47c951ad5839345876e46941612ee87f9a7ce1"

case "$target" in
  linux-x64)    ort_name="onnxruntime-linux-x64-$ort_version";     ort_ext=tgz; ort_sha256="a5ed5a3cac51fbb2e90da632ae43d19212faaa20e76484e62bcb7c23ddb3b3fd" ;;
  linux-arm64)  ort_name="onnxruntime-linux-aarch64-$ort_version"; ort_ext=tgz; ort_sha256="e16a27a8ed330bbc698df7330b0cf56e722f354e3bcc92118682c74ef3c3e3da" ;;
  darwin-arm64) ort_name="onnxruntime-osx-arm64-$ort_version";     ort_ext=tgz; ort_sha256="6ebb5062a934537c352937821f9fe9718e7de1a2db1122a93dd363ffd53a7012" ;;
  win32-x64)    ort_name="onnxruntime-win-x64-$ort_version";       ort_ext=zip; ort_sha256="c6ba983baf5681af108599675d2a89c2d145512d02de28aed0bff177cd0ba949" ;;
  *) echo "ci-native-deps: no release build for '$target'" >&2; exit 1 ;;
esac

# The headers must be those of the library the addon ships.
locked="$(cd "$root" && node -p "require('./package-lock.json').packages['node_modules/onnxruntime-node'].version")"
if [ "$locked" != "$ort_version" ]; then
  echo "ci-native-deps: package-lock.json has onnxruntime-node $locked, this script fetches ONNX Runtime $ort_version headers: update ort_version and the checksums" >&2
  exit 1
fi

# A path the native tools (CMake, MSVC) read: on Windows, C:/x/y rather than Git Bash's /c/x/y.
native_path() { if command -v cygpath >/dev/null; then cygpath -m "$1"; else printf '%s\n' "$1"; fi; }
sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi; }
# fetch URL FILE SHA256: downloads into $dl (kept if already there with the right digest).
fetch() {
  local file="$dl/$2"
  mkdir -p "$dl"
  if [ ! -f "$file" ] || [ "$(sha256 "$file")" != "$3" ]; then
    echo "ci-native-deps: downloading $1"
    curl -fsSL --retry 3 -o "$file" "$1"
  fi
  local got
  got="$(sha256 "$file")"
  if [ "$got" != "$3" ]; then
    echo "ci-native-deps: $2 has SHA-256 $got, expected $3" >&2
    exit 1
  fi
}

# --- ONNX Runtime headers -------------------------------------------------------------------
fetch "https://github.com/microsoft/onnxruntime/releases/download/v$ort_version/$ort_name.$ort_ext" "$ort_name.$ort_ext" "$ort_sha256"
rm -rf "${deps:?}/onnxruntime-release"
mkdir -p "$deps/onnxruntime-release"
# Relative paths: GNU tar under Git Bash reads "C:" as a remote host, and does not read zip (7-Zip,
# unzip or Windows' own bsdtar do).
(
  cd "$deps/onnxruntime-release"
  archive="../downloads/$ort_name.$ort_ext"
  if [ "$ort_ext" != zip ]; then tar -xzf "$archive"
  elif command -v 7z > /dev/null; then 7z x -y "$archive" > /dev/null
  elif command -v unzip > /dev/null; then unzip -q "$archive"
  else "$(cygpath -u "$SYSTEMROOT")/System32/tar.exe" -xf "$archive"
  fi
)
ort_dir="$deps/onnxruntime-release/$ort_name"
if [ ! -f "$ort_dir/include/onnxruntime_cxx_api.h" ] && [ ! -f "$ort_dir/include/onnxruntime/onnxruntime_cxx_api.h" ]; then
  echo "ci-native-deps: no onnxruntime_cxx_api.h under $ort_name/include" >&2; exit 1
fi
echo "ci-native-deps: ONNX Runtime $ort_version headers in $ort_dir/include"

# --- static libopus -------------------------------------------------------------------------
fetch "https://github.com/xiph/opus/releases/download/v$opus_version/opus-$opus_version.tar.gz" "opus-$opus_version.tar.gz" "$opus_sha256"
rm -rf "${deps:?}/opus-src" "${deps:?}/opus-build" "${deps:?}/opus"
mkdir -p "$deps/opus-src"
(cd "$deps/opus-src" && tar -xzf "../downloads/opus-$opus_version.tar.gz" --strip-components=1)
# Position-independent (it goes into a shared addon); on Windows with the static C runtime (/MT),
# as cmake-js builds the addon with it.
cmake -S "$(native_path "$deps/opus-src")" -B "$(native_path "$deps/opus-build")" \
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DOPUS_BUILD_PROGRAMS=OFF -DOPUS_BUILD_TESTING=OFF -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_MSVC_RUNTIME_LIBRARY=MultiThreaded
cmake --build "$(native_path "$deps/opus-build")" --config Release --parallel 4
cmake --install "$(native_path "$deps/opus-build")" --config Release --prefix "$(native_path "$deps/opus")"
[ -f "$deps/opus/include/opus/opus.h" ] || { echo "ci-native-deps: opus.h was not installed" >&2; exit 1; }
if [ ! -f "$deps/opus/lib/libopus.a" ] && [ ! -f "$deps/opus/lib/opus.lib" ]; then
  echo "ci-native-deps: no static libopus in $deps/opus/lib" >&2; exit 1
fi
echo "ci-native-deps: static libopus $opus_version in $deps/opus"

vars=("ONNXRUNTIME_DIR=$(native_path "$ort_dir")" "AIC_OPUS_FROM_DEPS=1")
if [ -n "${GITHUB_ENV:-}" ]; then
  printf '%s\n' "${vars[@]}" >> "$GITHUB_ENV"
else
  printf 'export %s\n' "${vars[@]}"
fi
