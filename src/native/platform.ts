// Which prebuilt package serves this machine. The main package carries no binary: each platform's
// addon and the shared libraries it links (libonnxruntime, libopus) ship in a package of their
// own, @auralink/aic-<os>-<arch>, an optional dependency of the main package whose os/cpu/libc
// fields let npm install only the one that fits (the way sharp ships its binaries).

/** The platforms a prebuilt package exists for; everything else builds from source. */
export const PREBUILT_PLATFORMS = [
  { id: 'linux-x64', os: 'linux', cpu: 'x64', libc: 'glibc' },
  { id: 'linux-arm64', os: 'linux', cpu: 'arm64', libc: 'glibc' },
  { id: 'darwin-arm64', os: 'darwin', cpu: 'arm64' },
  { id: 'win32-x64', os: 'win32', cpu: 'x64' },
] as const;

export type PrebuiltPlatform = (typeof PREBUILT_PLATFORMS)[number];

export function platformPackageName(id: string): string {
  return `@auralink/aic-${id}`;
}

/** 'glibc' or 'musl' on Linux (from the process report, as detect-libc does), else undefined. */
export function linuxLibc(): 'glibc' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** This process's platform id (`<os>-<arch>`, with `-musl` on musl Linux) and its prebuilt entry, if any. */
export function currentPlatform(): { id: string; prebuilt: PrebuiltPlatform | undefined } {
  const libc = linuxLibc();
  const id = `${process.platform}-${process.arch}${libc === 'musl' ? '-musl' : ''}`;
  return { id, prebuilt: PREBUILT_PLATFORMS.find((p) => p.id === id) };
}
