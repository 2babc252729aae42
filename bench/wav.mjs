// Minimal WAV reading/writing (PCM 16-bit and float 32) and resampling for the audio benchmarks.
import { readFileSync, writeFileSync } from 'node:fs';

/** Reads a WAV file into per-channel Float32Arrays. */
export function readWav(path) {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let off = 12;
  let fmt;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { format: b.readUInt16LE(body), channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error(`${path}: data before fmt`);
      const bytes = fmt.bits / 8;
      const frames = Math.floor(Math.min(size, b.length - body) / (bytes * fmt.channels));
      const chans = Array.from({ length: fmt.channels }, () => new Float32Array(frames));
      for (let i = 0; i < frames; i++) {
        for (let c = 0; c < fmt.channels; c++) {
          const p = body + (i * fmt.channels + c) * bytes;
          chans[c][i] = fmt.bits === 16 ? b.readInt16LE(p) / 32768 : fmt.format === 3 ? b.readFloatLE(p) : b.readInt32LE(p) / 2147483648;
        }
      }
      return { rate: fmt.rate, channels: chans };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

export function writeWav16(path, rate, samples) {
  const b = Buffer.alloc(44 + samples.length * 2);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + samples.length * 2, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 44 + i * 2);
  writeFileSync(path, b);
}

/** Windowed-sinc (Kaiser) resampling of a whole signal to another rate. */
export function resample(x, from, to) {
  if (from === to) return x;
  const ratio = to / from;
  const cutoff = Math.min(1, ratio) * 0.45; // cycles per input sample
  const half = 32;
  const n = Math.floor(x.length * ratio);
  const y = new Float32Array(n);
  const i0 = (v) => {
    let s = 1;
    let t = 1;
    for (let k = 1; k < 25; k++) {
      t *= (v / (2 * k)) ** 2;
      s += t;
    }
    return s;
  };
  const beta = 8;
  const norm = i0(beta);
  for (let j = 0; j < n; j++) {
    const center = j / ratio;
    const lo = Math.ceil(center - half / Math.min(1, ratio));
    const hi = Math.floor(center + half / Math.min(1, ratio));
    let acc = 0;
    let wsum = 0;
    for (let k = lo; k <= hi; k++) {
      if (k < 0 || k >= x.length) continue;
      const d = k - center;
      const r = d / (half / Math.min(1, ratio));
      if (Math.abs(r) > 1) continue;
      const sinc = d === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * d) / (Math.PI * d);
      const w = (i0(beta * Math.sqrt(1 - r * r)) / norm) * sinc;
      acc += w * x[k];
      wsum += w;
    }
    y[j] = wsum ? acc / wsum : 0;
  }
  return y;
}
