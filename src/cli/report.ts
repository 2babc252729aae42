// What the CLI prints: a progress bar with an ETA on stderr for anything that runs over a second
// (on a terminal, or with --progress), and the summary table of a run.
import type { CompressResult, FallbackReason, FrameReduction } from '../session/index.js';
import { Distribution } from '../stats.js';

/** Whether to draw progress: --progress forces it, --no-progress stops it, else only on a terminal. */
export function progressWanted(flag: boolean | undefined): boolean {
  return flag ?? process.stderr.isTTY === true;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * A progress bar with an ETA on stderr, drawn from a timer (so that it moves while one long call
 * runs) once the work has taken over a second. Work counted in units (frames) estimates the ETA
 * from the rate so far; one indivisible step (a single image) is given an expected duration and
 * the bar follows the clock up to 95 % until it is done.
 */
export class Progress {
  #start = Date.now();
  #shown = false;
  #done = 0;
  #expectedMs: number | undefined;
  #stage = '';
  #timer: NodeJS.Timeout | undefined;
  #stepStart = Date.now();

  constructor(
    public label: string,
    readonly total: number | undefined,
    readonly enabled = process.stderr.isTTY === true,
    readonly unit = 'frames',
  ) {
    if (enabled) {
      this.#timer = setInterval(() => this.#draw(), 200);
      this.#timer.unref();
    }
  }

  update(done: number): void {
    this.#done = done;
  }

  /** One step that cannot be counted: `stage` names it, `expectedMs` is how long it should take. */
  step(stage: string, expectedMs: number): void {
    this.#stage = stage;
    this.#expectedMs = expectedMs;
    this.#stepStart = Date.now();
  }

  #draw(): void {
    const now = Date.now();
    const elapsed = (now - this.#start) / 1000;
    if (elapsed < 1) return;
    const width = 30;
    let frac: number | undefined;
    let eta: number | undefined;
    let count = '';
    if (this.#expectedMs !== undefined) {
      const stepElapsed = now - this.#stepStart;
      frac = Math.min(0.95, stepElapsed / this.#expectedMs);
      eta = Math.max(0, this.#expectedMs - stepElapsed) / 1000;
    } else if (this.total) {
      frac = Math.min(1, this.#done / this.total);
      if (this.#done > 0) eta = (elapsed / this.#done) * (this.total - this.#done);
      count = ` ${this.#done}/${this.total} ${this.unit}, ${(this.#done / elapsed).toFixed(1)}/s`;
    } else {
      count = ` ${this.#done} ${this.unit}`;
    }
    const bar = frac === undefined ? '' : ` [${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${(frac * 100).toFixed(0).padStart(3)}%`;
    const label = this.#stage ? `${this.label}: ${this.#stage}` : this.label;
    const tail = `${count}, ${clock(elapsed)} elapsed${eta === undefined ? '' : `, ETA ${this.#expectedMs !== undefined && eta === 0 ? 'any moment' : clock(eta)}`}`;
    this.#shown = true;
    process.stderr.write(`\r\x1b[K${label}${bar}${tail}`);
  }

  done(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }
}

export interface RunSummary {
  input: string;
  output: string;
  kind: string;
  mode: string;
  frames: number;
  bytesIn: number;
  bytesOut: number;
  /** 1 - bytesOut / bytesIn, the container included. */
  compressionRatio: number;
  statuses: Record<string, number>;
  fallbacks: Record<FallbackReason, number>;
  /** Frames per payload codec (neural-image, jpeg, opus, deflate, ...): what carried them. */
  codecs: Record<string, number>;
  quality: { meanScore: number; minScore: number; meanSsim: number | null; meanPsnrDb: number | null };
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** What the output leaves out of the input, each once: the codec's own, and what aic changed before coding. */
  reductions: FrameReduction[];
  seconds: number;
}

export class Tally {
  frames = 0;
  bytesIn = 0;
  payloadBytes = 0;
  readonly statuses: Record<string, number> = {};
  readonly codecs: Record<string, number> = {};
  readonly fallbacks: Record<FallbackReason, number> = { quality: 0, latency: 0, error: 0, model_unavailable: 0 };
  readonly #latency = new Distribution(1 << 16);
  #score = 0;
  #minScore = Infinity;
  #ssim = 0;
  #psnr = 0;
  #imageFrames = 0;
  readonly #reductions = new Map<string, FrameReduction>();

  /** Records a reduction once, however many frames report it. */
  note(r: FrameReduction): void {
    const key = `${r.kind}\0${r.detail}`;
    if (!this.#reductions.has(key)) this.#reductions.set(key, { kind: r.kind, detail: r.detail });
  }

  add(r: CompressResult): void {
    for (const x of r.reductions ?? []) this.note(x);
    this.frames++;
    this.bytesIn += r.originalBytes;
    this.payloadBytes += r.compressedBytes;
    this.statuses[r.status] = (this.statuses[r.status] ?? 0) + 1;
    this.codecs[r.codec] = (this.codecs[r.codec] ?? 0) + 1;
    if (r.fallbackReason) this.fallbacks[r.fallbackReason]++;
    this.#latency.add(r.timings.totalMs);
    this.#score += r.quality.score;
    this.#minScore = Math.min(this.#minScore, r.quality.score);
    if (r.quality.ssim !== undefined && r.quality.psnrDb !== undefined) {
      this.#imageFrames++;
      this.#ssim += r.quality.ssim;
      this.#psnr += r.quality.psnrDb;
    }
  }

  summary(base: { input: string; output: string; kind: string; mode: string; bytesOut: number; seconds: number }): RunSummary {
    const l = this.#latency.summary();
    return {
      ...base,
      frames: this.frames,
      bytesIn: this.bytesIn,
      compressionRatio: this.bytesIn > 0 ? 1 - base.bytesOut / this.bytesIn : 0,
      statuses: { ...this.statuses },
      fallbacks: { ...this.fallbacks },
      codecs: { ...this.codecs },
      quality: {
        meanScore: this.frames ? this.#score / this.frames : NaN,
        minScore: this.frames ? this.#minScore : NaN,
        meanSsim: this.#imageFrames ? this.#ssim / this.#imageFrames : null,
        meanPsnrDb: this.#imageFrames ? this.#psnr / this.#imageFrames : null,
      },
      latencyMs: { p50: l.p50, p95: l.p95, p99: l.p99, max: l.max },
      reductions: [...this.#reductions.values()],
    };
  }
}

function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export function printSummary(s: RunSummary): void {
  const fallbacks = Object.entries(s.fallbacks)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const rows: [string, string][] = [
    ['input', `${s.input} (${s.kind})`],
    ['output', s.output],
    ['mode', s.mode],
    ['frames', String(s.frames)],
    ['bytes in', `${bytes(s.bytesIn)} (${s.kind === 'data' ? 'bytes' : s.kind === 'audio' ? 'raw PCM' : 'raw pixels'})`],
    ['bytes out', bytes(s.bytesOut)],
    ['ratio', `${(s.compressionRatio * 100).toFixed(2)} % saved (${s.bytesOut > 0 ? (s.bytesIn / s.bytesOut).toFixed(1) : '-'}:1)`],
    ['status', Object.entries(s.statuses).map(([k, n]) => `${k} ${n}`).join(', ')],
    ['fallbacks', fallbacks || 'none'],
    ['codecs', Object.entries(s.codecs).map(([k, n]) => `${k} ${n}`).join(', ')],
    ['score', `mean ${s.quality.meanScore.toFixed(4)}, min ${s.quality.minScore.toFixed(4)}`],
  ];
  if (s.quality.meanSsim !== null) rows.push(['SSIM / PSNR', `${s.quality.meanSsim.toFixed(4)} / ${s.quality.meanPsnrDb!.toFixed(2)} dB (mean)`]);
  rows.push(['latency', `p50 ${s.latencyMs.p50.toFixed(2)} ms, p95 ${s.latencyMs.p95.toFixed(2)} ms, p99 ${s.latencyMs.p99.toFixed(2)} ms`]);
  rows.push(['time', `${s.seconds.toFixed(2)} s`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  for (const r of s.reductions) process.stdout.write(`note: ${r.detail}\n`);
}
