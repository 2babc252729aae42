#!/usr/bin/env bash
# Makes libopus available to the native build without installing anything on the machine.
#
# When pkg-config finds an installed libopus (Debian: libopus-dev), the build uses it and this
# does nothing. Otherwise it downloads the machine's own distribution packages libopus-dev and
# libopus0 with `apt-get download` (a private package list, so the host's apt state is untouched)
# and unpacks them with `dpkg -x` into .deps/opus, where CMakeLists.txt looks next. The library
# is copied beside the addon either way, so the built folder is self-contained.
#
# AIC_OPUS_FROM_DEPS=1 skips the pkg-config check (to exercise this path where libopus is installed).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.deps/opus"

if [ "${AIC_OPUS_FROM_DEPS:-}" != "1" ] && command -v pkg-config >/dev/null && pkg-config --exists opus; then
  echo "fetch-opus: using the installed libopus $(pkg-config --modversion opus)"; exit 0
fi
# A shared libopus unpacked here before, or a static one built here (the release workflow:
# scripts/ci-native-deps.sh, also on macOS and Windows, which have no apt-get).
if [ -f "$dest/include/opus/opus.h" ]; then
  for lib in "$dest"/lib/libopus.so* "$dest"/lib/libopus.a "$dest"/lib/opus.lib; do
    if [ -e "$lib" ]; then echo "fetch-opus: cached in $dest"; exit 0; fi
  done
fi
command -v apt-get >/dev/null || { echo "fetch-opus: no libopus and no apt-get: install libopus (with its headers) and pkg-config" >&2; exit 1; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
opts=(-o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "Debug::NoLocking=1" -o "Acquire::Languages=none" -o "APT::Sandbox::User=root")
echo "fetch-opus: downloading libopus-dev and libopus0 from this machine's package sources"
apt-get "${opts[@]}" -qq update
(cd "$work" && apt-get "${opts[@]}" -qq download libopus-dev libopus0)
mkdir -p "$work/x"
for deb in "$work"/libopus*.deb; do dpkg -x "$deb" "$work/x"; done
header="$(find "$work/x" -path '*/opus/opus.h' | head -n1)"
lib="$(find "$work/x" -name 'libopus.so.0*' -type f | head -n1)"
[ -n "$header" ] && [ -n "$lib" ] || { echo "fetch-opus: headers or library not found in the packages" >&2; exit 1; }
rm -rf "$dest"; mkdir -p "$dest/include" "$dest/lib"
cp -r "$(dirname "$header")" "$dest/include/"
cp "$lib" "$dest/lib/"
ln -sf "$(basename "$lib")" "$dest/lib/libopus.so.0"
ln -sf libopus.so.0 "$dest/lib/libopus.so"
echo "fetch-opus: libopus in $dest"
