// Engine: one per process, shared by every session. Owns the ONNX Runtime environment (one
// global thread pool) and the loaded models, each loaded once and shared by name.
import path from 'node:path';
import type { Engine as NativeEngine, NativeEngineInfo, NativeEngineOptions, NativeGraphSignature } from '../bindings.js';
import { AudioCodec } from './audio-codec.js';
import { AicError, awaitNative, callNative } from './errors.js';
import { ImageCodec } from './image-codec.js';
import { loadAudioManifest, loadImageManifest, nativeAudioConfig, nativeImageConfig, type GraphEntry } from './manifest.js';
import { Model, type ModelInfo } from './model.js';
import { native, packageRoot } from './native.js';

/** The image codec shipped with the package. */
export const DEFAULT_IMAGE_MODEL = path.join(packageRoot, 'models', 'aic-image-v1', 'manifest.json');
/** The audio codec shipped with the package. */
export const DEFAULT_AUDIO_MODEL = path.join(packageRoot, 'models', 'aic-audio-v1', 'manifest.json');

export type ExecutionProvider = 'cpu' | 'cuda' | 'auto';

export interface EngineOptions extends NativeEngineOptions {
  /** 'auto' (default) uses CUDA when this ONNX Runtime can, else CPU with the reason recorded. */
  executionProvider?: ExecutionProvider;
}

export interface ModelDefinition {
  /** Models are shared by name: loading a name twice returns the same Model. */
  name: string;
  /** A path to an .onnx file, or its bytes. */
  encoder: string | Uint8Array;
  decoder: string | Uint8Array;
  /** What the caller expects the graphs to look like; a mismatch throws MODEL_SIGNATURE_MISMATCH. */
  signature?: { encoder?: NativeGraphSignature; decoder?: NativeGraphSignature };
}

export interface EngineInfo extends NativeEngineInfo {
  /** Provider actually in use per loaded model and graph, with the reason when it is not the one asked for. */
  models: ModelInfo[];
  /** The first reason a graph fell back from the requested provider, if any did. */
  providerFallbackReason: string | null;
}

interface Loaded {
  definition: ModelDefinition;
  model: Promise<Model>;
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

  /** @internal Use createEngine(). */
  constructor(options: EngineOptions = {}) {
    if (options === null || typeof options !== 'object') throw new AicError('INVALID_ARGUMENT', 'engine options must be an object');
    const { Engine: NativeEngineClass } = native();
    this.#native = callNative(() => new NativeEngineClass(options));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new AicError('CLOSED', 'this engine is closed; create a new one with createEngine()');
  }

  /** Loads an encoder/decoder pair on a worker thread, or returns the already loaded model of that name. */
  async loadModel(definition: ModelDefinition): Promise<Model> {
    this.#checkOpen();
    checkDefinition(definition);
    const existing = this.#shared(definition);
    if (existing) return existing;
    const pending = callNative(() => this.#native.loadModel(definition)).then(
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
    this.#models.set(definition.name, { definition, model: pending });
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

  #shared(definition: ModelDefinition): Promise<Model> | undefined {
    const loaded = this.#models.get(definition.name);
    if (!loaded) return undefined;
    if (!sameSource(loaded.definition.encoder, definition.encoder) || !sameSource(loaded.definition.decoder, definition.decoder)) {
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
    const { manifest, encoderBytes, decoderBytes } = await loadImageManifest(manifestPath);
    const model = await this.loadModel({
      name: `${manifest.name}@${manifest.version}`,
      encoder: encoderBytes,
      decoder: decoderBytes,
      signature: {
        encoder: { inputs: [{ name: manifest.encoder.input, type: 'float32', rank: 4 }], outputs: [{ name: manifest.encoder.output, type: 'float32', rank: 4 }] },
        decoder: { inputs: [{ name: manifest.decoder.input, type: 'float32', rank: 4 }], outputs: [{ name: manifest.decoder.output, type: 'float32', rank: 4 }] },
      },
    });
    const { ImageCodec: NativeImageCodec } = native();
    const config = nativeImageConfig(manifest);
    const codec = callNative(() => new NativeImageCodec(model.native(), config));
    return new ImageCodec(codec, model, manifest);
  }

  /** Loads a streaming audio codec from a model manifest (docs/model-contract.md, audio). */
  async loadAudioCodec(manifestPath: string = DEFAULT_AUDIO_MODEL): Promise<AudioCodec> {
    this.#checkOpen();
    if (typeof manifestPath !== 'string' || manifestPath.length === 0) throw new AicError('INVALID_ARGUMENT', 'loadAudioCodec() takes the path of a manifest.json');
    const { manifest, encoderBytes, decoderBytes } = await loadAudioManifest(manifestPath);
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
    const model = await this.loadModel({
      name: `${manifest.name}@${manifest.version}`,
      encoder: encoderBytes,
      decoder: decoderBytes,
      signature: { encoder: sig(manifest.encoder), decoder: sig(manifest.decoder) },
    });
    const { AudioCodec: NativeAudioCodec } = native();
    const codec = callNative(() => new NativeAudioCodec(model.native(), nativeAudioConfig(manifest)));
    return new AudioCodec(codec, model, manifest);
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
    return { ...base, closed: this.#closed, models, providerFallbackReason };
  }

  /** Unloads every model and stops the engine. In-flight calls finish first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = [...this.#models.values()].map((l) => l.model.catch(() => undefined));
    for (const model of await Promise.all(pending)) model?.close();
    this.#native.close();
  }
}

/** Creates the engine (one per process is the intended use). */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  return new Engine(options);
}
