// Network analysis and adaptation. The reference rules (GUIDE.md) are the starting point:
// under 1 Mbit/s aggressive with a target of at least 0.85, under 5 Mbit/s adaptive, otherwise
// the requested mode with a target of at most 0.70. What this does beyond them:
//  - it classifies on a conservative bandwidth, the lower of the robust estimate and the 5 s
//    prediction, so a falling link is acted on before it is saturated;
//  - the estimate is a harmonic mean of recent samples (one optimistic spike does not lift it);
//  - loss over 5 % and an unstable link (stability < 0.4) each move one mode more aggressive;
//  - plenty of stable bandwidth raises the quality aim above the floor (spend what the link has);
//  - in a session, a change to a more aggressive mode applies at once and a change back only
//    after the better conditions have held for 3 reports (fast down, slow up: no flapping).
import { AicError } from './errors.js';
import { MODE_DEFAULTS, moreAggressive, type CompressionMode } from './modes.js';

export interface NetworkConditions {
  availableBandwidthKbps?: number;
  rttMs?: number;
  packetLossPercent?: number;
  jitterMs?: number;
  /** When the sample was taken, in milliseconds (any epoch); default: the order of the samples, 1 s apart. */
  timestamp?: number;
}

export type NetworkQuality = 'excellent' | 'good' | 'fair' | 'poor';

export interface NetworkRecommendation {
  mode: CompressionMode;
  targetCompressionRatio: number;
  /** Extra quality over the floor the link can afford, as a fraction of (1 - floor): 0 .. 0.3. */
  qualityHeadroom: number;
  /** Bit rate the media should stay under: 85 % of the conservative bandwidth. */
  maxBitrateKbps: number;
  reason: string;
}

export interface NetworkAnalysis {
  samples: number;
  /** Robust current estimate (harmonic mean of the last 8 samples). */
  bandwidthEstimateKbps: number;
  /** Linear trend (Theil-Sen slope) extrapolated 5 s ahead, within [0.25x, 2x] of the estimate. */
  predictedBandwidthKbps5s: number;
  trendKbpsPerSecond: number;
  /** 0 (erratic) .. 1 (steady): bandwidth variation, loss and jitter. */
  stability: number;
  quality: NetworkQuality;
  rttMs: number;
  packetLossPercent: number;
  jitterMs: number;
  recommendation: NetworkRecommendation;
}

function finiteNonNegative(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new AicError('INVALID_ARGUMENT', `${what} must be a non-negative number, got ${String(v)}`);
  return v;
}

export function checkNetwork(n: unknown, what = 'network'): NetworkConditions {
  if (n === null || typeof n !== 'object') throw new AicError('INVALID_ARGUMENT', `${what} must be an object { availableBandwidthKbps, rttMs, packetLossPercent, jitterMs }`);
  const c = n as NetworkConditions;
  finiteNonNegative(c.availableBandwidthKbps, `${what}.availableBandwidthKbps`);
  finiteNonNegative(c.rttMs, `${what}.rttMs`);
  finiteNonNegative(c.jitterMs, `${what}.jitterMs`);
  finiteNonNegative(c.timestamp, `${what}.timestamp`);
  const loss = finiteNonNegative(c.packetLossPercent, `${what}.packetLossPercent`);
  if (loss !== undefined && loss > 100) throw new AicError('INVALID_ARGUMENT', `${what}.packetLossPercent must be 0..100, got ${loss}`);
  return c;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function classify(kbps: number): NetworkQuality {
  if (kbps > 10_000) return 'excellent';
  if (kbps >= 5_000) return 'good';
  if (kbps >= 1_000) return 'fair';
  return 'poor';
}

/** The reference rules, refined as described at the top of this file. */
export function recommend(quality: NetworkQuality, requested: CompressionMode, stability: number, lossPercent: number, conservativeKbps: number): NetworkRecommendation {
  let mode: CompressionMode;
  let target: number;
  let headroom = 0;
  const reasons: string[] = [];
  if (quality === 'poor') {
    mode = 'aggressive';
    target = Math.max(0.85, MODE_DEFAULTS.aggressive.targetCompressionRatio);
    reasons.push('under 1 Mbit/s');
  } else if (quality === 'fair') {
    mode = requested === 'off' ? 'off' : requested === 'aggressive' ? 'aggressive' : 'adaptive';
    target = MODE_DEFAULTS[mode].targetCompressionRatio;
    reasons.push('1-5 Mbit/s');
  } else {
    mode = requested;
    target = Math.min(0.7, MODE_DEFAULTS[requested].targetCompressionRatio);
    headroom = stability >= 0.7 ? (quality === 'excellent' ? 0.3 : 0.15) : 0;
    reasons.push(quality === 'excellent' ? 'over 10 Mbit/s' : '5-10 Mbit/s');
  }
  if (mode !== 'off') {
    let steps = 0;
    if (lossPercent > 5) {
      steps++;
      reasons.push(`${lossPercent.toFixed(1)} % loss`);
    }
    if (stability < 0.4) {
      steps++;
      reasons.push(`unstable (stability ${stability.toFixed(2)})`);
    }
    if (steps > 0) {
      const before = mode;
      mode = moreAggressive(mode, steps);
      if (mode !== before) target = Math.max(target, MODE_DEFAULTS[mode].targetCompressionRatio);
      headroom = 0;
    }
  }
  return { mode, targetCompressionRatio: target, qualityHeadroom: headroom, maxBitrateKbps: 0.85 * conservativeKbps, reason: reasons.join(', ') };
}

/** Bandwidth estimate, 5 s prediction, stability, class and a recommendation from samples, oldest first. */
export function analyzeNetworkConditions(samples: readonly NetworkConditions[], requestedMode: CompressionMode = 'adaptive'): NetworkAnalysis {
  if (!Array.isArray(samples) || samples.length === 0) throw new AicError('INVALID_ARGUMENT', 'analyzeNetworkConditions() takes a non-empty array of samples');
  samples.forEach((s, i) => checkNetwork(s, `samples[${i}]`));
  const withBw = samples
    .map((s, i) => ({ t: (s.timestamp ?? i * 1000) / 1000, kbps: s.availableBandwidthKbps }))
    .filter((s): s is { t: number; kbps: number } => s.kbps !== undefined);
  if (withBw.length === 0) throw new AicError('INVALID_ARGUMENT', 'at least one sample needs availableBandwidthKbps');
  const recent = withBw.slice(-8);
  const estimate = recent.length / recent.reduce((s, x) => s + 1 / Math.max(1, x.kbps), 0);
  // Theil-Sen slope: the median of pairwise slopes, robust to outliers.
  const slopes: number[] = [];
  for (let i = 0; i < recent.length; i++)
    for (let j = i + 1; j < recent.length; j++) {
      const dt = recent[j]!.t - recent[i]!.t;
      if (dt > 0) slopes.push((recent[j]!.kbps - recent[i]!.kbps) / dt);
    }
  const trend = slopes.length ? median(slopes) : 0;
  const predicted = Math.min(2 * estimate, Math.max(0.25 * estimate, estimate + 5 * trend));
  const mean = recent.reduce((s, x) => s + x.kbps, 0) / recent.length;
  const sd = Math.sqrt(recent.reduce((s, x) => s + (x.kbps - mean) ** 2, 0) / recent.length);
  const last = (key: 'rttMs' | 'packetLossPercent' | 'jitterMs') => {
    const values = samples.map((s) => s[key]).filter((v): v is number => v !== undefined).slice(-8);
    return values.length ? median(values) : 0;
  };
  const rttMs = last('rttMs'), loss = last('packetLossPercent'), jitterMs = last('jitterMs');
  const variation = mean > 0 ? sd / mean : 1;
  const stability = Math.max(0, Math.min(1, (1 - Math.min(1, variation)) * (1 - Math.min(1, loss / 10)) * (1 / (1 + jitterMs / 50))));
  const conservative = Math.min(estimate, predicted);
  const quality = classify(conservative);
  return {
    samples: samples.length,
    bandwidthEstimateKbps: estimate,
    predictedBandwidthKbps5s: predicted,
    trendKbpsPerSecond: trend,
    stability,
    quality,
    rttMs,
    packetLossPercent: loss,
    jitterMs,
    recommendation: recommend(quality, requestedMode, stability, loss, conservative),
  };
}

/** A session's view of its network: recent samples and the mode it has settled on. */
export class NetworkAdapter {
  readonly #samples: NetworkConditions[] = [];
  #pending: { mode: CompressionMode; count: number } | null = null;
  #current: NetworkRecommendation | null = null;
  #analysis: NetworkAnalysis | null = null;
  modeChanges = 0;

  get analysis(): NetworkAnalysis | null {
    return this.#analysis;
  }

  /** Adds a report and returns the recommendation in force (null until the first report with bandwidth). */
  report(conditions: NetworkConditions, requested: CompressionMode, nowMs: number): NetworkRecommendation | null {
    this.#samples.push({ ...conditions, timestamp: conditions.timestamp ?? nowMs });
    if (this.#samples.length > 20) this.#samples.shift();
    if (!this.#samples.some((s) => s.availableBandwidthKbps !== undefined)) return this.#current;
    const a = analyzeNetworkConditions(this.#samples, requested);
    this.#analysis = a;
    const next = a.recommendation;
    const rank = (m: CompressionMode) => ['off', 'conservative', 'adaptive', 'aggressive'].indexOf(m);
    if (this.#current === null) {
      this.#current = next;
      if (next.mode !== requested) this.modeChanges++;
    } else if (next.mode === this.#current.mode) {
      this.#current = next;
      this.#pending = null;
    } else if (rank(next.mode) > rank(this.#current.mode)) {
      this.#current = next;
      this.#pending = null;
      this.modeChanges++;
    } else {
      this.#pending = this.#pending?.mode === next.mode ? { mode: next.mode, count: this.#pending.count + 1 } : { mode: next.mode, count: 1 };
      if (this.#pending.count >= 3) {
        this.#current = next;
        this.#pending = null;
        this.modeChanges++;
      }
    }
    return this.#current;
  }

  /** The analysis the session would make with one more report, leaving its state as it is. */
  preview(conditions: NetworkConditions, requested: CompressionMode, nowMs: number): NetworkAnalysis | null {
    const samples = [...this.#samples, { ...conditions, timestamp: conditions.timestamp ?? nowMs }].slice(-20);
    if (!samples.some((s) => s.availableBandwidthKbps !== undefined)) return null;
    return analyzeNetworkConditions(samples, requested);
  }

  get current(): NetworkRecommendation | null {
    return this.#current;
  }
}
