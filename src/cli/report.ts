// What the CLI prints: a progress bar on stderr for anything that runs over a second (only on a
// terminal), and the summary table of a run.
import type { CompressResult, FallbackReason } from '../session/index.js';
import { Distribution } from '../stats.js';

export class Progress {
  readonly #start = Date.now();
  #shown = false;
  #last = 0;
  constructor(
    readonly label: string,
    readonly total: number | undefined,
    readonly enabled = process.stderr.isTTY === true,
  ) {}

  update(done: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.#start < 1000 || now - this.#last < 100) return;
    this.#last = now;
    this.#shown = true;
    const width = 30;
    const frac = this.total ? Math.min(1, done / this.total) : 0;
    const bar = this.total ? '#'.repeat(Math.round(frac * width)).padEnd(width, '.') : '';
    const rate = done / ((now - this.#start) / 1000);
    process.stderr.write(`\r${this.label} [${bar}] ${this.total ? `${(frac * 100).toFixed(0)}% ` : ''}${done}${this.total ? `/${this.total}` : ''} frames, ${rate.toFixed(1)}/s `);
  }

  done(): void {
    if (this.#shown) process.stderr.write('\r\x1b[K');
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
  quality: { meanScore: number; minScore: number; meanSsim: number | null; meanPsnrDb: number | null };
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  seconds: number;
}

export class Tally {
  frames = 0;
  bytesIn = 0;
  payloadBytes = 0;
  readonly statuses: Record<string, number> = {};
  readonly fallbacks: Record<FallbackReason, number> = { quality: 0, latency: 0, error: 0, model_unavailable: 0 };
  readonly #latency = new Distribution(1 << 16);
  #score = 0;
  #minScore = Infinity;
  #ssim = 0;
  #psnr = 0;
  #imageFrames = 0;

  add(r: CompressResult): void {
    this.frames++;
    this.bytesIn += r.originalBytes;
    this.payloadBytes += r.compressedBytes;
    this.statuses[r.status] = (this.statuses[r.status] ?? 0) + 1;
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
      quality: {
        meanScore: this.frames ? this.#score / this.frames : NaN,
        minScore: this.frames ? this.#minScore : NaN,
        meanSsim: this.#imageFrames ? this.#ssim / this.#imageFrames : null,
        meanPsnrDb: this.#imageFrames ? this.#psnr / this.#imageFrames : null,
      },
      latencyMs: { p50: l.p50, p95: l.p95, p99: l.p99, max: l.max },
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
    ['score', `mean ${s.quality.meanScore.toFixed(4)}, min ${s.quality.minScore.toFixed(4)}`],
  ];
  if (s.quality.meanSsim !== null) rows.push(['SSIM / PSNR', `${s.quality.meanSsim.toFixed(4)} / ${s.quality.meanPsnrDb!.toFixed(2)} dB (mean)`]);
  rows.push(['latency', `p50 ${s.latencyMs.p50.toFixed(2)} ms, p95 ${s.latencyMs.p95.toFixed(2)} ms, p99 ${s.latencyMs.p99.toFixed(2)} ms`]);
  rows.push(['time', `${s.seconds.toFixed(2)} s`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
}
