// The optimised-graph cache (docs/native-core.md, "Engine start"). ONNX Runtime spends most of a
// session's creation optimising the graph (at the default level, NCHWc layouts for the image
// codec's convolutions: about two thirds of its instructions); the graph it ends with is saved
// here on a first start and loaded with optimisation off on the next ones.
//
// An entry is never trusted blindly. It is named and keyed by the SHA-256 of the source graph,
// which the caller has just checked against the file on disk and the manifest, and by a key of
// everything the optimised graph depends on: this cache's format, the ONNX Runtime version, the
// optimisation level and the processor's features (native cpuSignature: an NCHWc graph suits the
// vector width it was made for). It is read whole and accepted only when its magic, its header
// (format, source SHA-256, key, length) and the CRC-32C of its contents all match; ONNX Runtime
// must then load it and its inputs and outputs must match the manifest's, or the session is
// created from the source as without a cache and the entry is written again. Only CPU sessions use
// it (runtime/graph.cc). Layout: magic (8 bytes), header length (u32 LE), header JSON, the
// optimised ONNX graph, then the CRC-32C of everything before it (src/cache-check.ts).
import { createHash } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CHECK_BYTES, entryBody, sealEntry } from './cache-check.js';

// Format 2: entries end with a CRC-32C (src/cache-check.ts) instead of a SHA-256.
const MAGIC = Buffer.from('AICGRF02', 'latin1');
const FORMAT = 2;

export interface GraphCache {
  dir: string;
  /** Hex digest of what the optimised graphs depend on besides their source. */
  key: string;
}

interface EntryHeader {
  format: number;
  source: string;
  key: string;
  length: number;
}

/** The cache in `dir` for graphs optimised by ONNX Runtime `ortVersion` at `level` on a processor of `cpu`. */
export function graphCache(dir: string, ortVersion: string, level: string, cpu: string): GraphCache {
  const key = createHash('sha256').update(JSON.stringify({ format: FORMAT, ortVersion, level, cpu })).digest('hex').slice(0, 32);
  return { dir, key };
}

function entryFile(cache: GraphCache, source: string): string {
  return path.join(cache.dir, `graph-${source}-${cache.key}.aicg`);
}

/** The cached optimised graph of the source graph whose SHA-256 is `source`, or undefined when there is none or it does not check out. */
export async function readOptimizedGraph(cache: GraphCache, source: string, read: (file: string) => Promise<Buffer> = (f) => readFile(f)): Promise<Buffer | undefined> {
  let bytes: Buffer;
  try {
    bytes = await read(entryFile(cache, source));
  } catch {
    return undefined;
  }
  const start = MAGIC.length + 4;
  if (bytes.length < start + CHECK_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const body = entryBody(bytes);
  if (!body) return undefined;
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  if (start + headerLength > body.length) return undefined;
  let header: EntryHeader;
  try {
    header = JSON.parse(body.toString('utf8', start, start + headerLength)) as EntryHeader;
  } catch {
    return undefined;
  }
  if (!header || header.format !== FORMAT || header.source !== source || header.key !== cache.key) return undefined;
  if (header.length !== body.length - start - headerLength || header.length === 0) return undefined;
  return body.subarray(start + headerLength);
}

/** A fresh path for ONNX Runtime to write an optimised graph to (ONNX format: the name does not end in .ort). */
export function saveTarget(cache: GraphCache, source: string): string {
  return `${entryFile(cache, source)}.${process.pid}.${Math.random().toString(36).slice(2)}.onnx.tmp`;
}

/** Turns the graph ONNX Runtime wrote at `written` into the entry of `source` (written aside and renamed), and removes `written`. Failures leave no entry. */
export async function storeOptimizedGraph(cache: GraphCache, source: string, written: string): Promise<void> {
  const file = entryFile(cache, source);
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    const graph = await readFile(written);
    if (graph.length === 0) return;
    const header = Buffer.from(JSON.stringify({ format: FORMAT, source, key: cache.key, length: graph.length } satisfies EntryHeader), 'utf8');
    const lengthField = Buffer.alloc(4);
    lengthField.writeUInt32LE(header.length);
    const body = Buffer.concat([MAGIC, lengthField, header, graph]);
    await writeFile(temp, sealEntry(body), { mode: 0o600 });
    await rename(temp, file);
  } catch {
    await unlink(temp).catch(() => undefined);
  } finally {
    await unlink(written).catch(() => undefined);
  }
}

/** Removes what ONNX Runtime may have written at `written` for an entry that is not stored. */
export async function discardTarget(written: string): Promise<void> {
  await unlink(written).catch(() => undefined);
}
