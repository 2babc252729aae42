// Model: an encoder/decoder ONNX pair loaded into the engine. encode()/decode() run on native
// worker threads and never block the event loop; the *Sync variants run on the calling thread.
import type { Model as NativeModel, NativeModelInfo, NativeModelStats } from '../bindings.js';
import { AicError, awaitNative, callNative } from './errors.js';
import type { TensorMap, TensorResult } from './tensor.js';

export type ModelInfo = NativeModelInfo;
export type ModelStats = NativeModelStats;

export interface RunOptions {
  /**
   * Buffers to write outputs into, by output name. The result's `data` is then the very same
   * object, filled; outputs not named here come back in Buffers over ONNX Runtime's memory.
   */
  outputs?: TensorMap;
}

export type RunResult = Record<string, TensorResult>;

function checkInputs(inputs: unknown, what: string): asserts inputs is TensorMap {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new AicError('INVALID_ARGUMENT', `${what} must be an object mapping input names to { data, type, shape }`);
  }
}

export class Model {
  readonly name: string;
  #native: NativeModel | undefined;
  readonly #onClose: (model: Model) => void;

  /** @internal Models come from engine.loadModel(). */
  constructor(native: NativeModel, onClose: (model: Model) => void) {
    this.#native = native;
    this.name = native.info().name;
    this.#onClose = onClose;
  }

  get closed(): boolean {
    return this.#native === undefined;
  }

  #live(): NativeModel {
    if (!this.#native) throw new AicError('CLOSED', `model '${this.name}' is closed; load it again with engine.loadModel()`);
    return this.#native;
  }

  encode(inputs: TensorMap, options?: RunOptions): Promise<RunResult> {
    return this.#run('encoder', inputs, options);
  }

  decode(inputs: TensorMap, options?: RunOptions): Promise<RunResult> {
    return this.#run('decoder', inputs, options);
  }

  encodeSync(inputs: TensorMap, options?: RunOptions): RunResult {
    return this.#runSync('encoder', inputs, options);
  }

  decodeSync(inputs: TensorMap, options?: RunOptions): RunResult {
    return this.#runSync('decoder', inputs, options);
  }

  /** @internal The native model, for codecs built on it. */
  native(): NativeModel {
    return this.#live();
  }

  /** Graph inputs/outputs, and the execution provider each graph runs on (with any fallback reason). */
  info(): ModelInfo {
    return callNative(() => this.#live().info());
  }

  /** Run counts and the bytes copied because a caller's memory was misaligned (normally 0). */
  stats(): ModelStats {
    return callNative(() => this.#live().stats());
  }

  /** Unloads the model. Calls already in flight finish first; later calls throw CLOSED. */
  close(): void {
    if (!this.#native) return;
    this.#native.close();
    this.#native = undefined;
    this.#onClose(this);
  }

  async #run(part: 'encoder' | 'decoder', inputs: TensorMap, options?: RunOptions): Promise<RunResult> {
    checkInputs(inputs, `${part} inputs`);
    const native = this.#live();
    const pending = callNative(() => native.run(part, inputs, options?.outputs ?? null));
    return awaitNative(pending);
  }

  #runSync(part: 'encoder' | 'decoder', inputs: TensorMap, options?: RunOptions): RunResult {
    checkInputs(inputs, `${part} inputs`);
    const native = this.#live();
    return callNative(() => native.runSync(part, inputs, options?.outputs ?? null));
  }
}
