#!/usr/bin/env bash
# Fetches the ONNX Runtime C/C++ headers for the native build.
#
# The headers are not on npm, so we take them from Debian's `libonnxruntime-dev` (suite trixie,
# ORT 1.21 headers). We only *download and unpack* the .deb (no install, no change to the
# machine's package state): a private sources list and private list/cache folders keep apt's
# view of trixie separate from the host's own suites. The C API is backward compatible, so
# headers of API version 21 work against the newer libonnxruntime.so.1 shipped by onnxruntime-node.
#
# Skipped when ONNXRUNTIME_DIR points at an ONNX Runtime release folder (include/ inside), or when
# the cache (.deps/onnxruntime) already holds the headers.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.deps/onnxruntime"

if [ -n "${ONNXRUNTIME_DIR:-}" ]; then
  if [ -f "$ONNXRUNTIME_DIR/include/onnxruntime_cxx_api.h" ] || [ -f "$ONNXRUNTIME_DIR/include/onnxruntime/onnxruntime_cxx_api.h" ]; then
    echo "fetch-ort-headers: using ONNXRUNTIME_DIR=$ONNXRUNTIME_DIR"; exit 0
  fi
  echo "fetch-ort-headers: ONNXRUNTIME_DIR=$ONNXRUNTIME_DIR has no include/onnxruntime_cxx_api.h" >&2; exit 1
fi
if [ -f "$dest/include/onnxruntime_cxx_api.h" ]; then
  echo "fetch-ort-headers: cached in $dest"; exit 0
fi
command -v apt-get >/dev/null || { echo "fetch-ort-headers: apt-get not found; set ONNXRUNTIME_DIR to an ONNX Runtime release folder" >&2; exit 1; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/etc/preferences.d"
cat > "$work/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
SRC
opts=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o "Dir::Etc::SourceParts=$work/etc/none"
      -o "Dir::Etc::Preferences=$work/etc/none" -o "Dir::Etc::PreferencesParts=$work/etc/preferences.d"
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Architecture=$(dpkg --print-architecture)"
      -o "Debug::NoLocking=1" -o "Acquire::Languages=none" -o "APT::Sandbox::User=root")
echo "fetch-ort-headers: downloading libonnxruntime-dev from Debian trixie"
apt-get "${opts[@]}" -qq update
(cd "$work" && apt-get "${opts[@]}" -qq download libonnxruntime-dev)
mkdir -p "$work/x"
dpkg -x "$work"/libonnxruntime-dev_*.deb "$work/x"
inc="$(dirname "$(find "$work/x" -name onnxruntime_cxx_api.h | head -n1)")"
[ -f "$inc/onnxruntime_cxx_api.h" ] || { echo "fetch-ort-headers: headers not found in the package" >&2; exit 1; }
rm -rf "$dest"; mkdir -p "$dest/include"
cp -r "$inc"/. "$dest/include/"
echo "fetch-ort-headers: headers in $dest/include"
