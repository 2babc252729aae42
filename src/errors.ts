// AicError: the one error type of the public API. `code` is stable and safe to switch on;
// `message` says what went wrong and what to do about it.

export type AicErrorCode =
  /** A value passed to the API is malformed: wrong type, shape, size or option. */
  | 'INVALID_ARGUMENT'
  /**
   * A configuration value is not accepted: an environment variable read by loadConfig(), or a
   * user's or a session's override given to resolveSessionSettings(). The message names the
   * variable or field and where it came from, what was given, and what is accepted.
   */
  | 'INVALID_CONFIG'
  /** A model file does not exist or cannot be read. */
  | 'MODEL_NOT_FOUND'
  /** Model bytes are not a loadable ONNX model (truncated, corrupt, unsupported). */
  | 'MODEL_INVALID'
  /** The model's inputs/outputs differ from the declared signature. */
  | 'MODEL_SIGNATURE_MISMATCH'
  /** An execution provider was required strictly and is not available. */
  | 'PROVIDER_UNAVAILABLE'
  /** The engine or model was used after close(). */
  | 'CLOSED'
  /** ONNX Runtime failed while running a graph. */
  | 'INFERENCE_FAILED'
  /** A caller-provided output buffer does not fit the result. */
  | 'OUTPUT_MISMATCH'
  /** A payload failed its checks (truncated, altered, not an aic payload). */
  | 'CORRUPT_PAYLOAD'
  /** A payload of a bitstream version this build cannot read. */
  | 'UNSUPPORTED_VERSION'
  /** A payload coded by a different model than the one asked to decode it. */
  | 'MODEL_MISMATCH'
  /**
   * A payload describes a frame larger than this decoder's limits allow (EngineOptions.limits,
   * SessionOptions.limits; docs/api.md, "Decoder limits"). The message names the limit.
   */
  | 'LIMIT_EXCEEDED'
  /**
   * A predicted (inter) video frame names a reference frame this receiver does not hold: the
   * keyframe or frame it was coded against was lost, never arrived, or decoded differently. Nothing
   * is shown; ask the sender for a keyframe (`session.requestKeyframe()` on the sending session, what
   * a picture-loss indication maps to) and decode the frames that follow it.
   */
  | 'REFERENCE_MISSING'
  /** A model manifest breaks the model contract (docs/model-contract.md). */
  | 'MANIFEST_INVALID'
  /** Native memory could not be allocated. */
  | 'OUT_OF_MEMORY'
  /** The engine already has as many open sessions as it allows (EngineOptions.maxSessions). */
  | 'SESSION_LIMIT'
  /** The engine has `maxInFlight` frames in flight; the frame was not accepted (retry, drop it, or pass whenBusy: 'wait'). */
  | 'RESOURCE_EXHAUSTED'
  /** The native addon could not be loaded on this platform. */
  | 'NATIVE_UNAVAILABLE'
  /** An optional dependency a feature needs is not installed (createClient() needs @grpc/grpc-js): the message names it. */
  | 'DEPENDENCY_MISSING'
  /** A bug in aic: please report it with the message. */
  | 'INTERNAL';

const KNOWN_CODES: ReadonlySet<string> = new Set<AicErrorCode>([
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'MODEL_NOT_FOUND',
  'MODEL_INVALID',
  'MODEL_SIGNATURE_MISMATCH',
  'PROVIDER_UNAVAILABLE',
  'CLOSED',
  'INFERENCE_FAILED',
  'OUTPUT_MISMATCH',
  'CORRUPT_PAYLOAD',
  'UNSUPPORTED_VERSION',
  'MODEL_MISMATCH',
  'LIMIT_EXCEEDED',
  'REFERENCE_MISSING',
  'MANIFEST_INVALID',
  'OUT_OF_MEMORY',
  'NATIVE_UNAVAILABLE',
  'DEPENDENCY_MISSING',
  'SESSION_LIMIT',
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
]);

export class AicError extends Error {
  readonly code: AicErrorCode;

  constructor(code: AicErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AicError';
    this.code = code;
  }

  /** Turns anything thrown by the native layer (or anything else) into an AicError. */
  static from(error: unknown): AicError {
    if (error instanceof AicError) return error;
    if (error instanceof Error) {
      const code = (error as Error & { code?: unknown }).code;
      if (typeof code === 'string' && KNOWN_CODES.has(code)) return new AicError(code as AicErrorCode, error.message);
      return new AicError('INTERNAL', error.message, { cause: error });
    }
    return new AicError('INTERNAL', String(error));
  }
}

/** Runs a native call and rethrows its failure as AicError. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw AicError.from(error);
  }
}

/** Awaits a native promise and rethrows its rejection as AicError. */
export async function awaitNative<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw AicError.from(error);
  }
}

/**
 * Reads `keys` of a caller's options object once each, into a plain object: a throwing getter or a
 * revoked Proxy becomes INVALID_ARGUMENT (never a raw TypeError), and a getter cannot answer one
 * thing to a check and another to the use. `undefined`/absent keys stay absent.
 */
export function readFields<K extends string>(value: object, keys: readonly K[], what: string): Partial<Record<K, unknown>> {
  const out: Partial<Record<K, unknown>> = {};
  for (const key of keys) {
    let v: unknown;
    try {
      v = (value as Record<string, unknown>)[key];
    } catch (error) {
      throw new AicError('INVALID_ARGUMENT', `${what}.${key} could not be read (${error instanceof Error ? error.message : String(error)}); pass a plain object`, { cause: error });
    }
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** `typeof value === 'object'` and not null, where even asking must not throw (a revoked Proxy throws on Array.isArray). */
export function isObjectLike(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}
