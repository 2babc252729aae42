// The inter codec: predicted video frames coded against the receiver's reference (issue 16;
// native/core/video/inter_codec.h). Its model (models/aic-inter-v1) holds the learnt residual
// transform and the integer form of the image model's linear decoder, from which both sides
// compute a keyframe's reference bit for bit. An InterStream is one side of one session.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type {
  InterModel as NativeInterModel,
  InterStream as NativeInterStream,
  NativeImageDecodeResult,
  NativeInterFrame,
  NativeInterModelConfig,
  NativePredictedEncodeOptions,
  NativePredictedEncodeResult,
} from '../bindings.js';
import { AicError, awaitNative, callNative } from './errors.js';
import type { ImageCodec } from './image-codec.js';
import type { ImageManifest } from './manifest.js';
import { native } from './native/load.js';

export interface InterManifest {
  format: 'aic-inter-model';
  contractVersion: 1;
  name: string;
  version: string;
  description?: string;
  keyframeReference: { imageModel: string; file: string; sha256: string; coefficients: number; block: number; weightShift: 15; biasShift: 15 };
  residualTransform: { block: 8; colour: 'YCoCg'; shift: 12; vertical: number[][]; horizontal: number[][]; variances?: number[][] };
  training?: Record<string, unknown>;
}

function invalid(file: string, what: string): never {
  throw new AicError('MANIFEST_INVALID', `${file}: ${what}`);
}

function intMatrix(file: string, m: unknown, what: string): number[] {
  if (!Array.isArray(m) || m.length !== 3) invalid(file, `${what} must hold 3 channels (Y, Co, Cg)`);
  const out: number[] = [];
  for (const ch of m) {
    if (!Array.isArray(ch) || ch.length !== 64 || !ch.every((v) => Number.isInteger(v) && Math.abs(v) <= 4096)) invalid(file, `${what}: each channel is 64 integers in -4096..4096`);
    out.push(...(ch as number[]));
  }
  return out;
}

/** Scan order per channel: coefficients by held-out variance, largest first (ties by position); zig-zag without variances. */
export function scanOrder(variances: number[] | undefined): number[] {
  const index = Array.from({ length: 64 }, (_, i) => i);
  if (variances) return index.sort((a, b) => variances[b]! - variances[a]! || a - b);
  const zigzag: number[] = [];
  for (let s = 0; s < 15; s++)
    for (let k = 0; k <= s; k++) {
      const r = s % 2 === 0 ? s - k : k;
      const c = s - r;
      if (r < 8 && c < 8) zigzag.push(r * 8 + c);
    }
  return zigzag;
}

export function validateInterManifest(raw: unknown, file: string): InterManifest {
  const m = raw as Partial<InterManifest>;
  if (!m || typeof m !== 'object' || m.format !== 'aic-inter-model' || m.contractVersion !== 1) invalid(file, "format must be 'aic-inter-model', contractVersion 1");
  if (typeof m.name !== 'string' || !m.name || typeof m.version !== 'string' || !m.version) invalid(file, 'name and version must be non-empty strings');
  const k = m.keyframeReference;
  if (!k || typeof k.imageModel !== 'string' || typeof k.file !== 'string' || typeof k.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(k.sha256)) {
    invalid(file, 'keyframeReference needs imageModel, file and sha256');
  }
  if (!Number.isInteger(k.coefficients) || !Number.isInteger(k.block) || k.coefficients !== 3 * k.block * k.block || k.weightShift !== 15 || k.biasShift !== 15) {
    invalid(file, 'keyframeReference: coefficients = 3 * block^2, weightShift and biasShift 15');
  }
  const t = m.residualTransform;
  if (!t || t.block !== 8 || t.colour !== 'YCoCg' || t.shift !== 12) invalid(file, "residualTransform: block 8, colour 'YCoCg', shift 12");
  intMatrix(file, t.vertical, 'residualTransform.vertical');
  intMatrix(file, t.horizontal, 'residualTransform.horizontal');
  if (t.variances !== undefined && (!Array.isArray(t.variances) || t.variances.length !== 3 || !t.variances.every((v) => Array.isArray(v) && v.length === 64 && v.every((x) => typeof x === 'number' && Number.isFinite(x))))) {
    invalid(file, 'residualTransform.variances: 3 channels of 64 numbers');
  }
  return m as InterManifest;
}

export class InterCodec {
  readonly manifest: InterManifest;
  readonly #native: NativeInterModel;
  readonly #image: ImageCodec;

  /** @internal Use loadInterCodec(). */
  constructor(nativeModel: NativeInterModel, manifest: InterManifest, image: ImageCodec) {
    this.#native = nativeModel;
    this.manifest = manifest;
    this.#image = image;
  }

  get name(): string {
    return this.manifest.name;
  }
  get version(): string {
    return this.manifest.version;
  }
  /** The id predicted payloads carry (FNV-1a of name@version). */
  get modelId(): number {
    return this.#native.modelId;
  }
  /** The image codec whose keyframes start this codec's chains. */
  get image(): ImageCodec {
    return this.#image;
  }

  /** One side of a session: a sender's or a receiver's reference. */
  createStream(): InterStream {
    const { InterStream: NativeStream } = native();
    return new InterStream(callNative(() => new NativeStream(this.#native, this.#image.nativeCodec())));
  }
}

export class InterStream {
  readonly #native: NativeInterStream;
  constructor(n: NativeInterStream) {
    this.#native = n;
  }
  /** A neural keyframe payload (sent or received) becomes the reference (computed when first needed). */
  adoptKeyframe(payload: ArrayBufferView): void {
    callNative(() => this.#native.adoptKeyframe(payload));
  }
  reset(): void {
    callNative(() => this.#native.reset());
  }
  hasReference(width: number, height: number): boolean {
    return callNative(() => this.#native.hasReference(width, height));
  }
  get referenceSequence(): number {
    return callNative(() => this.#native.referenceSequence);
  }
  /** The held reference's size (what a compact predicted frame decodes to), or null. */
  referenceSize(): { width: number; height: number } | null {
    return callNative(() => this.#native.referenceSize);
  }
  encode(frame: NativeInterFrame, options: NativePredictedEncodeOptions): Promise<NativePredictedEncodeResult> {
    return awaitNative(callNative(() => this.#native.encode(frame, options)));
  }
  /** A sender keeps this many earlier references for recovery (requestRecovery()). */
  keepReferences(count: number): void {
    callNative(() => this.#native.keepReferences(count));
  }
  /** The sequence number of the reference held, or null when none is. */
  heldReferenceSequence(): number | null {
    return callNative(() => this.#native.heldReference);
  }
  holdsReference(sequence: number, width: number, height: number): boolean {
    return callNative(() => this.#native.holdsReference(sequence, width, height));
  }
  /** The last encode()'s reconstruction becomes the reference: call it when that payload is sent. */
  commit(): void {
    callNative(() => this.#native.commit());
  }
  decode(payload: ArrayBufferView, output?: ArrayBufferView): Promise<NativeImageDecodeResult> {
    return awaitNative(callNative(() => this.#native.decode(payload, output ?? null)));
  }
  memoryBytes(): number {
    return callNative(() => this.#native.memoryBytes());
  }
}

/** What of the image model an inter model is checked against and built from. */
type ImageModelFacts = Pick<ImageManifest, 'name' | 'version' | 'levels' | 'latent'>;

/**
 * Reads and checks an inter model for the image model `image` (its manifest): the manifest, that
 * it was made for that image model, and the SHA-256 of its keyframe inverse; returns the manifest
 * and the configuration the native InterModel takes (native/fuzz/dump-config.mjs writes the same
 * object for the fuzz harness).
 */
export async function readInterModelConfig(manifestPath: string, image: ImageModelFacts): Promise<{ manifest: InterManifest; config: NativeInterModelConfig }> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new AicError('MODEL_NOT_FOUND', `inter model manifest ${manifestPath} cannot be read`, { cause: error });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AicError('MANIFEST_INVALID', `${manifestPath} is not JSON`, { cause: error });
  }
  const m = validateInterManifest(raw, manifestPath);
  const k = m.keyframeReference;
  const imageName = `${image.name}@${image.version}`;
  if (k.imageModel !== imageName) {
    throw new AicError('MODEL_MISMATCH', `inter model ${m.name}@${m.version} was made for the image model ${k.imageModel}, not ${imageName}; predicted frames need its own inter model`);
  }
  const levels = image.levels;
  if (image.latent.channels !== k.coefficients || image.latent.downsample !== k.block) {
    invalid(manifestPath, `keyframeReference does not match ${imageName}'s latent layout`);
  }
  const binPath = path.resolve(path.dirname(manifestPath), k.file);
  let bin: Buffer;
  try {
    bin = await readFile(binPath);
  } catch (error) {
    throw new AicError('MODEL_NOT_FOUND', `inter model file ${binPath} cannot be read`, { cause: error });
  }
  const digest = createHash('sha256').update(bin).digest('hex');
  if (digest !== k.sha256) throw new AicError('MODEL_INVALID', `${binPath} has SHA-256 ${digest}, the manifest says ${k.sha256}: the file was changed or damaged`);
  const n = k.coefficients;
  if (bin.length !== n * n * 2 + n * 4) invalid(manifestPath, `${k.file} must hold ${n}x${n} int16 weights and ${n} int32 biases (${n * n * 2 + n * 4} bytes), it holds ${bin.length}`);
  const weights = new Int16Array(n * n);
  for (let i = 0; i < n * n; i++) weights[i] = bin.readInt16LE(2 * i);
  const bias = new Int32Array(n);
  for (let i = 0; i < n; i++) bias[i] = bin.readInt32LE(2 * n * n + 4 * i);
  // The image model's inverse gains in 2^16 fixed point: the same integers on every machine.
  const gains = new Int32Array(levels.length * n);
  levels.forEach((l, i) => l.inverseGains.forEach((g, c) => (gains[i * n + c] = Math.round(g * 65536))));
  const t = m.residualTransform;
  const scan = new Uint8Array(3 * 64);
  for (let c = 0; c < 3; c++) scan.set(scanOrder(t.variances?.[c]), c * 64);
  const config: NativeInterModelConfig = {
    name: m.name,
    version: m.version,
    vertical: Int32Array.from(intMatrix(manifestPath, t.vertical, 'vertical')),
    horizontal: Int32Array.from(intMatrix(manifestPath, t.horizontal, 'horizontal')),
    scan,
    keyframeWeights: weights,
    keyframeBias: bias,
    keyframeGains: gains,
    levels: levels.length,
    coefficients: n,
    block: k.block,
  };
  return { manifest: m, config };
}

/**
 * Loads an inter model for `image` (the image codec its keyframes come from): checks the manifest,
 * that it was made for that image model, and the SHA-256 of its keyframe inverse.
 */
export async function loadInterCodec(manifestPath: string, image: ImageCodec): Promise<InterCodec> {
  const { manifest, config } = await readInterModelConfig(manifestPath, image.manifest);
  const { InterModel: NativeModel } = native();
  return new InterCodec(callNative(() => new NativeModel(config)), manifest, image);
}
