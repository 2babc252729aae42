// What every codec built from a model manifest shares: its identity, levels and the model.
import { AicError } from './errors.js';
import type { Model } from './model.js';

interface ManifestIdentity {
  name: string;
  version: string;
  levels: unknown[];
}

export abstract class CodecBase<M extends ManifestIdentity> {
  readonly manifest: M;
  readonly model: Model;
  readonly #modelId: number;

  protected constructor(manifest: M, model: Model, modelId: number) {
    this.manifest = manifest;
    this.model = model;
    this.#modelId = modelId;
  }

  get name(): string {
    return this.manifest.name;
  }
  get version(): string {
    return this.manifest.version;
  }
  /** Number of quality levels (rate points), 0 = fewest bytes. */
  get levels(): number {
    return this.manifest.levels.length;
  }
  /** The middle level. */
  get defaultLevel(): number {
    return Math.floor(this.levels / 2);
  }
  /** The id written into every payload: FNV-1a of "name@version". */
  get modelId(): number {
    return this.#modelId;
  }

  /** `level`, or the default level, checked to be one of this codec's levels. */
  protected checkLevel(level: number | undefined): number {
    const l = level ?? this.defaultLevel;
    if (!Number.isInteger(l) || l < 0 || l >= this.levels) {
      throw new AicError('INVALID_ARGUMENT', `level must be an integer from 0 to ${this.levels - 1}, got ${String(l)}`);
    }
    return l;
  }

  protected checkOpen(): void {
    if (this.model.closed) throw new AicError('CLOSED', `codec '${this.name}' is closed; load it again from the engine`);
  }
}
