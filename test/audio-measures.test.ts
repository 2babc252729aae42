// The independent audio measures of bench/audio-measures.mjs (STOI, ESTOI, log-spectral distance,
// spectral holes) against known degradations of real speech (VCTK, an evaluation set: read here,
// never trained on), and the native hole fraction (the session's per-frame check) against the
// JS one. A few seconds of audio, so the file runs in a few seconds.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmarks (no type declarations)
import { estoi, fft, powerSpectrogram, resampleTo, SPECTRAL, spectralMeasures, stoi } from '../bench/audio-measures.mjs';
// @ts-expect-error: a plain .mjs module of the benchmarks (no type declarations)
import { readWav } from '../bench/wav.mjs';
import { audioQuality } from '../src/index.js';

const DATA = path.resolve(__dirname, '..', '..', 'shared', 'data');
const CLIP = path.join(DATA, 'speech', 'vctk', 'p232_003.wav');
const haveData = existsSync(CLIP);

/** A deterministic Gaussian noise source. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function withNoise(x: Float32Array, snrDb: number, seed: number): Float32Array {
  const p = x.reduce((a, v) => a + v * v, 0) / x.length;
  const sd = Math.sqrt(p * 10 ** (-snrDb / 10));
  const g = gaussian(seed);
  return x.map((v) => v + sd * g());
}

/** Removes the given bands (Hz) exactly: one FFT of the whole signal, bins zeroed, inverse FFT. */
function removeBands(x: Float32Array, rate: number, bands: Array<[number, number]>): Float32Array {
  let n = 1;
  while (n < x.length) n <<= 1;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  re.set(x);
  fft(re, im);
  for (let k = 0; k <= n / 2; k++) {
    const f = (k * rate) / n;
    if (!bands.some(([lo, hi]) => f >= lo && f <= hi)) continue;
    re[k] = im[k] = 0;
    if (k > 0 && k < n / 2) re[n - k] = im[n - k] = 0;
  }
  // Inverse by conjugation.
  for (let k = 0; k < n; k++) im[k] = -im[k];
  fft(re, im);
  return Float32Array.from(x, (_, i) => re[i]! / n);
}

/** The share of the reference's audible bins (the measure's definition) whose frequency lies in `bands`. */
function audibleShare(x: Float32Array, rate: number, bands: Array<[number, number]>): number {
  const { frames, nfft, k0, k1 } = powerSpectrogram(x, rate) as { frames: Float64Array[]; nfft: number; k0: number; k1: number };
  const energy = frames.map((p) => p.subarray(k0, k1 + 1).reduce((a, v) => a + v, 0));
  const loudest = Math.max(...energy);
  let inside = 0;
  let all = 0;
  frames.forEach((p, m) => {
    if (energy[m]! < loudest * 10 ** (-SPECTRAL.activeRangeDb / 10)) return;
    const peak = Math.max(...p.subarray(k0, k1 + 1));
    const from = Math.max(10 ** (SPECTRAL.audibleFloorDbfs / 10), peak * 10 ** (-SPECTRAL.audibleRangeDb / 10));
    for (let k = k0; k <= k1; k++) {
      if (p[k]! < from) continue;
      all++;
      const f = (k * rate) / nfft;
      if (bands.some(([lo, hi]) => f >= lo && f <= hi)) inside++;
    }
  });
  return inside / all;
}

describe('the resampler in front of STOI', () => {
  it('keeps a tone in the STOI band and removes one above 5 kHz', () => {
    const tone = (f: number, rate: number) => Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * f * i) / rate));
    const rmsOf = (y: Float32Array) => Math.sqrt(y.subarray(200, y.length - 200).reduce((a, v) => a + v * v, 0) / (y.length - 400));
    for (const rate of [16000, 44100, 48000]) {
      for (const f of [150, 1000, 4300]) expect(Math.abs(20 * Math.log10(rmsOf(resampleTo(tone(f, rate), rate, 10000)) / Math.SQRT1_2))).toBeLessThan(0.1);
      expect(20 * Math.log10(rmsOf(resampleTo(tone(5600, rate), rate, 10000)) / Math.SQRT1_2)).toBeLessThan(-60);
    }
  });
});

describe.skipIf(!haveData)('STOI, ESTOI, LSD and spectral holes on VCTK speech with known degradations', () => {
  // 4 s of p232_003 from its first word on (its first 1.4 s are room tone).
  const wav = haveData ? (readWav(CLIP) as { rate: number; channels: Float32Array[] }) : { rate: 16000, channels: [new Float32Array(0)] };
  const rate = wav.rate;
  const x = wav.channels[0]!.subarray(Math.round(1.4 * rate), Math.round(5.4 * rate));
  const all = (y: Float32Array) => ({ stoi: stoi(x, y, rate) as number, estoi: estoi(x, y, rate) as number, ...(spectralMeasures(x, y, rate) as { lsdDb: number; holeFraction: number; bandLoss: number }) });

  it('identical signals: STOI and ESTOI 1, LSD 0, no holes', () => {
    const m = all(x);
    expect(rate).toBe(16000);
    expect(m.stoi).toBeGreaterThan(0.9999);
    expect(m.estoi).toBeGreaterThan(0.9999);
    expect(m.lsdDb).toBe(0);
    expect(m.holeFraction).toBe(0);
  });

  it('white noise at 20, 10, 0, -5 dB SNR: STOI and ESTOI fall monotonically, in the ranges reported for noisy speech; LSD rises; noise leaves no holes', () => {
    const rows = [20, 10, 0, -5].map((snr) => ({ snr, ...all(withNoise(x, snr, 100 + snr)) }));
    console.log(rows.map((r) => `SNR ${r.snr} dB: STOI ${r.stoi.toFixed(3)}, ESTOI ${r.estoi.toFixed(3)}, LSD ${r.lsdDb.toFixed(2)} dB, holes ${(100 * r.holeFraction).toFixed(2)} %`).join('\n'));
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.stoi).toBeLessThan(rows[i - 1]!.stoi);
      expect(rows[i]!.estoi).toBeLessThan(rows[i - 1]!.estoi);
      expect(rows[i]!.lsdDb).toBeGreaterThan(rows[i - 1]!.lsdDb);
    }
    const [s20, s10, s0, sm5] = rows;
    // Unprocessed speech in stationary noise: STOI stays high at 20 dB, about 0.7-0.8 near 0 dB
    // and over 0.5 at -5 dB (Taal et al. 2011 map 0.7 to roughly half the words understood);
    // ESTOI reads lower than STOI for the same noisy speech and spans more of [0, 1].
    expect(s20!.stoi).toBeGreaterThan(0.93);
    expect(s10!.stoi).toBeGreaterThan(0.82);
    expect(s10!.stoi).toBeLessThan(0.95);
    expect(s0!.stoi).toBeGreaterThan(0.65);
    expect(s0!.stoi).toBeLessThan(0.85);
    expect(sm5!.stoi).toBeGreaterThan(0.55);
    expect(sm5!.stoi).toBeLessThan(0.8);
    for (const r of rows) expect(r.estoi).toBeLessThan(r.stoi - 0.1);
    expect(s0!.estoi).toBeGreaterThan(0.2);
    expect(s0!.estoi).toBeLessThan(0.55);
    for (const r of rows) expect(r.holeFraction).toBeLessThan(0.001);
  });

  it('low-pass at 4 and 2 kHz: LSD and holes rise, STOI drops a little at 4 kHz (intelligibility survives) and more at 2 kHz', () => {
    const clean = all(x);
    const lp4 = all(removeBands(x, rate, [[4000, rate / 2]]));
    const lp2 = all(removeBands(x, rate, [[2000, rate / 2]]));
    console.log(`low-pass 4 kHz: STOI ${lp4.stoi.toFixed(3)}, ESTOI ${lp4.estoi.toFixed(3)}, LSD ${lp4.lsdDb.toFixed(2)} dB, holes ${(100 * lp4.holeFraction).toFixed(1)} %; 2 kHz: STOI ${lp2.stoi.toFixed(3)}, ESTOI ${lp2.estoi.toFixed(3)}, LSD ${lp2.lsdDb.toFixed(2)} dB, holes ${(100 * lp2.holeFraction).toFixed(1)} %`);
    expect(lp4.lsdDb).toBeGreaterThan(clean.lsdDb + 5);
    expect(lp2.lsdDb).toBeGreaterThan(lp4.lsdDb);
    expect(lp4.holeFraction).toBeGreaterThan(0.2);
    expect(lp2.holeFraction).toBeGreaterThan(lp4.holeFraction + 0.2);
    expect(lp4.stoi).toBeGreaterThan(0.97);
    expect(lp4.stoi).toBeLessThan(1);
    expect(lp2.stoi).toBeLessThan(lp4.stoi - 0.05);
    expect(lp2.stoi).toBeGreaterThan(0.75);
    expect(lp2.estoi).toBeLessThan(lp4.estoi);
    // The hole fraction of a low-pass is the share of audible bins it removed.
    const share4 = audibleShare(x, rate, [[4000, rate / 2]]);
    expect(lp4.holeFraction).toBeGreaterThan(0.85 * share4);
    expect(lp4.holeFraction).toBeLessThanOrEqual(share4 + 0.01);
    // ... and the one-third-octave bands wholly above the cut (from 5.08 kHz) are band loss.
    const whole = audibleShare(x, rate, [[50 * 2 ** (20 / 3), rate / 2]]);
    console.log(`low-pass 4 kHz: band loss ${(100 * lp4.bandLoss).toFixed(1)} % (bands from 5.08 kHz: ${(100 * whole).toFixed(1)} % of the audible bins)`);
    expect(lp4.bandLoss).toBeGreaterThanOrEqual(0.99 * whole);
    expect(lp4.bandLoss).toBeLessThanOrEqual(lp4.holeFraction);
  });

  it('bands zeroed (spectral holes): the hole fraction is the zeroed share of the audible bins', () => {
    const bands: Array<[number, number]> = [[1000, 1500], [2500, 3500], [5000, 6000]];
    const y = removeBands(x, rate, bands);
    const share = audibleShare(x, rate, bands);
    // Window leakage from the strong bins beside a band keeps the bins near its edges from being
    // 30 dB down: the band's interior (100 Hz in from each edge) is the lower bound.
    const interior = audibleShare(x, rate, bands.map(([lo, hi]) => [lo + 100, hi - 100] as [number, number]));
    const m = all(y);
    console.log(`bands 1-1.5, 2.5-3.5, 5-6 kHz zeroed: audible share ${(100 * share).toFixed(1)} % (interiors ${(100 * interior).toFixed(1)} %), holes ${(100 * m.holeFraction).toFixed(1)} %, LSD ${m.lsdDb.toFixed(2)} dB, STOI ${m.stoi.toFixed(3)}`);
    expect(m.holeFraction).toBeGreaterThan(0.95 * interior);
    expect(m.holeFraction).toBeLessThanOrEqual(share + 0.01);
    // Band loss counts whole one-third-octave bands only; leakage from the strong bins beside a
    // zeroed band keeps a band that starts near its edge over the 30 dB line.
    console.log(`band loss ${(100 * m.bandLoss).toFixed(1)} %`);
    expect(m.bandLoss).toBeGreaterThan(0.02);
    expect(m.bandLoss).toBeLessThanOrEqual(m.holeFraction);
    expect(m.lsdDb).toBeGreaterThan(3);
    expect(m.stoi).toBeLessThan(0.99);
  });

  it('gain changes leave STOI and ESTOI unchanged (LSD reads the level change); a small time shift costs little, a large one a lot', () => {
    for (const g of [0.1, 0.5, 3]) {
      const y = x.map((v) => v * g);
      expect(Math.abs((stoi(x, y, rate) as number) - 1)).toBeLessThan(1e-9);
      expect(Math.abs((estoi(x, y, rate) as number) - 1)).toBeLessThan(1e-9);
      expect(spectralMeasures(x, y, rate).holeFraction).toBe(0);
      expect(spectralMeasures(x, y, rate).lsdDb).toBeGreaterThan(1);
    }
    const shifted = (d: number) => {
      const y = new Float32Array(x.length);
      y.set(x.subarray(0, x.length - d), d);
      return stoi(x, y, rate) as number;
    };
    const small = shifted(16); // 1 ms
    const large = shifted(1600); // 100 ms
    console.log(`time shift: 1 ms STOI ${small.toFixed(3)}, 100 ms STOI ${large.toFixed(3)}`);
    expect(small).toBeGreaterThan(0.97);
    expect(large).toBeLessThan(0.6);
  });

  it('the native hole fraction (audioQuality, the session per-frame check) is the same measure', () => {
    for (const y of [removeBands(x, rate, [[4000, rate / 2]]), removeBands(x, rate, [[1000, 1500], [2500, 3500]]), withNoise(x, 10, 3)]) {
      const js = spectralMeasures(x, y, rate) as { holeFraction: number; bandLoss: number };
      const q = audioQuality(x, y, rate);
      expect(Math.abs(q.holeFraction - js.holeFraction)).toBeLessThan(1e-6);
      expect(Math.abs(q.bandLoss - js.bandLoss)).toBeLessThan(1e-6);
    }
    const music = readWav(path.join(DATA, 'music', 'music-01.wav')) as { rate: number; channels: Float32Array[] };
    const m48 = (resampleTo(music.channels[0]!, music.rate, 48000) as Float32Array).subarray(0, 2 * 48000);
    const lp = removeBands(m48, 48000, [[8000, 24000]]);
    const js = spectralMeasures(m48, lp, 48000).holeFraction as number;
    expect(js).toBeGreaterThan(0.2);
    expect(Math.abs(audioQuality(m48, lp, 48000).holeFraction - js)).toBeLessThan(1e-6);
    // A band removed whole is band loss too; a codec's scattered empty bins mostly are not.
    expect(Math.abs((spectralMeasures(m48, lp, 48000).bandLoss as number) - js)).toBeLessThan(0.05);
  });
});
