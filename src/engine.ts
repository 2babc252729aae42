// Engine: one per process, shared by every session. Owns the ONNX Runtime environment (one
// global thread pool) and the loaded models, each loaded once and shared by name.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EntropyTables, Engine as NativeEngine, NativeEngineInfo, NativeEngineOptions, NativeGraphCache, NativeGraphSignature } from '../bindings.js';
import { AudioCodec } from './audio-codec.js';
import { loadInterCodec, type InterCodec } from './inter-codec.js';
import { AicError, awaitNative, callNative, readFields } from './errors.js';
import { withCallerOutput } from './frames.js';
import { ImageCodec } from './image-codec.js';
import { discardTarget, graphCache, saveTarget, storeOptimizedGraph, type GraphCache } from './graph-cache.js';
import { loadAudioManifest, loadImageManifest, manifestCacheDir, nativeAudioConfig, nativeImageConfig, type GraphEntry, type LoadedManifest } from './manifest.js';
import { Model, type ModelInfo } from './model.js';
import { native, nativeOrigin, packageRoot, type NativeOrigin } from './native/load.js';
import { onnxRuntimeInfo, type OnnxRuntimeInfo } from './native/onnxruntime.js';
import { AicMetrics } from './metrics/prometheus.js';
import { codedBy } from './session/coded-by.js';
import { Admission } from './session/admission.js';
import { ImagePriors } from './session/image-prior.js';
import { DEFAULT_LIMITS, LIMIT_CEILINGS, resolveLimits, type DecodeLimits, type ResolvedDecodeLimits } from './session/decode.js';
import { LargeDecodeLane, type LargeDecodeOptions } from './session/large-decodes.js';
export type { DecodeLimits } from './session/decode.js';
import { BITSTREAM_VERSIONS, checkDecompressArgs, decodePayload, PAYLOAD_CODECS, Session, SESSION_OPTION_KEYS, type Capabilities, type CompressResult, type DecompressedFrame, type DecompressOptions, type SessionHost, type SessionOptions } from './session/index.js';

/** The image codec shipped with the package. */
export const DEFAULT_IMAGE_MODEL = path.join(packageRoot, 'models', 'aic-image-v1', 'manifest.json');
/** The audio codec shipped with the package. */
export const DEFAULT_AUDIO_MODEL = path.join(packageRoot, 'models', 'aic-audio-v2', 'manifest.json');
export const DEFAULT_INTER_MODEL = path.join(packageRoot, 'models', 'aic-inter-v1', 'manifest.json');

export type ExecutionProvider = 'cpu' | 'cuda' | 'auto';

export type { LargeDecodeOptions };

export interface EngineOptions extends NativeEngineOptions {
  /** 'auto' (default) uses CUDA when this ONNX Runtime can, else CPU with the reason recorded. */
  executionProvider?: ExecutionProvider;
  /**
   * Codecs sessions use: a manifest path each, or false for none. Default: the models shipped in
   * the package. A codec that fails to load leaves the engine running; its frames fall back
   * losslessly with reason 'model_unavailable' and info().unavailable says why.
   */
  models?: { image?: string | false; audio?: string | false; inter?: string | false };
  /** Open sessions allowed at once (default 1024); one more throws SESSION_LIMIT. */
  maxSessions?: number;
  /** A session unused this long is closed and its state freed (default 300000 ms = 5 min; Infinity: never). A session with frames in flight is busy. */
  sessionIdleTimeoutMs?: number;
  /**
   * Frames the engine accepts at once across its sessions (default 1024): one more is refused with
   * RESOURCE_EXHAUSTED before it is accepted, or waits with `{ whenBusy: 'wait' }`.
   */
  maxInFlight?: number;
  /**
   * Folder where createEngine() keeps, between starts, parsed codec manifests, the graphs as ONNX
   * Runtime optimised them (CPU sessions), and fingerprints of the files it checked
   * (docs/native-core.md, "Engine start"), or false for none. Default: aic-cache-<uid> under
   * os.tmpdir() when it can be made private to this user. Entries are verified and anything off
   * falls back to a normal load; a graph is read and checked against its manifest's SHA-256
   * whenever its file changed since it was last checked.
   */
  cacheDir?: string | false;
  /**
   * What one decompressFrame() may produce (docs/api.md, "Decoder limits"): pixels of an image,
   * bytes of a data frame, samples of an audio frame. Default { maxPixels: 4096 x 4096,
   * maxDataBytes: 16 MiB, maxAudioSamples: 1920 }; each may be raised up to the encoder's ceiling
   * (64 Mpixel, 64 MiB, 1920). A payload over them fails fast with LIMIT_EXCEEDED.
   */
  limits?: DecodeLimits;
  /**
   * Decodes whose header declares more than `overBytes` of output (default 8 MiB) take turns,
   * `concurrency` at a time (default 1), so that a few huge frames cannot hold every worker of the
   * thread pool while real-time frames wait (docs/api.md, "Large decodes").
   */
  largeDecodes?: LargeDecodeOptions;
  /**
   * Prometheus metrics (src/metrics/names.ts) on a prom-client registry: an AicMetrics (one may
   * serve several engines), or true for one on prom-client's default registry. Default: none.
   */
  metrics?: AicMetrics | boolean;
}

/** Session options as openSession() takes them: a session may lower the engine's decoder limits. */
export type OpenSessionOptions = SessionOptions & { limits?: DecodeLimits };

export interface CodecSummary {
  name: string;
  version: string;
  levels: number;
  modelId: number;
}

export interface ModelDefinition {
  /** Models are shared by name: loading a name twice returns the same Model. */
  name: string;
  /** A path to an .onnx file, or its bytes. */
  encoder: string | Uint8Array;
  decoder: string | Uint8Array;
  /** What the caller expects the graphs to look like; a mismatch throws MODEL_SIGNATURE_MISMATCH. */
  signature?: { encoder?: NativeGraphSignature; decoder?: NativeGraphSignature };
  /**
   * Run the graphs on the calling worker thread alone, without the engine's intra-op thread pool
   * (default false). For small graphs that many calls run in parallel already: the default audio
   * codec's graphs are loaded so, since its batches run one per core (docs/native-core.md).
   */
  callingThreadOnly?: boolean;
}

export interface EngineInfo extends NativeEngineInfo {
  /** Version of @auralink/aic. */
  version: string;
  /** The addon file in use and where it came from: 'source-build', 'package' or the platform package's name. */
  native: NativeOrigin;
  /** The ONNX Runtime library in use, why that one, and where CUDA's provider libraries were looked for (README, "CUDA"). */
  onnxRuntime: OnnxRuntimeInfo;
  /** Provider actually in use per loaded model and graph, with the reason when it is not the one asked for. */
  models: ModelInfo[];
  /** The first reason a graph fell back from the requested provider, if any did. */
  providerFallbackReason: string | null;
  /** The codecs sessions use (null when not loaded). */
  codecs: { image: CodecSummary | null; audio: CodecSummary | null };
  /**
   * Why a codec is not loaded, if one is not: its frames fall back with reason 'model_unavailable'
   * (`inter`: no predicted frames; video goes frame by frame through the image path).
   */
  unavailable: { image?: string; audio?: string; inter?: string };
  /** The fallback reasons sessions report, and what each means. */
  fallbackReasons: Record<'quality' | 'latency' | 'error' | 'model_unavailable', string>;
  sessions: { open: number; max: number; idleTimeoutMs: number };
  /** The lane of large decodes (EngineOptions.largeDecodes): its settings, what runs and waits now, and the most that ever ran at once. */
  largeDecodes: { overBytes: number; concurrency: number; running: number; waiting: number; peakRunning: number };
}

const FALLBACK_REASONS = {
  quality: 'the neural result scored under the session floor (minQualityScore) at the best level tried',
  latency: "the session's history predicted the neural path would exceed maxLatencyMs",
  error: 'the neural path failed while coding the frame',
  model_unavailable: 'no model for this frame type is loaded (see unavailable)',
} as const;

let packageVersion: string | undefined;
function version(): string {
  if (packageVersion === undefined) {
    try {
      packageVersion = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      packageVersion = 'unknown';
    }
  }
  return packageVersion;
}

interface Loaded {
  definition: ModelDefinition;
  model: Promise<Model>;
  /** A codec's graphs: the SHA-256 they were checked against (its sources may be paths left unread). */
  digests?: Digests;
}

interface Digests {
  encoder: string;
  decoder: string;
}

// Whether a model source is the graph of SHA-256 `digest`: bytes are hashed; a path is not the
// same source as checked bytes (as a path never equalled bytes before).
function sourceHasDigest(src: string | Uint8Array, digest: string): boolean {
  return typeof src !== 'string' && createHash('sha256').update(src).digest('hex') === digest;
}

function sameSource(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a === b || Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function checkDefinition(def: ModelDefinition): void {
  if (def === null || typeof def !== 'object') throw new AicError('INVALID_ARGUMENT', 'loadModel() needs { name, encoder, decoder }');
  if (typeof def.name !== 'string' || def.name.length === 0) throw new AicError('INVALID_ARGUMENT', 'model name must be a non-empty string');
  for (const part of ['encoder', 'decoder'] as const) {
    const src = def[part];
    if (typeof src !== 'string' && !(src instanceof Uint8Array)) {
      throw new AicError('INVALID_ARGUMENT', `model ${part} must be a file path or a Buffer of an .onnx file`);
    }
  }
}

export class Engine {
  readonly #native: NativeEngine;
  #closed = false;
  readonly #models = new Map<string, Loaded>();
  // Models whose load has finished, for the synchronous info() and model().
  readonly #settled = new Map<string, Model>();
  #image: ImageCodec | null = null;
  #audio: AudioCodec | null = null;
  #inter: InterCodec | null = null;
  readonly #unavailable: { image?: string; audio?: string; inter?: string } = {};
  readonly #sessions = new Map<string, Session>();
  readonly #maxSessions: number;
  readonly #idleTimeoutMs: number;
  #sweeper: NodeJS.Timeout | undefined;
  readonly #host: SessionHost & { limits: ResolvedDecodeLimits; largeDecodes: LargeDecodeLane };
  readonly #limits: ResolvedDecodeLimits;
  // Where loadSessionCodecs() caches parsed manifests (false: nowhere).
  #manifestCache: string | false = false;
  // The optimised-graph cache in that folder, where it applies (CPU sessions, optimisation on).
  #graphCache: GraphCache | undefined;
  /** The metrics this engine reports to, if any, and the functions that detach it from them. */
  readonly metrics: AicMetrics | null;
  readonly #detachMetrics: (() => void)[] = [];
  readonly #cudaDevice: number;

  /** @internal Use createEngine(). */
  constructor(given: EngineOptions = {}) {
    const options = readEngineOptions(given);
    const { maxSessions, sessionIdleTimeoutMs, maxInFlight, limits, largeDecodes, metrics, ...rest } = options;
    if (metrics !== undefined && typeof metrics !== 'boolean' && !(metrics instanceof AicMetrics)) {
      throw new AicError('INVALID_ARGUMENT', 'options.metrics must be an AicMetrics (new AicMetrics({ registry })) or true for prom-client\'s default registry');
    }
    this.metrics = metrics === true ? defaultMetrics() : metrics || null;
    this.#cudaDevice = rest.cudaDeviceId ?? 0;
    const inFlight = maxInFlight ?? 1024;
    if (!Number.isInteger(inFlight) || inFlight < 1) throw new AicError('INVALID_ARGUMENT', `maxInFlight must be a positive integer, got ${String(maxInFlight)}`);
    this.#limits = resolveLimits(limits, DEFAULT_LIMITS, LIMIT_CEILINGS, 'options.limits');
    const lane = new LargeDecodeLane(largeDecodes);
    // `models` is for createEngine(); the native engine takes the rest.
    const nativeOptions: NativeEngineOptions = { ...rest };
    delete (nativeOptions as EngineOptions).models;
    this.#maxSessions = maxSessions ?? 1024;
    if (!Number.isInteger(this.#maxSessions) || this.#maxSessions < 1) throw new AicError('INVALID_ARGUMENT', `maxSessions must be a positive integer, got ${String(maxSessions)}`);
    this.#idleTimeoutMs = sessionIdleTimeoutMs ?? 300_000;
    if (typeof this.#idleTimeoutMs !== 'number' || !(this.#idleTimeoutMs > 0)) {
      throw new AicError('INVALID_ARGUMENT', `sessionIdleTimeoutMs must be a positive number of milliseconds (or Infinity), got ${String(sessionIdleTimeoutMs)}`);
    }
    const { Engine: NativeEngineClass } = native();
    this.#native = callNative(() => new NativeEngineClass(nativeOptions));
    this.#host = {
      imagePriors: new ImagePriors(),
      admission: new Admission(inFlight),
      image: () => (this.#image && !this.#image.model.closed ? this.#image : null),
      audio: () => (this.#audio && !this.#audio.model.closed ? this.#audio : null),
      // Predicted frames start from the image codec's keyframes: usable while it is.
      inter: () => (this.#inter && this.#image && !this.#image.model.closed && this.#inter.image === this.#image ? this.#inter : null),
      imageUnavailable: () => this.#unavailable.image ?? 'the image model was closed',
      audioUnavailable: () => this.#unavailable.audio ?? 'the audio model was closed',
      released: (session) => {
        if (this.#sessions.get(session.sessionId) === session) this.#sessions.delete(session.sessionId);
      },
      limits: this.#limits,
      largeDecodes: lane,
      metrics: this.metrics?.recorder ?? null,
    };
    if (this.metrics) this.#detachMetrics.push(this.metrics.attachSessions(() => this.#sessions.size));
  }

  /** @internal After the codecs loaded: an engine whose models run on CUDA reports its GPU's utilisation. */
  attachGpuMetrics(): void {
    if (!this.metrics) return;
    const onCuda = [...this.#settled.values()].some((m) => !m.closed && (m.info().encoder.provider === 'CUDAExecutionProvider' || m.info().decoder.provider === 'CUDAExecutionProvider'));
    if (!onCuda) return;
    // NVML numbers the machine's GPUs in PCI bus order and ignores CUDA_VISIBLE_DEVICES; CUDA's
    // device ids count the visible ones. A numeric CUDA_VISIBLE_DEVICES maps one onto the other;
    // a list of GPU UUIDs cannot be mapped here, and then no reading is exported rather than
    // another GPU's.
    const visible = process.env.CUDA_VISIBLE_DEVICES?.split(',').map((v) => v.trim()).filter(Boolean);
    const nvmlIndex = visible ? (visible.every((v) => /^\d+$/.test(v)) ? Number(visible[this.#cudaDevice]) : NaN) : this.#cudaDevice;
    if (!Number.isInteger(nvmlIndex)) return;
    const device = nvmlIndex;
    const read = native().gpuUtilization;
    this.#detachMetrics.push(
      this.metrics.attachGpu(() => {
        const percent = read(device);
        return percent === null ? null : { gpu: String(this.#cudaDevice), percent };
      }),
    );
  }

  /** @internal Loads the codecs sessions use (createEngine() calls this). */
  async loadSessionCodecs(models: EngineOptions['models'] = {}, cacheDir?: string | false): Promise<void> {
    if (models === null || typeof models !== 'object') throw new AicError('INVALID_ARGUMENT', 'options.models must be an object { image, audio }');
    if (cacheDir !== undefined && cacheDir !== false && (typeof cacheDir !== 'string' || cacheDir.length === 0)) {
      throw new AicError('INVALID_ARGUMENT', 'options.cacheDir must be a folder path or false');
    }
    if (cacheDir === undefined) this.#manifestCache = (await manifestCacheDir()) ?? false;
    else if (cacheDir) {
      // A folder the caller names is created if missing; one that cannot be is simply not used.
      this.#manifestCache = await mkdir(cacheDir, { recursive: true }).then(() => cacheDir, () => false as const);
    }
    if (this.#manifestCache) {
      const info = callNative(() => this.#native.info());
      const cpuOnly = info.requestedProvider === 'cpu' || !info.availableProviders.includes('CUDAExecutionProvider');
      if (cpuOnly && info.graphOptimization !== 'disabled') {
        this.#graphCache = graphCache(this.#manifestCache, info.ortVersion, info.graphOptimization, native().cpuSignature);
      }
    }
    const image = models.image ?? DEFAULT_IMAGE_MODEL;
    const audio = models.audio ?? DEFAULT_AUDIO_MODEL;
    const load = async <T>(which: 'image' | 'audio', manifest: string | false, loader: (p: string) => Promise<T>): Promise<T | null> => {
      if (manifest === false) {
        this.#unavailable[which] = 'no model was configured (options.models)';
        return null;
      }
      try {
        return await loader(manifest);
      } catch (error) {
        const e = AicError.from(error);
        // A provider asked for strictly is a configuration the caller wants enforced.
        if (e.code === 'PROVIDER_UNAVAILABLE' || e.code === 'INVALID_ARGUMENT') throw e;
        this.#unavailable[which] = `${e.code}: ${e.message}`;
        return null;
      }
    };
    const [i, a] = await Promise.all([load('image', image, (p) => this.loadImageCodec(p)), load('audio', audio, (p) => this.loadAudioCodec(p))]);
    this.#image = i;
    this.#audio = a;
    const inter = models.inter ?? DEFAULT_INTER_MODEL;
    if (!i) this.#unavailable.inter = 'no image model to take keyframes from';
    else if (inter === false) this.#unavailable.inter = 'no model was configured (options.models)';
    else {
      try {
        this.#inter = await loadInterCodec(inter, i);
      } catch (error) {
        const e = AicError.from(error);
        if (e.code === 'INVALID_ARGUMENT') throw e;
        this.#unavailable.inter = `${e.code}: ${e.message}`;
      }
    }
  }

  /**
   * Opens a session: one stream's compression state (rate control, audio state, statistics).
   * Throws SESSION_LIMIT when maxSessions are open, INVALID_ARGUMENT for a sessionId in use.
   */
  openSession(given: OpenSessionOptions = {}): Session {
    this.#checkOpen();
    if (given === null || typeof given !== 'object') throw new AicError('INVALID_ARGUMENT', 'session options must be an object');
    // Each option read once (a throwing getter or a revoked Proxy is INVALID_ARGUMENT).
    const { limits, ...options } = readFields(given, [...SESSION_OPTION_KEYS, 'limits'], 'options') as OpenSessionOptions;
    let host: SessionHost = this.#host;
    if (limits !== undefined) {
      // Only lower than the engine's: a session cannot decode what the engine was told to refuse.
      host = { ...this.#host, limits: resolveLimits(limits, this.#limits, this.#limits, 'options.limits') } as SessionHost;
    }
    if (this.#sessions.size >= this.#maxSessions) {
      this.#sweep();
      if (this.#sessions.size >= this.#maxSessions) {
        throw new AicError('SESSION_LIMIT', `the engine has ${this.#maxSessions} sessions open (maxSessions); close finished sessions with session.close()`);
      }
    }
    const session = new Session(host, options);
    if (this.#sessions.has(session.sessionId)) {
      throw new AicError('INVALID_ARGUMENT', `a session '${session.sessionId}' is already open; close it or choose another sessionId`);
    }
    this.#sessions.set(session.sessionId, session);
    if (!this.#sweeper && Number.isFinite(this.#idleTimeoutMs)) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.max(50, Math.min(30_000, this.#idleTimeoutMs / 2)));
      this.#sweeper.unref();
    }
    return session;
  }

  /**
   * What this engine decodes: payload bitstream versions, codecs and model ids. A receiver sends
   * this to the sender over its signalling channel; the sender passes it as
   * `openSession({ peerCapabilities })` and never sends a payload this engine cannot decode.
   */
  capabilities(): Capabilities {
    this.#checkOpen();
    const image = this.#host.image();
    const audio = this.#host.audio();
    const codecs = PAYLOAD_CODECS.filter((c) => (c === 'neural-image' ? !!image : c === 'neural-audio' ? !!audio : true));
    const inter = this.#host.inter();
    return {
      bitstreamVersions: [...BITSTREAM_VERSIONS],
      codecs: codecs.filter((c) => c !== 'predicted' || !!inter),
      models: { image: image ? [image.modelId] : [], audio: audio ? [audio.modelId] : [], inter: inter ? [inter.modelId] : [] },
    };
  }

  /** The image codec sessions use (null when none is loaded). */
  imageCodec(): ImageCodec | null {
    return this.#host.image();
  }

  /** The audio codec sessions use (null when none is loaded). */
  audioCodec(): AudioCodec | null {
    return this.#host.audio();
  }

  /** What coded a result: the neural model's name and version, or the fallback step's codec ('lossless' for deflate and stored). */
  codedBy(result: Pick<CompressResult, 'codec'>): { name: string; version: string } {
    return codedBy(result.codec, this.#host.image(), this.#host.audio());
  }

  /** An open session by id. */
  session(sessionId: string): Session | undefined {
    return this.#sessions.get(sessionId);
  }

  /** Open sessions. */
  get sessions(): Session[] {
    return [...this.#sessions.values()];
  }

  #sweep(): void {
    for (const s of this.#sessions.values()) {
      if (s.idleMs >= this.#idleTimeoutMs) s.close(`expired after ${this.#idleTimeoutMs} ms idle`);
    }
  }

  /**
   * Decodes any payload without a session: images and lossless payloads completely; a neural
   * audio payload with a fresh decoder state (its first 20 ms: use a session for a stream).
   */
  decompressFrame(payload: ArrayBufferView, given: DecompressOptions = {}): Promise<DecompressedFrame> {
    try {
      this.#checkOpen();
      const { bytes, options } = checkDecompressArgs(payload, given);
      const decoded = this.#track(
        this.#host.admission.admit(options.whenBusy ?? 'reject', 'payload', () =>
          withCallerOutput(options.output, () => decodePayload(bytes, this.#host, options.output, (h) => (h.codec === 'neural-audio' ? (this.#host.audio()?.createDecoder() ?? null) : null))),
        ),
      );
      return this.#host.metrics ? decoded.catch(this.#host.metrics.rethrowError) : decoded;
    } catch (error) {
      const e = AicError.from(error);
      this.#host.metrics?.error(e.code);
      return Promise.reject(e);
    }
  }

  /** Calls running outside a session, which close() lets finish. */
  readonly #inflight = new Set<Promise<unknown>>();
  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }


  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new AicError('CLOSED', 'this engine is closed; create a new one with createEngine()');
  }

  /** Loads an encoder/decoder pair on a worker thread, or returns the already loaded model of that name. */
  async loadModel(definition: ModelDefinition): Promise<Model> {
    return this.#loadModel(definition);
  }

  // loadModel(), with the optimised-graph cache's entries for the codecs' graphs.
  async #loadModel(definition: ModelDefinition, graphCache?: NativeGraphCache, digests?: Digests): Promise<Model> {
    this.#checkOpen();
    checkDefinition(definition);
    const existing = this.#shared(definition, digests);
    if (existing) return existing;
    const pending = callNative(() => this.#native.loadModel(definition, graphCache)).then(
      (nm) => {
        const model = new Model(nm, (m) => this.#forget(m));
        this.#settled.set(model.name, model);
        return model;
      },
      (error: unknown) => {
        this.#models.delete(definition.name);
        throw AicError.from(error);
      },
    );
    this.#models.set(definition.name, { definition, model: pending, digests });
    return awaitNative(pending);
  }

  /** loadModel() on the calling thread. */
  loadModelSync(definition: ModelDefinition): Model {
    this.#checkOpen();
    checkDefinition(definition);
    if (this.#models.has(definition.name)) {
      throw new AicError('INVALID_ARGUMENT', `model '${definition.name}' is already loaded or loading; use loadModel() to share it`);
    }
    const model = new Model(callNative(() => this.#native.loadModelSync(definition)), (m) => this.#forget(m));
    this.#models.set(definition.name, { definition, model: Promise.resolve(model) });
    this.#settled.set(definition.name, model);
    return model;
  }

  #shared(definition: ModelDefinition, digests?: Digests): Promise<Model> | undefined {
    const loaded = this.#models.get(definition.name);
    if (!loaded) return undefined;
    const same = (part: 'encoder' | 'decoder'): boolean => {
      // Codecs' graphs compare by the SHA-256 they were checked against: their sources may be
      // paths of graphs left unread (skipUnchangedGraphs).
      if (digests && loaded.digests) return digests[part] === loaded.digests[part];
      if (digests) return sourceHasDigest(loaded.definition[part], digests[part]);
      if (loaded.digests) return sourceHasDigest(definition[part], loaded.digests[part]);
      return sameSource(loaded.definition[part], definition[part]);
    };
    if (!same('encoder') || !same('decoder')) {
      throw new AicError('INVALID_ARGUMENT', `a different model is already loaded as '${definition.name}'; close it first or choose another name`);
    }
    return loaded.model;
  }

  #forget(model: Model): void {
    this.#models.delete(model.name);
    this.#settled.delete(model.name);
  }

  /**
   * Loads an image codec from a model manifest (docs/model-contract.md): checks the manifest and
   * the SHA-256 of both graphs, loads them (shared by the manifest's name) and builds the codec.
   */
  async loadImageCodec(manifestPath: string = DEFAULT_IMAGE_MODEL): Promise<ImageCodec> {
    this.#checkOpen();
    if (typeof manifestPath !== 'string' || manifestPath.length === 0) throw new AicError('INVALID_ARGUMENT', 'loadImageCodec() takes the path of a manifest.json');
    const options = { cacheDir: this.#manifestCache, graphCache: this.#graphCache, readFile: readNatively };
    const loaded = await loadImageManifest(manifestPath, { ...options, skipUnchangedGraphs: !!this.#graphCache });
    const { manifest } = loaded;
    const { ImageCodec: NativeImageCodec } = native();
    const { modelLoad, graphs } = this.#codecModel(
      loaded,
      {
        encoder: { inputs: [{ name: manifest.encoder.input, type: 'float32', rank: 4 }], outputs: [{ name: manifest.encoder.output, type: 'float32', rank: 4 }] },
        decoder: { inputs: [{ name: manifest.decoder.input, type: 'float32', rank: 4 }], outputs: [{ name: manifest.decoder.output, type: 'float32', rank: 4 }] },
      },
      () => loadImageManifest(manifestPath, options),
    );
    const config = await this.#storingGraphs(graphs, modelLoad, () => withTables(modelLoad, () => nativeImageConfig(manifest), (c) => NativeImageCodec.prepareTables(c)));
    const model = await modelLoad;
    const codec = callNative(() => new NativeImageCodec(model.native(), config));
    return new ImageCodec(codec, model, manifest);
  }

  /** Loads a streaming audio codec from a model manifest (docs/model-contract.md, audio). */
  async loadAudioCodec(manifestPath: string = DEFAULT_AUDIO_MODEL): Promise<AudioCodec> {
    this.#checkOpen();
    if (typeof manifestPath !== 'string' || manifestPath.length === 0) throw new AicError('INVALID_ARGUMENT', 'loadAudioCodec() takes the path of a manifest.json');
    const options = { cacheDir: this.#manifestCache, graphCache: this.#graphCache, readFile: readNatively };
    const loaded = await loadAudioManifest(manifestPath, { ...options, skipUnchangedGraphs: !!this.#graphCache });
    const { manifest } = loaded;
    const sig = (g: GraphEntry & { stateInput: string; stateOutput: string }) => ({
      inputs: [
        { name: g.input, type: 'float32' as const, rank: 2 },
        { name: g.stateInput, type: 'float32' as const, rank: 2 },
      ],
      outputs: [
        { name: g.output, type: 'float32' as const, rank: 2 },
        { name: g.stateOutput, type: 'float32' as const, rank: 2 },
      ],
    });
    const { AudioCodec: NativeAudioCodec } = native();
    // Its batches run one per core (audio-batcher.ts): its graphs use no intra-op pool of their own.
    const { modelLoad, graphs } = this.#codecModel(loaded, { encoder: sig(manifest.encoder), decoder: sig(manifest.decoder) }, () => loadAudioManifest(manifestPath, options), true);
    const config = await this.#storingGraphs(graphs, modelLoad, () => withTables(modelLoad, () => nativeAudioConfig(manifest), (c) => NativeAudioCodec.prepareTables(c)));
    const model = await modelLoad;
    const codec = callNative(() => new NativeAudioCodec(model.native(), config));
    return new AudioCodec(codec, model, manifest);
  }

  // A codec's model: its graphs from the manifest as loaded (paths of graphs left unread where the
  // cache allowed), and when a cached optimised graph then cannot be used, loaded again from
  // graphs read and checked (`reload`). Returns the load and the cache targets it ended with.
  #codecModel(
    loaded: LoadedManifest<{ name: string; version: string; encoder: GraphEntry; decoder: GraphEntry }>,
    signature: ModelDefinition['signature'],
    reload: () => Promise<LoadedManifest<{ name: string; version: string; encoder: GraphEntry; decoder: GraphEntry }>>,
    callingThreadOnly = false,
  ): { modelLoad: Promise<Model>; graphs: () => GraphTargets | undefined } {
    const digests = { encoder: loaded.manifest.encoder.sha256, decoder: loaded.manifest.decoder.sha256 };
    const attempt = (l: typeof loaded) => {
      const targets = this.#graphTargets(l);
      const definition: ModelDefinition = {
        name: `${l.manifest.name}@${l.manifest.version}`,
        encoder: l.graphs?.encoder ?? l.encoderBytes,
        decoder: l.graphs?.decoder ?? l.decoderBytes,
        signature,
        ...(callingThreadOnly ? { callingThreadOnly } : {}),
      };
      return { targets, load: this.#loadModel(definition, targets?.request, digests) };
    };
    const first = attempt(loaded);
    let used = first.targets;
    const modelLoad = first.load.catch(async (error: unknown) => {
      const e = AicError.from(error);
      if (!(loaded.graphs && e.code === 'MODEL_INVALID' && e.message.includes('optimised-graph cache miss'))) throw e;
      await Promise.all((first.targets?.saves ?? []).map((t) => discardTarget(t.target)));
      const again = attempt(await reload());
      used = again.targets;
      return again.load;
    });
    return { modelLoad, graphs: () => used };
  }

  // The optimised-graph cache's part in a codec's model load: the cached graphs that checked out,
  // and where ONNX Runtime writes the graphs it optimises now (used when a cached one is not).
  #graphTargets(loaded: LoadedManifest<{ encoder: GraphEntry; decoder: GraphEntry }>): GraphTargets | undefined {
    const cache = this.#graphCache;
    if (!cache) return undefined;
    const request: NativeGraphCache = {};
    const saves: GraphTargets['saves'] = [];
    for (const part of ['encoder', 'decoder'] as const) {
      const source = loaded.manifest[part].sha256;
      const target = saveTarget(cache, source);
      // A graph left unread must come from its cached optimised graph (runtime/graph.h, required).
      request[part] = { optimized: loaded.optimized?.[part], saveTo: target, required: typeof loaded.graphs?.[part] === 'string' };
      saves.push({ part, source, target });
    }
    return { request, saves };
  }

  // Runs `rest` (what follows the model load), then stores the graphs ONNX Runtime optimised and
  // saved during the load as cache entries, or removes what it wrote for none.
  async #storingGraphs<T>(targets: () => GraphTargets | undefined, modelLoad: Promise<Model>, rest: () => Promise<T>): Promise<T> {
    if (!targets()) return rest();
    const cache = this.#graphCache!;
    let info: ModelInfo | undefined;
    try {
      const result = await rest();
      const model = await modelLoad;
      info = model.closed ? undefined : model.info();
      return result;
    } finally {
      const graphs = targets()!;
      await Promise.all(
        graphs.saves.map(({ part, source, target }) => {
          const from = info?.[part].optimizedGraph;
          if (from === 'saved') return storeOptimizedGraph(cache, source, target);
          return from === 'cache' ? undefined : discardTarget(target);
        }),
      );
    }
  }

  /** The loaded model of that name, if its load has finished. */
  model(name: string): Model | undefined {
    return this.#settled.get(name);
  }

  info(): EngineInfo {
    const base = callNative(() => this.#native.info());
    const models = [...this.#settled.values()].filter((m) => !m.closed).map((m) => m.info());
    let providerFallbackReason: string | null = null;
    for (const m of models) {
      providerFallbackReason ??= m.encoder.fallbackReason ?? m.decoder.fallbackReason;
    }
    const runtime = onnxRuntimeInfo()!;
    if (providerFallbackReason && runtime.cudaProviders === null) {
      providerFallbackReason = `${providerFallbackReason.trimEnd()} (no CUDA provider libraries were found: ${runtime.searched.join('; ')}. The README's "CUDA" section says how to get them)`;
    }
    const summary = (c: ImageCodec | AudioCodec | null): CodecSummary | null => (c && !c.model.closed ? { name: c.name, version: c.version, levels: c.levels, modelId: c.modelId } : null);
    return {
      ...base,
      version: version(),
      native: nativeOrigin(),
      onnxRuntime: runtime,
      closed: this.#closed,
      models,
      providerFallbackReason,
      codecs: { image: summary(this.#image), audio: summary(this.#audio) },
      unavailable: { ...this.#unavailable },
      fallbackReasons: { ...FALLBACK_REASONS },
      sessions: { open: this.#sessions.size, max: this.#maxSessions, idleTimeoutMs: this.#idleTimeoutMs },
      largeDecodes: { overBytes: this.#host.largeDecodes.overBytes, concurrency: this.#host.largeDecodes.concurrency, ...this.#host.largeDecodes.state() },
    };
  }

  /** Unloads every model and stops the engine. In-flight calls finish first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const detach of this.#detachMetrics.splice(0)) detach();
    if (this.#sweeper) clearInterval(this.#sweeper);
    // Frames already handed over finish first (sessions and sessionless decodes), then the models go.
    const sessions = [...this.#sessions.values()];
    for (const s of sessions) s.close('closed (its engine was closed)');
    await Promise.allSettled([...sessions.map((s) => s.drained()), ...this.#inflight]);
    const pending = [...this.#models.values()].map((l) => l.model.catch(() => undefined));
    for (const model of await Promise.all(pending)) model?.close();
    this.#native.close();
  }
}

/**
 * Reads a whole file on a libuv worker thread into native memory (native/binding/files.h): none of
 * the reading runs on the JS thread, and a model load shares the memory instead of copying it.
 * Any failure is retried with fs.promises.readFile, whose error (ENOENT and all) is the one thrown.
 */
function readNatively(file: string): Promise<Buffer> {
  return native()
    .readFile(file)
    .catch(() => readFile(file));
}

/** A codec's graphs in the optimised-graph cache: the request to the native load, and the entries to store after it. */
interface GraphTargets {
  request: NativeGraphCache;
  saves: Array<{ part: 'encoder' | 'decoder'; source: string; target: string }>;
}

/**
 * A codec's native configuration with its entropy tables built on a worker thread while the model
 * loads (engine start: ONNX Runtime creates the sessions meanwhile). Failures are reported in the
 * order they were before the tables moved off the JS thread: the model's first, then the config's.
 */
async function withTables<C extends { entropyTables?: EntropyTables }>(modelLoad: Promise<unknown>, pack: () => C, prepare: (config: C) => Promise<EntropyTables>): Promise<C> {
  let config: C | undefined;
  let tables: Promise<EntropyTables> | undefined;
  let failure: { error: unknown } | undefined;
  try {
    config = pack();
    tables = prepare(config);
  } catch (error) {
    failure = { error };
  }
  // Settled before anything is awaited, so that neither rejection goes unhandled.
  const settledTables = tables?.then(
    (t) => ({ t }),
    (error: unknown) => ({ error }),
  );
  await modelLoad;
  if (failure) throw AicError.from(failure.error);
  const built = await settledTables!;
  if ('error' in built) throw AicError.from(built.error);
  config!.entropyTables = built.t;
  return config!;
}

const ENGINE_OPTION_KEYS = ['intraOpThreads', 'interOpThreads', 'allowSpinning', 'graphOptimization', 'executionProvider', 'strictProvider', 'cudaDeviceId', 'logSeverity', 'models', 'maxSessions', 'sessionIdleTimeoutMs', 'maxInFlight', 'limits', 'largeDecodes', 'cacheDir', 'metrics'] as const;

/** The caller's engine options, each read once (a throwing getter or a revoked Proxy is INVALID_ARGUMENT). */
function readEngineOptions(given: unknown): EngineOptions {
  if (given === undefined) return {};
  if (given === null || typeof given !== 'object') throw new AicError('INVALID_ARGUMENT', 'engine options must be an object');
  const options = readFields(given, ENGINE_OPTION_KEYS, 'options') as EngineOptions;
  const models = options.models as unknown;
  if (models !== null && typeof models === 'object') options.models = readFields(models, ['image', 'audio', 'inter'], 'options.models') as EngineOptions['models'];
  return options;
}

let sharedDefaultMetrics: AicMetrics | undefined;
/** The AicMetrics on prom-client's default registry that createEngine({ metrics: true }) shares. */
function defaultMetrics(): AicMetrics {
  return (sharedDefaultMetrics ??= new AicMetrics());
}

/** Creates the engine (one per process is the intended use) and loads the session codecs. */
export async function createEngine(given: EngineOptions = {}): Promise<Engine> {
  const options = readEngineOptions(given);
  const engine = new Engine(options);
  try {
    await engine.loadSessionCodecs(options?.models, options?.cacheDir);
    engine.attachGpuMetrics();
  } catch (error) {
    await engine.close();
    throw error;
  }
  return engine;
}
