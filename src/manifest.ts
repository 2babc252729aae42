// The model contract (docs/model-contract.md): reading and checking a codec model's manifest,
// including the SHA-256 of each ONNX file, and turning it into the native codec configuration.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NativeAudioCodecConfig, NativeImageCodecConfig } from '../bindings.js';
import { AicError } from './errors.js';

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

/** Reads an image model's manifest and both ONNX files, checking every SHA-256. */
export function loadImageManifest(manifestPath: string): Promise<LoadedManifest<ImageManifest>> {
  return loadManifest(manifestPath, validateImageManifest);
}

/** Reads an audio model's manifest and both ONNX files, checking every SHA-256. */
export function loadAudioManifest(manifestPath: string): Promise<LoadedManifest<AudioManifest>> {
  return loadManifest(manifestPath, validateAudioManifest);
}

async function loadManifest<M extends { encoder: GraphEntry; decoder: GraphEntry }>(
  manifestPath: string,
  validate: (raw: unknown, file: string) => M,
): Promise<LoadedManifest<M>> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new AicError('MODEL_NOT_FOUND', `model manifest ${manifestPath} cannot be read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AicError('MANIFEST_INVALID', `model manifest ${manifestPath} is not valid JSON: ${(error as Error).message}`);
  }
  const manifest = validate(raw, manifestPath);
  const dir = path.dirname(manifestPath);
  const read = async (entry: GraphEntry, which: string): Promise<Buffer> => {
    const file = path.join(dir, entry.file);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      throw new AicError('MODEL_NOT_FOUND', `the ${which} graph ${file} named by ${manifestPath} cannot be read`);
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== entry.sha256) {
      throw new AicError('MANIFEST_INVALID', `the ${which} graph ${file} has SHA-256 ${digest}, the manifest says ${entry.sha256}: the file was changed or replaced`);
    }
    return bytes;
  };
  const [encoderBytes, decoderBytes] = await Promise.all([read(manifest.encoder, 'encoder'), read(manifest.decoder, 'decoder')]);
  return { manifest, dir, encoderBytes, decoderBytes };
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
