// How the engine's cache entries (parsed manifests, optimised graphs: src/manifest.ts,
// src/graph-cache.ts) end: with the CRC-32C of everything before it. It catches what happens to
// files in a cache folder (a write cut short, a truncated copy, a flipped block) at SSE4.2 speed
// on the JS thread (megabytes in a fraction of a millisecond; SHA-256 took about 5 ms of
// createEngine()'s JS thread for the shipped models). An unkeyed SHA-256 protected no better
// against someone who writes to the folder: they could write its digest as well. That is why the
// folder must be this user's and not group/world-writable (manifestCacheDir()), and why every
// entry is still checked for its key, and a graph's outputs against its manifest, when it is used.
import { native } from './native/load.js';

/** Bytes of the check at the end of an entry. */
export const CHECK_BYTES = 4;

/** The entry: `body` followed by its CRC-32C (little-endian). */
export function sealEntry(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length + CHECK_BYTES);
  body.copy(out, 0);
  out.writeUInt32LE(native().crc32c(body), body.length);
  return out;
}

/** The body of an entry whose check holds (a view of `bytes`), else null. */
export function entryBody(bytes: Buffer): Buffer | null {
  if (bytes.length < CHECK_BYTES) return null;
  const body = bytes.subarray(0, bytes.length - CHECK_BYTES);
  return native().crc32c(body) === bytes.readUInt32LE(body.length) ? body : null;
}
