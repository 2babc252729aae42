// The model contract (docs/model-contract.md): reading and checking a codec model's manifest,
// including the SHA-256 of each ONNX file, and turning it into the native codec configuration.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, type BigIntStats } from 'node:fs';
import { lstat, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHECK_BYTES, entryBody, sealEntry } from './cache-check.js';
import type { NativeAudioCodecConfig, NativeImageCodecConfig } from '../bindings.js';
import { AicError } from './errors.js';
import { readOptimizedGraph, type GraphCache } from './graph-cache.js';

export interface GraphEntry {
  file: string;
  sha256: string;
  input: string;
  output: string;
}

export interface LevelEntry {
  index: number;
  lambda?: number | null;
  gains: number[];
  inverseGains: number[];
  /** Dead-zone rounding offset of the encoder's quantiser, in [0, 0.5]; default 0.5 (plain rounding). */
  roundingOffset?: number;
}

export interface ImageManifest {
  format: 'aic-model';
  contractVersion: 1;
  name: string;
  version: string;
  modality: 'image';
  description?: string;
  encoder: GraphEntry;
  decoder: GraphEntry;
  input: { layout: 'NCHW'; channels: 'RGB'; valueRange: [0, 1] };
  paddingMultiple: number;
  latent: { channels: number; downsample: number };
  levels: LevelEntry[];
  entropy: {
    coder: 'rans-byte-32';
    precision: 16;
    contexts: number;
    context?: string;
    /** Per latent channel, 1 when it is coded as a median-prediction residual; default all 0. */
    predicted?: number[];
    /** Per coded channel, the table group whose tables it uses (audio bins share them by band); default one group per channel. */
    groups?: number[];
    tables: Array<[number, number[]]>;
  };
  training?: Record<string, unknown>;
}

export interface AudioGraphEntry extends GraphEntry {
  stateInput: string;
  stateOutput: string;
}

export interface AudioManifest {
  format: 'aic-model';
  contractVersion: 1;
  name: string;
  version: string;
  modality: 'audio';
  description?: string;
  encoder: AudioGraphEntry;
  decoder: AudioGraphEntry;
  audio: { sampleRate: 16000; frameSamples: 320; channels: 1; valueRange: [-1, 1]; delayFrames: number };
  latent: { channels: number };
  /**
   * Per-frame level (aic-audio-v2 on): each frame codes the index l = round(log2(rms) / stepLog2)
   * of its latent's RMS, clamped to [min, max], as one more symbol after the bins, and quantises
   * with the gains divided by (2^(l * stepLog2) / reference)^alpha.
   */
  frameScale?: AudioFrameScale;
  /**
   * aic-audio-v2 2.1.0 on: noise fill of zeroed bins and, for 32 and 48 kHz streams, a parametric
   * band above 8 kHz, coded after the bins (docs/bitstream.md, "Spectral fill"). Needs frameScale.
   */
  spectralFill?: boolean;
  levels: LevelEntry[];
  entropy: ImageManifest['entropy'];
  training?: Record<string, unknown>;
}

export interface AudioFrameScale {
  alpha: number;
  reference: number;
  stepLog2: number;
  min: number;
  max: number;
}

export interface LoadedManifest<M = ImageManifest> {
  manifest: M;
  dir: string;
  encoderBytes: Buffer;
  decoderBytes: Buffer;
  /** With options.graphCache: each graph's cached optimised graph, where one checked out (src/graph-cache.ts). */
  optimized?: { encoder?: Buffer; decoder?: Buffer };
  /** With options.skipUnchangedGraphs: each graph's checked bytes, or its path where it was not read. */
  graphs?: { encoder: Buffer | string; decoder: Buffer | string };
}

function fail(file: string, problem: string): never {
  throw new AicError('MANIFEST_INVALID', `model manifest ${file}: ${problem}`);
}

function isInt(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

function checkGraph(file: string, entry: unknown, which: string): GraphEntry {
  const e = entry as Partial<GraphEntry> | undefined;
  if (!e || typeof e !== 'object') fail(file, `"${which}" must be an object { file, sha256, input, output }`);
  if (typeof e.file !== 'string' || e.file.length === 0 || path.isAbsolute(e.file) || e.file.includes('..')) {
    fail(file, `"${which}.file" must be a file name relative to the manifest`);
  }
  if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) fail(file, `"${which}.sha256" must be 64 lowercase hex digits`);
  if (typeof e.input !== 'string' || typeof e.output !== 'string') fail(file, `"${which}.input" and "${which}.output" must name the graph's tensors`);
  return e as GraphEntry;
}

// The parts every codec manifest shares: identity, graphs, levels and the entropy model.
function validateCommon(raw: unknown, file: string, modality: 'image' | 'audio'): void {
  const m = raw as Partial<ImageManifest> & { modality?: string };
  if (!m || typeof m !== 'object') fail(file, 'must be a JSON object');
  if (m.format !== 'aic-model') fail(file, '"format" must be "aic-model"');
  if (m.contractVersion !== 1) fail(file, `"contractVersion" ${String(m.contractVersion)} is not supported (this build reads 1)`);
  if (typeof m.name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(m.name)) fail(file, '"name" must be 1-64 characters of letters, digits, . _ -');
  if (typeof m.version !== 'string' || m.version.length === 0) fail(file, '"version" must be a non-empty string');
  if (m.modality !== modality) fail(file, `"modality" is "${String(m.modality)}"; an ${modality} codec needs "${modality}"`);
  checkGraph(file, m.encoder, 'encoder');
  checkGraph(file, m.decoder, 'decoder');
  if (!m.latent || !isInt(m.latent.channels, 1, 4096)) fail(file, '"latent.channels" must be a positive integer');
  checkLevelsAndEntropy(m as ImageManifest, file);
}

/** Checks an audio manifest's structure; returns it typed. */
export function validateAudioManifest(raw: unknown, file: string): AudioManifest {
  validateCommon(raw, file, 'audio');
  const m = raw as AudioManifest;
  for (const which of ['encoder', 'decoder'] as const) {
    if (typeof m[which].stateInput !== 'string' || typeof m[which].stateOutput !== 'string') fail(file, `"${which}.stateInput" and "${which}.stateOutput" must name the state tensors`);
  }
  const a = m.audio;
  if (!a || a.sampleRate !== 16000 || a.frameSamples !== 320 || a.channels !== 1) fail(file, '"audio" must be { sampleRate: 16000, frameSamples: 320, channels: 1, ... } in this build');
  const f = m.frameScale;
  if (f !== undefined) {
    const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
    if (!f || !positive(f.alpha) || f.alpha > 1 || !positive(f.reference) || !positive(f.stepLog2) || !isInt(f.min, -1024, 1024) || !isInt(f.max, f.min, 1024)) {
      fail(file, '"frameScale" must be { alpha in (0, 1], reference > 0, stepLog2 > 0, min <= max (integers) }');
    }
  }
  if (m.spectralFill !== undefined && typeof m.spectralFill !== 'boolean') fail(file, '"spectralFill" must be true or false');
  if (m.spectralFill && (f === undefined || m.latent?.channels !== 320)) fail(file, '"spectralFill" needs a "frameScale" and 320 latent channels');
  return m;
}

/** Checks the manifest's structure; returns it typed. */
export function validateImageManifest(raw: unknown, file: string): ImageManifest {
  validateCommon(raw, file, 'image');
  const m = raw as Partial<ImageManifest>;
  if (!m.input || m.input.layout !== 'NCHW' || m.input.channels !== 'RGB' || !Array.isArray(m.input.valueRange) || m.input.valueRange[0] !== 0 || m.input.valueRange[1] !== 1) {
    fail(file, '"input" must be { layout: "NCHW", channels: "RGB", valueRange: [0, 1] }');
  }
  if (!m.latent || !isInt(m.latent.downsample, 1, 256)) fail(file, '"latent" must be { channels, downsample } (positive integers)');
  if (!isInt(m.paddingMultiple, 1, 1024) || m.paddingMultiple % m.latent.downsample !== 0) fail(file, '"paddingMultiple" must be a positive multiple of latent.downsample');
  return m as ImageManifest;
}

// Channels the entropy model codes per position: the latent's, plus an audio frame's level index.
function codedChannels(m: { latent: { channels: number }; frameScale?: unknown }): number {
  return m.latent.channels + (m.frameScale ? 1 : 0);
}

function checkLevelsAndEntropy(m: ImageManifest, file: string): void {
  if (!Array.isArray(m.levels) || m.levels.length < 1 || m.levels.length > 255) fail(file, '"levels" must list 1 to 255 quality levels');
  m.levels.forEach((l, i) => {
    if (!l || l.index !== i) fail(file, `levels[${i}].index must be ${i}`);
    if (l.roundingOffset !== undefined && !(typeof l.roundingOffset === 'number' && l.roundingOffset >= 0 && l.roundingOffset <= 0.5)) {
      fail(file, `levels[${i}].roundingOffset must be a number within [0, 0.5]`);
    }
    for (const key of ['gains', 'inverseGains'] as const) {
      const g = l[key];
      if (!Array.isArray(g) || g.length !== m.latent!.channels || !g.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
        fail(file, `levels[${i}].${key} must hold ${m.latent!.channels} positive numbers`);
      }
    }
  });
  const e = m.entropy;
  if (!e || e.coder !== 'rans-byte-32' || e.precision !== 16 || !isInt(e.contexts, 1, 64) || !Array.isArray(e.tables)) {
    fail(file, '"entropy" must be { coder: "rans-byte-32", precision: 16, contexts, tables }');
  }
  if (e.predicted !== undefined && (!Array.isArray(e.predicted) || e.predicted.length !== m.latent.channels || !e.predicted.every((v) => v === 0 || v === 1))) {
    fail(file, `"entropy.predicted" must hold ${m.latent.channels} entries of 0 or 1`);
  }
  let groupCount = codedChannels(m);
  if (e.groups !== undefined) {
    if (!Array.isArray(e.groups) || e.groups.length !== codedChannels(m) || !e.groups.every((g) => isInt(g, 0, 65535))) {
      fail(file, `"entropy.groups" must hold ${codedChannels(m)} table-group indices`);
    }
    groupCount = Math.max(...e.groups) + 1;
  }
  const expected = m.levels.length * groupCount * e.contexts;
  if (e.tables.length !== expected) fail(file, `"entropy.tables" must hold levels x table groups x contexts = ${expected} tables, has ${e.tables.length}`);
}

export interface ManifestLoadOptions {
  /**
   * Folder of the parsed-manifest cache (see manifestCacheDir()), or false for none (default).
   * An entry is keyed by the SHA-256 of the manifest's bytes and this package's version and
   * ends with its own CRC-32C (src/cache-check.ts); anything off (missing, truncated, altered,
   * another version) falls back silently to parsing the manifest. The graphs' SHA-256 are checked on every load either way.
   */
  cacheDir?: string | false;
  /**
   * The optimised-graph cache (src/graph-cache.ts): each graph's entry is read beside the graph
   * and returned as `optimized` when it checks out. The graph itself is read and checked as ever.
   */
  graphCache?: GraphCache;
  /**
   * Reads a whole file (default: fs.promises.readFile). createEngine() reads natively, off the JS
   * thread, into memory the model load then shares instead of copying (native/binding/files.h).
   */
  readFile?: (file: string) => Promise<Buffer>;
  /**
   * With cacheDir and graphCache (createEngine()): a graph whose cached optimised graph checked out
   * and whose file is unchanged since it was last checked against this SHA-256 (its fingerprint:
   * device, inode, size, modification and change times, as for manifests) is not read: its
   * `graphs` entry is then its path and its `encoderBytes`/`decoderBytes` are empty. Every other
   * graph is read and checked as ever.
   */
  skipUnchangedGraphs?: boolean;
}

/** Reads an image model's manifest and both ONNX files, checking every SHA-256. */
export function loadImageManifest(manifestPath: string, options: ManifestLoadOptions = {}): Promise<LoadedManifest<ImageManifest>> {
  return loadManifest(manifestPath, validateImageManifest, options);
}

/** Reads an audio model's manifest and both ONNX files, checking every SHA-256. */
export function loadAudioManifest(manifestPath: string, options: ManifestLoadOptions = {}): Promise<LoadedManifest<AudioManifest>> {
  return loadManifest(manifestPath, validateAudioManifest, options);
}

/**
 * The default cache folder: aic-cache-<uid> under the OS temporary folder, created private (0700);
 * null when it cannot be made, or exists but is not a folder of this user's that only it can write.
 */
export async function manifestCacheDir(): Promise<string | null> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  const dir = path.join(os.tmpdir(), `aic-cache-${uid >= 0 ? uid : 'user'}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await lstat(dir);
    if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || (process.platform !== 'win32' && (st.mode & 0o022) !== 0)) return null;
    return dir;
  } catch {
    return null;
  }
}

// The parsed-manifest cache. Parsing a shipped manifest (1-2.5 MB of JSON, mostly the entropy
// tables) and packing its tables takes about 30 ms of the JS thread, the largest part of
// createEngine(); an entry holds the checked manifest without its tables plus the packed typed
// arrays, and reads in a few milliseconds. Layout: magic (8 bytes), header length (u32 LE),
// header JSON, padding to 8, the arrays, then the CRC-32C of everything before it (src/cache-check.ts).
// Format 2: entries end with a CRC-32C (src/cache-check.ts) instead of a SHA-256.
const CACHE_MAGIC = Buffer.from('AICMAN02', 'latin1');
const CACHE_FORMAT = 2;
const PACKED_KEYS = ['gains', 'inverseGains', 'tableOffsets', 'tableLengths', 'cdfs', 'predictedChannels'] as const;
const PACKED_TYPES = { gains: Float32Array, inverseGains: Float32Array, tableOffsets: Int32Array, tableLengths: Uint32Array, cdfs: Uint32Array, predictedChannels: Uint8Array } as const;

// Packed tables of manifests that came from the cache (or were packed when the entry was written).
const packedOf = new WeakMap<object, PackedEntropy>();

let packageVersion: string | undefined;
function aicVersion(): Promise<string> {
  // Read once per process (a small file, read synchronously: an asynchronous read queues behind
  // the large reads of an engine start).
  if (packageVersion === undefined) {
    try {
      packageVersion = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      packageVersion = 'unknown';
    }
  }
  return Promise.resolve(packageVersion);
}

function cacheFile(dir: string, key: string, version: string): string {
  return path.join(dir, `manifest-${key}-${version.replace(/[^A-Za-z0-9._-]/g, '_')}.aicm`);
}

interface CacheHeader {
  format: number;
  key: string;
  version: string;
  manifest: Record<string, unknown>;
  arrays: Array<{ name: string; offset: number; length: number }>;
}

function readCacheEntry<M>(bytes: Buffer, key: string, version: string): M | null {
  if (bytes.length < CACHE_MAGIC.length + 4 + CHECK_BYTES || !bytes.subarray(0, CACHE_MAGIC.length).equals(CACHE_MAGIC)) return null;
  const body = entryBody(bytes);
  if (!body) return null;
  const headerLength = bytes.readUInt32LE(CACHE_MAGIC.length);
  const headerStart = CACHE_MAGIC.length + 4;
  if (headerStart + headerLength > body.length) return null;
  const header = JSON.parse(body.toString('utf8', headerStart, headerStart + headerLength)) as CacheHeader;
  if (header.format !== CACHE_FORMAT || header.key !== key || header.version !== version || !Array.isArray(header.arrays)) return null;
  const packed: Partial<Record<(typeof PACKED_KEYS)[number], ArrayBufferView>> = {};
  for (const name of PACKED_KEYS) {
    const a = header.arrays.find((x) => x.name === name);
    const Type = PACKED_TYPES[name];
    if (!a || !Number.isInteger(a.offset) || !Number.isInteger(a.length) || a.offset < 0 || a.length < 0 || a.offset % 8 !== 0) return null;
    const byteLength = a.length * Type.BYTES_PER_ELEMENT;
    if (a.offset + byteLength > body.length) return null;
    // A view of the entry's memory where it is aligned (the entry is laid out for that), which
    // keeps the entry's Buffer alive as long as the arrays; else a copy.
    const at = body.byteOffset + a.offset;
    if (at % Type.BYTES_PER_ELEMENT === 0) {
      packed[name] = new Type(body.buffer as ArrayBuffer, at, a.length);
    } else {
      const view = new Type(a.length);
      new Uint8Array(view.buffer).set(body.subarray(a.offset, a.offset + byteLength));
      packed[name] = view;
    }
  }
  const p = packed as unknown as PackedEntropy;
  if (p.tableOffsets.length !== p.tableLengths.length) return null;
  const manifest = header.manifest as unknown as { entropy: Record<string, unknown> };
  if (!manifest || typeof manifest.entropy !== 'object' || manifest.entropy === null) return null;
  // The tables come back on first use only (sessions never read them: the codec has them natively).
  const entropy = manifest.entropy;
  Object.defineProperty(entropy, 'tables', {
    enumerable: true,
    configurable: true,
    get() {
      const tables: Array<[number, number[]]> = [];
      let at = 0;
      for (let i = 0; i < p.tableOffsets.length; i++) {
        tables.push([p.tableOffsets[i]!, Array.from(p.cdfs.subarray(at, at + p.tableLengths[i]!))]);
        at += p.tableLengths[i]!;
      }
      Object.defineProperty(entropy, 'tables', { value: tables, enumerable: true, configurable: true, writable: true });
      return tables;
    },
  });
  packedOf.set(manifest, p);
  return manifest as unknown as M;
}

async function writeCacheEntry(file: string, key: string, version: string, manifest: { entropy: object }, packed: PackedEntropy): Promise<boolean> {
  const arrays: CacheHeader['arrays'] = [];
  const stripped = { ...manifest, entropy: { ...manifest.entropy, tables: undefined } };
  // Offsets are fixed once the header's length is; two passes settle it.
  let headerText = '';
  let dataStart = 0;
  for (let pass = 0; pass < 3; pass++) {
    arrays.length = 0;
    const headerEnd = CACHE_MAGIC.length + 4 + Buffer.byteLength(headerText);
    let at = Math.ceil(headerEnd / 8) * 8;
    dataStart = at;
    for (const name of PACKED_KEYS) {
      arrays.push({ name, offset: at, length: packed[name].length });
      at = Math.ceil((at + packed[name].byteLength) / 8) * 8;
    }
    const next = JSON.stringify({ format: CACHE_FORMAT, key, version, manifest: stripped, arrays } satisfies CacheHeader);
    if (next === headerText) break;
    headerText = next;
  }
  const header = Buffer.from(headerText, 'utf8');
  const last = arrays[arrays.length - 1]!;
  const bodyLength = Math.ceil((last.offset + packed[PACKED_KEYS[PACKED_KEYS.length - 1]!].byteLength) / 8) * 8;
  const body = Buffer.alloc(bodyLength);
  CACHE_MAGIC.copy(body, 0);
  body.writeUInt32LE(header.length, CACHE_MAGIC.length);
  header.copy(body, CACHE_MAGIC.length + 4);
  if (CACHE_MAGIC.length + 4 + header.length > dataStart) throw new Error('cache header layout');
  for (const a of arrays) {
    const v = packed[a.name as (typeof PACKED_KEYS)[number]];
    Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(body, a.offset);
  }
  // Written aside and renamed: a reader sees a whole entry or none.
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temp, sealEntry(body), { mode: 0o600 });
    await rename(temp, file);
    return true;
  } catch {
    await unlink(temp).catch(() => undefined);
    return false;
  }
}

// Manifest fingerprints: what a manifest's file looked like when its bytes were last hashed
// (device, inode, size, modification and change times, in nanoseconds), with that SHA-256. A
// manifest whose file still looks exactly so is not read again: its SHA-256 is the recorded one.
// The change time cannot be set by a user (any write or metadata change moves it to the current
// time), and a fingerprint is recorded only from a stat taken before the bytes were read and only
// when that change time was already FINGERPRINT_SETTLED_NS in the past, so that a later write
// cannot leave the same change time behind (coarse file-system clocks). A file system without
// change times gets no fingerprints.
type FileStat = BigIntStats;
const FINGERPRINT_FORMAT = 1;
const FINGERPRINT_SETTLED_NS = 2_000_000_000n;

interface Fingerprint {
  format: number;
  path: string;
  dev: string;
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  key: string;
}

function fingerprintFile(dir: string, manifestPath: string, kind: 'manifest' | 'graph' = 'manifest'): string {
  const id = createHash('sha256').update(path.resolve(manifestPath)).digest('hex').slice(0, 32);
  return path.join(dir, `${kind}-at-${id}.aicf`);
}

function fingerprintOf(st: FileStat, manifestPath: string, key: string): Fingerprint {
  return {
    format: FINGERPRINT_FORMAT,
    path: path.resolve(manifestPath),
    dev: String(st.dev),
    ino: String(st.ino),
    size: String(st.size),
    mtimeNs: String(st.mtimeNs),
    ctimeNs: String(st.ctimeNs),
    key,
  };
}

// A fingerprint and a file's stat are a few hundred bytes of metadata, read synchronously: an
// asynchronous read or stat would queue behind the large reads of an engine start in libuv's pool.
async function readFingerprint(dir: string, manifestPath: string, kind: 'manifest' | 'graph'): Promise<Fingerprint | null> {
  try {
    const f = JSON.parse(readFileSync(fingerprintFile(dir, manifestPath, kind), 'utf8')) as Fingerprint;
    if (!f || f.format !== FINGERPRINT_FORMAT || f.path !== path.resolve(manifestPath) || typeof f.key !== 'string' || !/^[0-9a-f]{64}$/.test(f.key)) return null;
    return f;
  } catch {
    return null;
  }
}

async function statNow(file: string): Promise<FileStat | null> {
  try {
    return statSync(file, { bigint: true });
  } catch {
    return null;
  }
}

function sameFile(st: FileStat, f: Fingerprint): boolean {
  return st.isFile() && st.ctimeNs > 0n && String(st.dev) === f.dev && String(st.ino) === f.ino && String(st.size) === f.size && String(st.mtimeNs) === f.mtimeNs && String(st.ctimeNs) === f.ctimeNs;
}

async function writeFingerprint(dir: string, manifestPath: string, st: FileStat, key: string, kind: 'manifest' | 'graph' = 'manifest'): Promise<void> {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  if (!st.isFile() || st.ctimeNs <= 0n || st.ctimeNs > nowNs - FINGERPRINT_SETTLED_NS || st.mtimeNs > nowNs - FINGERPRINT_SETTLED_NS) return;
  const file = fingerprintFile(dir, manifestPath, kind);
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(fingerprintOf(st, manifestPath, key)), { mode: 0o600 });
    await rename(temp, file);
  } catch {
    await unlink(temp).catch(() => undefined);
  }
}

async function loadManifest<M extends { encoder: GraphEntry; decoder: GraphEntry }>(
  manifestPath: string,
  validate: (raw: unknown, file: string) => M,
  options: ManifestLoadOptions = {},
): Promise<LoadedManifest<M>> {
  const read = options.readFile ?? ((file: string) => readFile(file));
  const cacheDir = options.cacheDir || null;
  let manifest: M | null = null;
  let entry: { file: string; key: string; version: string } | null = null;
  // With a cache: the manifest's file as it is now (taken before its bytes are read), and the
  // fingerprint recorded when its bytes were last hashed.
  let now: FileStat | null = null;
  if (cacheDir) {
    const [st, recorded, version] = await Promise.all([
      statNow(manifestPath),
      readFingerprint(cacheDir, manifestPath, 'manifest'),
      aicVersion(),
    ]);
    now = st;
    if (now && recorded && sameFile(now, recorded)) {
      // Unchanged since it was hashed (same file, size, modification and change times): its
      // SHA-256 is the one recorded, and its bytes need not be read.
      try {
        entry = { file: cacheFile(cacheDir, recorded.key, version), key: recorded.key, version };
        manifest = readCacheEntry<M>(await read(entry.file), recorded.key, version);
      } catch {
        manifest = null;
      }
      if (manifest) return withGraphs(manifestPath, manifest, options, read);
      entry = null;
    }
  }
  let bytes: Buffer;
  try {
    bytes = await read(manifestPath);
  } catch (error) {
    throw new AicError('MODEL_NOT_FOUND', `model manifest ${manifestPath} cannot be read: ${(error as Error).message}`);
  }
  if (cacheDir) {
    try {
      const key = createHash('sha256').update(bytes).digest('hex');
      const version = await aicVersion();
      entry = { file: cacheFile(cacheDir, key, version), key, version };
      manifest = readCacheEntry<M>(await read(entry.file), key, version);
      if (manifest && now) await writeFingerprint(cacheDir, manifestPath, now, key);
    } catch {
      manifest = null;
    }
  }
  if (!manifest) {
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new AicError('MANIFEST_INVALID', `model manifest ${manifestPath} is not valid JSON: ${(error as Error).message}`);
    }
    manifest = validate(raw, manifestPath);
    if (entry) {
      let packed: PackedEntropy | null = null;
      try {
        packed = packEntropy(manifest as unknown as ImageManifest, (manifest as unknown as ImageManifest).latent.channels);
      } catch {
        packed = null; // nativeImageConfig()/nativeAudioConfig() reports it, as without a cache
      }
      if (packed) {
        packedOf.set(manifest, packed);
        const written = await writeCacheEntry(entry.file, entry.key, entry.version, manifest as unknown as ImageManifest, packed);
        if (written && now) await writeFingerprint(cacheDir!, manifestPath, now, entry.key);
      }
    }
  }
  return withGraphs(manifestPath, manifest, options, read);
}

// The graphs named by a checked manifest, read and checked against its SHA-256 (and with
// options.graphCache, their cached optimised graphs).
async function withGraphs<M extends { encoder: GraphEntry; decoder: GraphEntry }>(
  manifestPath: string,
  manifest: M,
  options: ManifestLoadOptions,
  read: (file: string) => Promise<Buffer>,
): Promise<LoadedManifest<M>> {
  const dir = path.dirname(manifestPath);
  const readGraph = async (entry: GraphEntry, which: string): Promise<Buffer> => {
    const file = path.join(dir, entry.file);
    let bytes: Buffer;
    try {
      bytes = await read(file);
    } catch {
      throw new AicError('MODEL_NOT_FOUND', `the ${which} graph ${file} named by ${manifestPath} cannot be read`);
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== entry.sha256) {
      throw new AicError('MANIFEST_INVALID', `the ${which} graph ${file} has SHA-256 ${digest}, the manifest says ${entry.sha256}: the file was changed or replaced`);
    }
    return bytes;
  };
  const graphCache = options.graphCache;
  if (!graphCache) {
    const [encoderBytes, decoderBytes] = await Promise.all([readGraph(manifest.encoder, 'encoder'), readGraph(manifest.decoder, 'decoder')]);
    return { manifest, dir, encoderBytes, decoderBytes };
  }
  const cacheDir = options.cacheDir || null;
  if (!options.skipUnchangedGraphs || !cacheDir) {
    // The cached optimised graphs are read beside the graphs; they count only once the graphs
    // have been checked against the SHA-256 that keys them.
    const [encoderBytes, decoderBytes, encoder, decoder] = await Promise.all([
      readGraph(manifest.encoder, 'encoder'),
      readGraph(manifest.decoder, 'decoder'),
      readOptimizedGraph(graphCache, manifest.encoder.sha256, read),
      readOptimizedGraph(graphCache, manifest.decoder.sha256, read),
    ]);
    return { manifest, dir, encoderBytes, decoderBytes, optimized: { encoder, decoder } };
  }
  // A graph with a usable optimised graph whose file is unchanged since it was checked is not read;
  // any other is read and checked, and its fingerprint recorded (from a stat taken before the read).
  const one = async (entry: GraphEntry, which: string): Promise<{ source: Buffer | string; optimized?: Buffer }> => {
    const file = path.join(dir, entry.file);
    const [st, recorded, optimized] = await Promise.all([
      statNow(file),
      readFingerprint(cacheDir, file, 'graph'),
      readOptimizedGraph(graphCache, entry.sha256, read),
    ]);
    if (optimized && st && recorded && recorded.key === entry.sha256 && sameFile(st, recorded)) return { source: file, optimized };
    const bytes = await readGraph(entry, which);
    if (st && !(recorded && recorded.key === entry.sha256 && sameFile(st, recorded))) await writeFingerprint(cacheDir, file, st, entry.sha256, 'graph');
    return { source: bytes, optimized };
  };
  const [encoder, decoder] = await Promise.all([one(manifest.encoder, 'encoder'), one(manifest.decoder, 'decoder')]);
  const bytesOf = (s: Buffer | string) => (typeof s === 'string' ? Buffer.alloc(0) : s);
  return {
    manifest,
    dir,
    encoderBytes: bytesOf(encoder.source),
    decoderBytes: bytesOf(decoder.source),
    optimized: { encoder: encoder.optimized, decoder: decoder.optimized },
    graphs: { encoder: encoder.source, decoder: decoder.source },
  };
}

interface PackedEntropy {
  gains: Float32Array;
  inverseGains: Float32Array;
  tableOffsets: Int32Array;
  tableLengths: Uint32Array;
  cdfs: Uint32Array;
  predictedChannels: Uint8Array;
}

function packEntropy(m: Pick<ImageManifest, 'levels' | 'entropy'>, channels: number): PackedEntropy {
  const cached = packedOf.get(m);
  if (cached) return cached;
  const gains = new Float32Array(m.levels.length * channels);
  const inverseGains = new Float32Array(m.levels.length * channels);
  m.levels.forEach((l, i) => {
    gains.set(l.gains, i * channels);
    inverseGains.set(l.inverseGains, i * channels);
  });
  const tables = m.entropy.tables;
  const tableOffsets = new Int32Array(tables.length);
  const tableLengths = new Uint32Array(tables.length);
  let total = 0;
  tables.forEach((t, i) => {
    if (!Array.isArray(t) || t.length !== 2 || !Number.isInteger(t[0]) || !Array.isArray(t[1])) {
      throw new AicError('MANIFEST_INVALID', `entropy.tables[${i}] must be [offset, cdf[]]`);
    }
    tableOffsets[i] = t[0];
    tableLengths[i] = t[1].length;
    total += t[1].length;
  });
  const cdfs = new Uint32Array(total);
  let at = 0;
  for (const [, cdf] of tables) {
    cdfs.set(cdf, at);
    at += cdf.length;
  }
  const predictedChannels = Uint8Array.from(m.entropy.predicted ?? new Array<number>(channels).fill(0));
  return { gains, inverseGains, tableOffsets, tableLengths, cdfs, predictedChannels };
}

/** Packs an image manifest's gains and tables into the typed arrays the native codec takes. */
export function nativeImageConfig(m: ImageManifest): NativeImageCodecConfig {
  return {
    name: m.name,
    version: m.version,
    latentChannels: m.latent.channels,
    downsample: m.latent.downsample,
    paddingMultiple: m.paddingMultiple,
    levels: m.levels.length,
    contexts: m.entropy.contexts,
    roundingOffsets: Float32Array.from(m.levels, (l) => l.roundingOffset ?? 0.5),
    encoderInput: m.encoder.input,
    encoderOutput: m.encoder.output,
    decoderInput: m.decoder.input,
    decoderOutput: m.decoder.output,
    ...packEntropy(m, m.latent.channels),
  };
}

/** Packs an audio manifest into the native audio codec's configuration. */
export function nativeAudioConfig(m: AudioManifest): NativeAudioCodecConfig {
  const { predictedChannels: _unused, ...entropy } = packEntropy(m, m.latent.channels);
  return {
    ...(m.entropy.groups ? { tableGroups: Uint16Array.from(m.entropy.groups) } : {}),
    ...(m.frameScale ? { frameScale: { ...m.frameScale } } : {}),
    ...(m.spectralFill ? { spectralFill: true } : {}),
    name: m.name,
    version: m.version,
    sampleRate: m.audio.sampleRate,
    frameSamples: m.audio.frameSamples,
    bins: m.latent.channels,
    levels: m.levels.length,
    contexts: m.entropy.contexts,
    encoderFrame: m.encoder.input,
    encoderState: m.encoder.stateInput,
    encoderLatent: m.encoder.output,
    encoderNextState: m.encoder.stateOutput,
    decoderLatent: m.decoder.input,
    decoderState: m.decoder.stateInput,
    decoderFrame: m.decoder.output,
    decoderNextState: m.decoder.stateOutput,
    ...entropy,
  };
}
