// WAV reading and writing for the CLI (PCM 8/16/24/32-bit integer and 32/64-bit float, any rate,
// any channel count: more than two are downmixed to stereo), and a windowed-sinc resampler for
// rates the codec does not take (44.1 kHz and the like).
import { readFileSync, writeFileSync } from 'node:fs';
import { SUPPORTED_AUDIO_RATES } from '../audio-codec.js';
import { CliError, fsError } from './errors.js';

export interface Wav {
  sampleRate: number;
  /** Planar samples in [-1, 1]. */
  channels: Float32Array[];
  /** 's16' for 16-bit (and 8-bit) PCM, 'f32' for anything written back best as float. */
  sampleFormat: 's16' | 'f32';
}

export interface ReadWav extends Wav {
  /** Channels in the file; more than two were downmixed to the two in `channels`. */
  sourceChannels: number;
}

function bad(message: string): never {
  throw new CliError('CORRUPT_INPUT', message);
}

// WAVE speaker positions in channel order (dwChannelMask bits), and where each goes in a stereo
// downmix: [gain into left, gain into right]. LFE is left out, as in the usual ITU-R BS.775 mix.
const C = Math.SQRT1_2;
const SPEAKERS: [number, number][] = [
  [1, 0], // front left
  [0, 1], // front right
  [C, C], // front centre
  [0, 0], // LFE
  [C, 0], // back left
  [0, C], // back right
  [1, 0], // front left of centre
  [0, 1], // front right of centre
  [C, C], // back centre
  [C, 0], // side left
  [0, C], // side right
  [C, C], // top centre
  [C, 0], // top front left
  [C, C], // top front centre
  [0, C], // top front right
  [C, 0], // top back left
  [C, C], // top back centre
  [0, C], // top back right
];

/** Per channel [left, right] downmix gains, from the channel mask (or the default WAVE order). */
function downmixGains(channels: number, mask: number): [number, number][] {
  const positions: number[] = [];
  for (let bit = 0; bit < 32 && positions.length < channels; bit++) if (mask & (1 << bit)) positions.push(bit);
  // No mask, or fewer bits than channels: the default order, then anything beyond it to both sides.
  if (positions.length < channels) {
    positions.length = 0;
    for (let i = 0; i < channels; i++) positions.push(i);
  }
  const gains = positions.map((p) => SPEAKERS[p] ?? ([C, C] as [number, number]));
  // Scale so that no mix can exceed full scale.
  const sumL = gains.reduce((a, g) => a + g[0], 0);
  const sumR = gains.reduce((a, g) => a + g[1], 0);
  const norm = Math.max(1, sumL, sumR);
  return gains.map(([l, r]) => [l / norm, r / norm]);
}

export function readWav(path: string): ReadWav {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (error) {
    throw fsError(error, path, false);
  }
  if (b.length < 12 || b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') bad(`${path} is not a WAV file`);
  let off = 12;
  let fmt: { tag: number; channels: number; rate: number; bits: number; mask: number } | undefined;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > b.length) bad(`${path}: the format chunk is cut short`);
      let tag = b.readUInt16LE(body);
      let mask = 0;
      if (tag === 0xfffe && size >= 26 && body + 26 <= b.length) {
        mask = b.readUInt32LE(body + 20);
        tag = b.readUInt16LE(body + 24); // WAVE_FORMAT_EXTENSIBLE: the sub-format
      }
      fmt = { tag, channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14), mask };
    } else if (id === 'data') {
      if (!fmt) bad(`${path}: the data chunk comes before the format chunk`);
      const { tag, channels, rate, bits } = fmt;
      if (channels < 1) bad(`${path}: no channels`);
      if (!(rate >= 1000 && rate <= 384000)) bad(`${path}: sample rate ${rate} Hz is out of range`);
      const width = bits / 8;
      const isFloat = tag === 3;
      if (!((tag === 1 && [8, 16, 24, 32].includes(bits)) || (isFloat && (bits === 32 || bits === 64)))) {
        throw new CliError('UNSUPPORTED_INPUT', `${path}: WAV format ${tag} with ${bits}-bit samples is not supported (PCM 8/16/24/32-bit or float 32/64-bit)`);
      }
      const frames = Math.floor(Math.min(size, b.length - body) / (width * channels));
      if (frames === 0) throw new CliError('EMPTY_INPUT', `${path} holds no samples`);
      const keep = Math.min(channels, 2);
      const gains = channels > 2 ? downmixGains(channels, fmt.mask) : null;
      const out = Array.from({ length: keep }, () => new Float32Array(frames));
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < channels; c++) {
          const p = body + (i * channels + c) * width;
          let v: number;
          if (isFloat) v = bits === 32 ? b.readFloatLE(p) : b.readDoubleLE(p);
          else if (bits === 8) v = (b[p]! - 128) / 128;
          else if (bits === 16) v = b.readInt16LE(p) / 32768;
          else if (bits === 24) v = b.readIntLE(p, 3) / 8388608;
          else v = b.readInt32LE(p) / 2147483648;
          v = Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0;
          if (gains) {
            out[0]![i]! += gains[c]![0] * v;
            out[1]![i]! += gains[c]![1] * v;
          } else out[c]![i] = v;
        }
      }
      return { sampleRate: rate, channels: out, sampleFormat: !isFloat && bits <= 16 ? 's16' : 'f32', sourceChannels: channels };
    }
    off = body + size + (size & 1);
  }
  bad(`${path}: no data chunk`);
}

export function writeWav(path: string, wav: Wav): void {
  const ch = wav.channels.length;
  const n = wav.channels[0]?.length ?? 0;
  const width = wav.sampleFormat === 's16' ? 2 : 4;
  const b = Buffer.alloc(44 + n * ch * width);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + n * ch * width, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(wav.sampleFormat === 's16' ? 1 : 3, 20);
  b.writeUInt16LE(ch, 22);
  b.writeUInt32LE(wav.sampleRate, 24);
  b.writeUInt32LE(wav.sampleRate * ch * width, 28);
  b.writeUInt16LE(ch * width, 32);
  b.writeUInt16LE(width * 8, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(n * ch * width, 40);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < ch; c++) {
      const v = wav.channels[c]![i]!;
      const p = 44 + (i * ch + c) * width;
      if (width === 2) b.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32768))), p);
      else b.writeFloatLE(v, p);
    }
  writeFileSync(path, b);
}

/** The codec rate a stream of `rate` Hz is coded at: itself when supported, else the next one up (at most 48 kHz). */
export function codedRate(rate: number): number {
  for (const r of SUPPORTED_AUDIO_RATES) if (rate <= r) return r;
  return 48000;
}

/** Band-limited resampling by any ratio: a Kaiser-windowed (beta 8) sinc of 32 taps at the lower rate's cutoff, tabulated. */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x;
  const ratio = to / from;
  const cutoff = Math.min(1, ratio) * 0.94;
  const span = 16 / cutoff; // kernel half-width in input samples
  const steps = 512; // table entries per input sample
  const bessel = (v: number) => {
    let sum = 1;
    let term = 1;
    for (let k = 1; k < 30; k++) {
      term *= (v / (2 * k)) ** 2;
      sum += term;
    }
    return sum;
  };
  const table = new Float64Array(Math.ceil(span * steps) + 2);
  for (let k = 0; k < table.length; k++) {
    const d = k / steps;
    const u = Math.min(1, d / span);
    const arg = Math.PI * cutoff * d;
    table[k] = (d === 0 ? cutoff : (cutoff * Math.sin(arg)) / arg) * (bessel(8 * Math.sqrt(1 - u * u)) / bessel(8));
  }
  const out = new Float32Array(Math.round(x.length * ratio));
  for (let i = 0; i < out.length; i++) {
    const t = i / ratio;
    let acc = 0;
    for (let j = Math.max(0, Math.ceil(t - span)); j <= Math.min(x.length - 1, Math.floor(t + span)); j++) {
      const p = Math.abs(t - j) * steps;
      const k = Math.floor(p);
      acc += x[j]! * (table[k]! + (p - k) * (table[k + 1]! - table[k]!));
    }
    out[i] = acc;
  }
  return out;
}
