// Independent audio quality measures, written for this project from their definitions (no code
// taken from elsewhere), used by the audio evaluation (bench/eval-audio.mjs) and checked against
// known degradations in test/audio-measures.test.ts. All take the reference (the original) and
// the processed signal as mono Float32Arrays of the same rate, time-aligned; the shorter length
// counts.
//
// STOI (Taal, Hendriks, Heusdens, Jensen, "An algorithm for intelligibility prediction of
// time-frequency weighted noisy speech", IEEE TASLP 19(7), 2011):
//   1. both signals resampled to 10 kHz (polyphase Kaiser-windowed sinc: flat within 0.01 dB to
//      4.5 kHz, above the top band's edge at 4.28 kHz; -6 dB at 4.85 kHz; 90 dB down from 5.3 kHz);
//   2. 256-sample frames (25.6 ms), 50 % overlap, Hann window, each zero-padded to a 512-point FFT;
//   3. silent frames removed: frames whose reference energy is more than 40 dB under the loudest
//      reference frame are dropped from both signals (here in the STFT domain, frame by frame);
//   4. 15 one-third-octave bands, centres 150 * 2^(j/3) Hz (150 Hz .. 3.8 kHz), edges at
//      centre * 2^(+-1/6); a bin belongs to the band whose [lower, upper) edge range holds its
//      frequency; a band's time-frequency unit is the root of its bins' summed power;
//   5. segments of 30 frames (384 ms) ending at every frame from the 30th on; per band and
//      segment the processed envelope y is scaled to the reference's norm (alpha = |x| / |y|) and
//      clipped at (1 + 10^(-beta/20)) x with beta = -15 dB, then correlated with x (sample
//      correlation: means removed, divided by both norms);
//   6. STOI is the mean of those correlations over bands and segments.
// ESTOI (Jensen and Taal, "An algorithm for predicting the intelligibility of speech masked by
// modulated noise maskers", IEEE/ACM TASLP 24(11), 2016): steps 1-4 and the same 30-frame
// segments; each segment (15 bands x 30 frames) of both signals is row-normalised (each band's
// envelope minus its mean, divided by its norm), then column-normalised (each frame's 15 values
// minus their mean, divided by their norm); a segment scores the mean over its 30 frames of the
// inner products of the reference's and the processed signal's normalised columns; ESTOI is the
// mean over segments. No clipping.
// Both return NaN when fewer than 30 frames are left after silence removal (under 0.4 s of speech).
//
// The spectral measures share one analysis at the signals' own rate: 25 ms periodic Hann frames
// every 10 ms, an FFT of the next power of two, bin power P(k) = |X(k)|^2 / sum(w^2) (white
// noise of variance s^2 has E[P] = s^2; dBFS below is 10 log10 P), bins from 50 Hz to the band's
// top (Nyquist unless given). A frame is active when its reference power (summed over those bins)
// is within 40 dB of the clip's loudest reference frame.
//
// Log-spectral distance (dB): per active frame, the RMS over the band's bins of
// 10 log10((P_ref + e) / (P_dec + e)), with the floor e at the frame's audibility threshold below
// (60 dB under its loudest reference bin, at least -90 dBFS): bins under what can be heard on
// both sides count as equal, and a bin empty on one side costs at most its level over the floor.
// LSD is the mean over active frames. (It is not gain-invariant: a level change is a distance.)
//
// Spectral holes: a bin of an active frame is audible when its reference power is within 60 dB
// of that frame's loudest bin and over -90 dBFS (16-bit quantisation noise is -101 dBFS per bin);
// it is a hole when the decoded power there is 30 dB or more under the reference's. The hole
// fraction is holes / audible bins over the clip. Band loss is the same at band resolution: the
// share of audible bins that lie in one-third-octave bands (band b: 50 * 2^(b/3) <= f <
// 50 * 2^((b+1)/3)) whose decoded power summed over the band's audible bins is 30 dB or more under
// the reference's (a band gone, not a bin quantised to zero). The C++ score
// (native/core/audio/audio_metrics.h: audioQuality().holeFraction and .bandLoss, the session's
// per-frame and per-second checks) uses the same definitions.

// ---------------------------------------------------------------------------------------------
// FFT

const fftCache = new Map();

/** Radix-2 complex FFT in place on (re, im) (Float64Arrays), size a power of two. */
export function fft(re, im) {
  const n = re.length;
  let plan = fftCache.get(n);
  if (!plan) {
    const rev = new Uint32Array(n);
    for (let i = 1, j = 0; i < n; i++) {
      let bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      rev[i] = j;
    }
    const cos = new Float64Array(n / 2);
    const sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      cos[k] = Math.cos((-2 * Math.PI * k) / n);
      sin[k] = Math.sin((-2 * Math.PI * k) / n);
    }
    plan = { rev, cos, sin };
    fftCache.set(n, plan);
  }
  const { rev, cos, sin } = plan;
  for (let i = 1; i < n; i++) {
    const j = rev[i];
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = n / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sin[k * step];
        const a = i + k;
        const b = a + half;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

/**
 * Power spectrogram: frames of `win` samples every `hop`, window `w`, FFT size `nfft`;
 * returns an array of Float64Array(nfft / 2 + 1) of |X(k)|^2 / scale.
 */
function powerFrames(x, win, hop, w, nfft, scale) {
  const frames = [];
  const re = new Float64Array(nfft);
  const im = new Float64Array(nfft);
  for (let start = 0; start + win <= x.length; start += hop) {
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < win; i++) re[i] = x[start + i] * w[i];
    fft(re, im);
    const p = new Float64Array(nfft / 2 + 1);
    for (let k = 0; k <= nfft / 2; k++) p[k] = (re[k] * re[k] + im[k] * im[k]) / scale;
    frames.push(p);
  }
  return frames;
}

function aligned(ref, dec) {
  const n = Math.min(ref.length, dec.length);
  return [ref.subarray(0, n), dec.subarray(0, n)];
}

// ---------------------------------------------------------------------------------------------
// Resampling (rational ratio, polyphase windowed sinc; the tables are kept per ratio)

const resamplers = new Map();

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

function besselI0(v) {
  let s = 1;
  let t = 1;
  for (let k = 1; k < 30; k++) {
    t *= (v / (2 * k)) ** 2;
    s += t;
  }
  return s;
}

/** Resamples x from `from` Hz to `to` Hz (integer rates); output sample j is at input time j * from / to. */
export function resampleTo(x, from, to) {
  if (from === to) return x;
  const g = gcd(from, to);
  const L = to / g;
  const M = from / g;
  const key = `${L}/${M}`;
  let plan = resamplers.get(key);
  if (!plan) {
    const scale = Math.min(1, L / M);
    const fc = 0.5 * scale * 0.97; // cycles per input sample (-6 dB at 4.85 kHz for 10 kHz out)
    const zeros = 64; // zero crossings each side, at the output's rate
    const half = zeros / scale;
    const beta = 8.6;
    const i0b = besselI0(beta);
    const phases = [];
    for (let p = 0; p < L; p++) {
      const frac = (p * M) / L - Math.floor((p * M) / L); // offset of the output inside its input step
      const lo = Math.ceil(frac - half);
      const hi = Math.floor(frac + half);
      const taps = new Float64Array(hi - lo + 1);
      let sum = 0;
      for (let k = lo; k <= hi; k++) {
        const d = k - frac;
        const r = d / half;
        const win = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b;
        const sinc = d === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * d) / (Math.PI * d);
        taps[k - lo] = win * sinc;
        sum += taps[k - lo];
      }
      for (let i = 0; i < taps.length; i++) taps[i] /= sum;
      phases.push({ lo, taps });
    }
    plan = { phases };
    resamplers.set(key, plan);
  }
  const n = Math.floor((x.length * L) / M);
  const y = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const base = Math.floor((j * M) / L);
    const { lo, taps } = plan.phases[j % L];
    let acc = 0;
    const start = base + lo;
    for (let i = 0; i < taps.length; i++) {
      const k = start + i;
      if (k >= 0 && k < x.length) acc += taps[i] * x[k];
    }
    y[j] = acc;
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// STOI and ESTOI

export const STOI = Object.freeze({ rate: 10000, frame: 256, hop: 128, nfft: 512, bands: 15, lowestCentreHz: 150, rangeDb: 40, segment: 30, betaDb: -15 });

/** One-third-octave band envelopes [frames][bands] of both signals after silent-frame removal. */
function thirdOctaveEnvelopes(ref, dec, rate) {
  const x = resampleTo(ref, rate, STOI.rate);
  const y = resampleTo(dec, rate, STOI.rate);
  const N = STOI.frame;
  // Hann without zero end points (a zero sample would waste the frame's edge).
  const w = new Float64Array(N);
  for (let i = 0; i < N; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 1)) / (N + 1));
  const X = powerFrames(x, N, STOI.hop, w, STOI.nfft, 1);
  const Y = powerFrames(y, N, STOI.hop, w, STOI.nfft, 1);
  // Silent frames: energy of the windowed reference frame (the sum of its bin powers is
  // proportional to it, Parseval) more than 40 dB under the loudest.
  const energy = X.map((p) => p.reduce((s, v) => s + v, 0));
  const maxE = Math.max(0, ...energy);
  const keep = [];
  for (let m = 0; m < X.length; m++) if (maxE > 0 && energy[m] > maxE * 10 ** (-STOI.rangeDb / 10)) keep.push(m);
  // Band of each bin.
  const bandOf = new Int32Array(STOI.nfft / 2 + 1).fill(-1);
  for (let k = 0; k <= STOI.nfft / 2; k++) {
    const f = (k * STOI.rate) / STOI.nfft;
    for (let j = 0; j < STOI.bands; j++) {
      const c = STOI.lowestCentreHz * 2 ** (j / 3);
      if (f >= c * 2 ** (-1 / 6) && f < c * 2 ** (1 / 6)) bandOf[k] = j;
    }
  }
  const env = (P) =>
    keep.map((m) => {
      const e = new Float64Array(STOI.bands);
      for (let k = 0; k < P[m].length; k++) if (bandOf[k] >= 0) e[bandOf[k]] += P[m][k];
      for (let j = 0; j < STOI.bands; j++) e[j] = Math.sqrt(e[j]);
      return e;
    });
  return { X: env(X), Y: env(Y) };
}

function correlation(a, b) {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  const d = Math.sqrt(aa * bb);
  return d > 0 ? ab / d : 0;
}

/** STOI of `dec` against `ref` (mono, same rate), in [-1, 1]; about 1 for identical signals. */
export function stoi(ref, dec, rate) {
  const [r, d] = aligned(ref, dec);
  const { X, Y } = thirdOctaveEnvelopes(r, d, rate);
  return stoiOf(X, Y);
}

function stoiOf(X, Y) {
  const S = STOI.segment;
  if (X.length < S) return NaN;
  const clip = 1 + 10 ** (-STOI.betaDb / 20);
  const x = new Float64Array(S);
  const y = new Float64Array(S);
  let sum = 0;
  let count = 0;
  for (let m = S - 1; m < X.length; m++) {
    for (let j = 0; j < STOI.bands; j++) {
      let nx = 0;
      let ny = 0;
      for (let n = 0; n < S; n++) {
        x[n] = X[m - S + 1 + n][j];
        y[n] = Y[m - S + 1 + n][j];
        nx += x[n] * x[n];
        ny += y[n] * y[n];
      }
      const alpha = ny > 0 ? Math.sqrt(nx / ny) : 0;
      for (let n = 0; n < S; n++) y[n] = Math.min(alpha * y[n], clip * x[n]);
      sum += correlation(x, y);
      count++;
    }
  }
  return sum / count;
}

/** Normalises v in place: minus its mean, divided by its norm (all zeros when it is constant). */
function standardise(v) {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  m /= v.length;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] -= m;
    n += v[i] * v[i];
  }
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] = n > 0 ? v[i] / n : 0;
}

/** ESTOI of `dec` against `ref` (mono, same rate); about 1 for identical signals. */
export function estoi(ref, dec, rate) {
  const [r, d] = aligned(ref, dec);
  const { X, Y } = thirdOctaveEnvelopes(r, d, rate);
  return estoiOf(X, Y);
}

function estoiOf(X, Y) {
  const S = STOI.segment;
  const J = STOI.bands;
  if (X.length < S) return NaN;
  const segment = (E, m) => {
    // rows[j][n]: band j, frame n of the segment ending at frame m.
    const rows = Array.from({ length: J }, (_, j) => {
      const row = new Float64Array(S);
      for (let n = 0; n < S; n++) row[n] = E[m - S + 1 + n][j];
      standardise(row);
      return row;
    });
    return Array.from({ length: S }, (_, n) => {
      const col = new Float64Array(J);
      for (let j = 0; j < J; j++) col[j] = rows[j][n];
      standardise(col);
      return col;
    });
  };
  let sum = 0;
  let count = 0;
  for (let m = S - 1; m < X.length; m++) {
    const xs = segment(X, m);
    const ys = segment(Y, m);
    let dm = 0;
    for (let n = 0; n < S; n++) for (let j = 0; j < J; j++) dm += xs[n][j] * ys[n][j];
    sum += dm / S;
    count++;
  }
  return sum / count;
}

// ---------------------------------------------------------------------------------------------
// Log-spectral distance and spectral holes

export const SPECTRAL = Object.freeze({ frameSeconds: 0.025, hopSeconds: 0.01, lowHz: 50, activeRangeDb: 40, audibleRangeDb: 60, audibleFloorDbfs: -90, holeDb: 30 });

/**
 * The spectral measures' analysis of one signal: { frames: Float64Array(nfft/2 + 1)[] of bin
 * powers, nfft, k0, k1 } (bins k0..k1 span 50 Hz to `highHz`, default Nyquist).
 */
export function powerSpectrogram(x, rate, highHz) {
  const { R, k0, k1, nfft } = spectralFrames(x, x.subarray(0, 0), rate, highHz);
  return { frames: R, nfft, k0, k1 };
}

/** Power frames of both signals for the spectral measures, and the bins of the band. */
function spectralFrames(ref, dec, rate, highHz) {
  const win = Math.round(SPECTRAL.frameSeconds * rate);
  const hop = Math.round(SPECTRAL.hopSeconds * rate);
  let nfft = 1;
  while (nfft < win) nfft <<= 1;
  const w = new Float64Array(win);
  let w2 = 0;
  for (let i = 0; i < win; i++) {
    w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / win);
    w2 += w[i] * w[i];
  }
  const top = Math.min(highHz ?? rate / 2, rate / 2);
  let k0 = Math.ceil((SPECTRAL.lowHz * nfft) / rate);
  const k1 = Math.floor((top * nfft) / rate);
  k0 = Math.max(1, k0);
  return { R: powerFrames(ref, win, hop, w, nfft, w2), D: powerFrames(dec, win, hop, w, nfft, w2), k0, k1, nfft };
}

function activeFrames(R, k0, k1) {
  const e = R.map((p) => {
    let s = 0;
    for (let k = k0; k <= k1; k++) s += p[k];
    return s;
  });
  const maxE = Math.max(0, ...e);
  return e.map((v) => maxE > 0 && v >= maxE * 10 ** (-SPECTRAL.activeRangeDb / 10));
}

/**
 * The spectral measures of `dec` against `ref` (mono, same rate) over bins from 50 Hz to
 * `highHz` (default: Nyquist): { lsdDb, holeFraction, bandLoss, audibleBins, activeFrames }.
 */
export function spectralMeasures(ref, dec, rate, highHz) {
  const [r, d] = aligned(ref, dec);
  const { R, D, k0, k1, nfft } = spectralFrames(r, d, rate, highHz);
  const active = activeFrames(R, k0, k1);
  const absFloor = 10 ** (SPECTRAL.audibleFloorDbfs / 10);
  const rel = 10 ** (-SPECTRAL.audibleRangeDb / 10);
  const holeRatio = 10 ** (-SPECTRAL.holeDb / 10);
  let lsd = 0;
  let frames = 0;
  let audible = 0;
  let holes = 0;
  let lost = 0;
  const binHz = rate / nfft;
  for (let m = 0; m < R.length; m++) {
    if (!active[m]) continue;
    const p = R[m];
    const q = D[m];
    let framePeak = 0;
    for (let k = k0; k <= k1; k++) framePeak = Math.max(framePeak, p[k]);
    const audibleFrom = Math.max(absFloor, framePeak * rel);
    let se = 0;
    for (let k = k0; k <= k1; k++) {
      const diff = 10 * Math.log10((p[k] + audibleFrom) / (q[k] + audibleFrom));
      se += diff * diff;
    }
    lsd += Math.sqrt(se / (k1 - k0 + 1));
    frames++;
    let band = -1;
    let bandBins = 0;
    let bandRef = 0;
    let bandDec = 0;
    const settle = () => {
      if (bandBins > 0 && bandDec <= bandRef * holeRatio) lost += bandBins;
      bandBins = bandRef = bandDec = 0;
    };
    for (let k = k0; k <= k1; k++) {
      const b = Math.floor(3 * Math.log2((k * binHz) / 50));
      if (b !== band) {
        settle();
        band = b;
      }
      if (p[k] < audibleFrom) continue;
      audible++;
      if (q[k] <= p[k] * holeRatio) holes++;
      bandBins++;
      bandRef += p[k];
      bandDec += q[k];
    }
    settle();
  }
  return { lsdDb: frames ? lsd / frames : 0, holeFraction: audible ? holes / audible : 0, bandLoss: audible ? lost / audible : 0, audibleBins: audible, activeFrames: frames };
}

/** Log-spectral distance in dB (see spectralMeasures). */
export function lsd(ref, dec, rate, highHz) {
  return spectralMeasures(ref, dec, rate, highHz).lsdDb;
}

/** Fraction of audible time-frequency bins 30 dB or more under the reference (see spectralMeasures). */
export function holeFraction(ref, dec, rate, highHz) {
  return spectralMeasures(ref, dec, rate, highHz).holeFraction;
}

/** Every measure at once: { stoi, estoi, lsdDb, holeFraction, bandLoss } (spectral ones up to `highHz`). */
export function audioMeasures(ref, dec, rate, highHz) {
  const s = spectralMeasures(ref, dec, rate, highHz);
  const [r, d] = aligned(ref, dec);
  const { X, Y } = thirdOctaveEnvelopes(r, d, rate);
  return { stoi: stoiOf(X, Y), estoi: estoiOf(X, Y), lsdDb: s.lsdDb, holeFraction: s.holeFraction, bandLoss: s.bandLoss };
}
