// Dynamic batching of audio frames across sessions, as inference servers batch requests.
//
// A 20 ms audio frame's native work (encode, shadow decode, score) is a fraction of a millisecond,
// so handing each frame to a worker thread on its own costs about as much again: a thread wake-up,
// a completion callback and a Promise per frame. With hundreds of sessions that overhead, not the
// codec, decides how many streams a machine carries. The batcher gathers frames and sends them as
// one native job per lane (native/core/audio/audio_batch.h: one ONNX Runtime run per graph for
// all of them); while every lane is busy, new frames queue and go out together as soon as one
// finishes. How long a frame may wait to fill a batch is bounded (maxWaitMs, 1 ms by default, a
// twentieth of the frame's 20 ms): it waits only when the recent arrival rate says at least one
// more frame will come within that time, so a lone stream waits for nothing but one turn of the
// event loop (setImmediate), and a batch of targetBatch frames goes at once. Lanes default to the
// machine's cores, within libuv's thread pool (defaultLanes()).
import { availableParallelism } from 'node:os';
import type { AudioDecoderStream, AudioEncoderStream, AudioScoreWindow, NativeAudioFrame, NativeAudioStep, NativeAudioStepBatch } from '../bindings.js';
import { AicError } from './errors.js';
import { native } from './native/load.js';

/** One stream's step: AudioEncoderStream.encodeAndScore's arguments, with the stream. */
export interface AudioStepRequest {
  encoder: AudioEncoderStream;
  frame: NativeAudioFrame;
  options: { level: number; sequence: number; timestamp?: number; dtx?: boolean };
  shadow: AudioDecoderStream;
  window: AudioScoreWindow;
  exact: boolean;
}

// Numbers per item in the batch's results (native/binding/audio_codec_wrap.cc, AudioStepBatchJob).
const PARAMS = 10;
const RESULTS = 20;

interface Pending {
  item: AudioStepRequest;
  queuedAt: number;
  resolve: (step: NativeAudioStep) => void;
  reject: (error: AicError) => void;
}

/** What the batcher chose under the load it saw (the last `recent` batches). */
export interface AudioBatchStats {
  /** Batches and frames since the engine started. */
  batches: number;
  frames: number;
  lanes: number;
  maxBatch: number;
  maxWaitMs: number;
  targetBatch: number;
  /** Over the batches since resetStats() (at most the last 4096): frames per batch. */
  size: { mean: number; p50: number; p99: number; max: number };
  /** Over the same batches: ms from the first frame's hand-over to the batch's start (the wait to fill it, queueing included). */
  waitMs: { p50: number; p99: number; max: number };
  /** ms from a batch's start to its results (one native job, on one worker thread). */
  runMs: { p50: number; p99: number; max: number };
}

const RECENT = 4096;

/**
 * One lane per core, within libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default), leaving one of
 * its threads to the rest of the process's work (file reads, sharp, the Opus fallback's tries): a
 * lane holds a pool thread while its batch runs. On a machine with more cores than that, raise
 * UV_THREADPOOL_SIZE (before the process starts) to let the batches use them.
 */
function defaultLanes(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE);
  const threads = Number.isInteger(pool) && pool > 0 ? Math.min(pool, 1024) : 4;
  return Math.max(1, Math.min(availableParallelism(), threads - 1));
}

export class AudioBatcher {
  readonly lanes: number;
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly targetBatch: number;
  #pending: Pending[] = [];
  #inFlight = 0;
  #scheduled: 'now' | 'timer' | null = null;
  #timer: NodeJS.Timeout | null = null;
  // Mean time between frames handed over (EMA, ms), for the decision to wait.
  #interval = Infinity;
  #lastArrival = -Infinity;
  #batches = 0;
  #frames = 0;
  #recentFrom = 0;
  // Ring buffers of the recent batches' size, wait and run time.
  #sizes = new Float64Array(RECENT);
  #waits = new Float64Array(RECENT);
  #runs = new Float64Array(RECENT);
  #batchEncoder: ((...args: Parameters<typeof AudioEncoderStream.encodeAndScoreBatch>) => Promise<NativeAudioStepBatch>) | null = null;

  constructor(options: { lanes?: number; maxBatch?: number; maxWaitMs?: number; targetBatch?: number } = {}) {
    this.lanes = Math.max(1, Math.floor(options.lanes ?? defaultLanes()));
    this.maxBatch = Math.max(1, Math.min(4096, Math.floor(options.maxBatch ?? 64)));
    this.maxWaitMs = Math.max(0, Math.min(10, options.maxWaitMs ?? 1));
    this.targetBatch = Math.max(1, Math.min(this.maxBatch, Math.floor(options.targetBatch ?? 16)));
  }

  /** Runs one stream's step in the next batch. */
  run(item: AudioStepRequest): Promise<NativeAudioStep> {
    return new Promise<NativeAudioStep>((resolve, reject) => {
      const t = performance.now();
      const gap = t - this.#lastArrival;
      this.#lastArrival = t;
      this.#interval = Number.isFinite(this.#interval) ? this.#interval + 0.05 * (Math.min(gap, 1000) - this.#interval) : Math.min(gap, 1000);
      this.#pending.push({ item, queuedAt: t, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#inFlight >= this.lanes || this.#pending.length === 0 || this.#scheduled === 'now') return;
    // Wait (at most maxWaitMs) only while frames come fast enough for another to join, and the
    // batch is not yet the size that pays.
    const wait = this.#pending.length < this.targetBatch && this.maxWaitMs > 0 && this.#interval * 2 <= this.maxWaitMs;
    if (wait) {
      if (this.#scheduled === 'timer') return;
      this.#scheduled = 'timer';
      this.#timer = setTimeout(() => this.#fire(), this.maxWaitMs);
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#scheduled = 'now';
    setImmediate(() => this.#fire());
  }

  #fire(): void {
    this.#scheduled = null;
    this.#timer = null;
    this.#flush();
  }

  #flush(): void {
    while (this.#inFlight < this.lanes && this.#pending.length > 0) {
      // Spread what is waiting over the free lanes, so that both cores work on a burst.
      const free = this.lanes - this.#inFlight;
      const take = Math.min(this.maxBatch, Math.ceil(this.#pending.length / free));
      this.#start(this.#pending.splice(0, take));
    }
  }

  #start(batch: Pending[]): void {
    const started = performance.now();
    const slot = this.#batches % RECENT;
    this.#batches++;
    this.#frames += batch.length;
    this.#sizes[slot] = batch.length;
    this.#waits[slot] = started - batch[0]!.queuedAt;
    this.#inFlight++;
    this.#batchEncoder ??= native().AudioEncoderStream.encodeAndScoreBatch;
    let call: Promise<NativeAudioStepBatch>;
    try {
      call = this.#batchEncoder(...packBatch(batch));
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (out) => unpackBatch(batch, out),
      (error: unknown) => {
        const e = AicError.from(error);
        for (const p of batch) p.reject(e);
      },
    ).finally(() => {
      this.#runs[slot] = performance.now() - started;
      this.#inFlight--;
      this.#schedule();
    });
  }

  /** Forgets the recent batches (the counters since the start stay): for a benchmark's next run. */
  resetStats(): void {
    this.#recentFrom = this.#batches;
  }

  stats(): AudioBatchStats {
    // The batches since resetStats(), at most the last RECENT (the ring's order does not matter here).
    const n = Math.min(this.#batches - this.#recentFrom, RECENT);
    const pick = (a: Float64Array) => {
      const out: number[] = [];
      for (let k = this.#batches - n; k < this.#batches; k++) out.push(a[k % RECENT]!);
      return out.sort((x, y) => x - y);
    };
    const at = (s: number[], q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0);
    const sizes = pick(this.#sizes), waits = pick(this.#waits), runs = pick(this.#runs);
    return {
      batches: this.#batches,
      frames: this.#frames,
      lanes: this.lanes,
      maxBatch: this.maxBatch,
      maxWaitMs: this.maxWaitMs,
      targetBatch: this.targetBatch,
      size: { mean: n ? sizes.reduce((a, b) => a + b, 0) / n : 0, p50: at(sizes, 0.5), p99: at(sizes, 0.99), max: sizes[n - 1] ?? 0 },
      waitMs: { p50: at(waits, 0.5), p99: at(waits, 0.99), max: waits[n - 1] ?? 0 },
      runMs: { p50: at(runs, 0.5), p99: at(runs, 0.99), max: runs[n - 1] ?? 0 },
    };
  }
}

/** The batch as the native call takes it: one array of streams, one buffer of frames, one array of numbers. */
function packBatch(batch: Pending[]): [Array<AudioEncoderStream | AudioDecoderStream | AudioScoreWindow>, Uint8Array, Float64Array] {
  const streams: Array<AudioEncoderStream | AudioDecoderStream | AudioScoreWindow> = new Array(batch.length * 3);
  const params = new Float64Array(batch.length * PARAMS);
  let total = 0;
  for (const p of batch) total += p.item.frame.data.byteLength;
  const pcm = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < batch.length; i++) {
    const { encoder, frame, options, shadow, window, exact } = batch[i]!.item;
    const d = frame.data;
    pcm.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    streams[i * 3] = encoder;
    streams[i * 3 + 1] = shadow;
    streams[i * 3 + 2] = window;
    const q = i * PARAMS;
    params[q] = at;
    params[q + 1] = d.byteLength;
    params[q + 2] = frame.sampleRate;
    params[q + 3] = frame.channels;
    params[q + 4] = frame.format === 'f32le' ? 1 : 0;
    params[q + 5] = options.level;
    params[q + 6] = options.sequence;
    params[q + 7] = options.timestamp ?? 0;
    params[q + 8] = exact ? 1 : 0;
    params[q + 9] = options.dtx ? 1 : 0;
    at += d.byteLength;
  }
  return [streams, pcm, params];
}

/** Settles each frame's promise from the batch's flat results. */
function unpackBatch(batch: Pending[], out: NativeAudioStepBatch): void {
  const r = out.results;
  for (let i = 0; i < batch.length; i++) {
    const p = batch[i]!;
    const q = i * RESULTS;
    if (r[q + 19] !== 0) {
      p.reject(AicError.from(out.errors?.[i] ?? new Error('the audio step failed')));
      continue;
    }
    const encPre = r[q + 2]!, encInf = r[q + 3]!, encPost = r[q + 4]!, decPre = r[q + 5]!, decInf = r[q + 6]!, decPost = r[q + 7]!;
    p.resolve({
      payload: out.payloads.subarray(r[q]!, r[q]! + r[q + 1]!),
      timings: { preprocessMs: encPre, inferenceMs: encInf, postprocessMs: encPost, totalMs: encPre + encInf + encPost },
      decodeTimings: { preprocessMs: decPre, inferenceMs: decInf, postprocessMs: decPost, totalMs: decPre + decInf + decPost },
      measured: {
        score: r[q + 8]!,
        siSnrDb: r[q + 9]!,
        logMelDistanceDb: r[q + 10]!,
        activeFraction: r[q + 11]!,
        worstBandErrorDb: r[q + 12]!,
        holeFraction: r[q + 13]!,
        bandLoss: r[q + 14]!,
        windowHoleFraction: r[q + 15]!,
        windowBandLoss: r[q + 16]!,
        windowHoleMiss: r[q + 17] !== 0,
        frameMiss: r[q + 18] !== 0,
      },
    });
  }
}
