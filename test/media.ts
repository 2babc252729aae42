// Test media made in code (tests never read ../shared/data): a photo-like frame, a speech-like
// signal, and the helpers that turn them into what the API takes.
import { expect } from 'vitest';
import { AicError } from '../src/index.js';

/** A deterministic photo-like test frame: gradients, edges, a disc and some texture. */
export function syntheticFrame(width: number, height: number, channels = 3): Buffer {
  const buf = Buffer.alloc(width * height * channels);
  let s = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const noise = ((s >>> 16) % 9) - 4;
      const inDisc = (x - width * 0.6) ** 2 + (y - height * 0.4) ** 2 < (Math.min(width, height) * 0.25) ** 2;
      const r = inDisc ? 220 : (x / width) * 200 + 20;
      const g = inDisc ? 60 : (y / height) * 180 + 30;
      const b = x > width / 3 && x < width / 2 ? 200 : 90 + 40 * Math.sin(x / 5);
      const i = (y * width + x) * channels;
      buf[i] = Math.max(0, Math.min(255, Math.round(r + noise)));
      buf[i + 1] = Math.max(0, Math.min(255, Math.round(g + noise)));
      buf[i + 2] = Math.max(0, Math.min(255, Math.round(b + noise)));
      if (channels === 4) buf[i + 3] = 128;
    }
  }
  return buf;
}

export async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<AicError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(AicError);
    return e as AicError;
  }
  throw new Error('expected an AicError');
}

/** A speech-like test signal: a gliding harmonic tone with a syllable envelope, mono float. */
export function speechLike(rate: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  let phase = 0;
  for (let i = 0; i < x.length; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (140 + 40 * Math.sin(2 * Math.PI * 0.7 * t))) / rate;
    const env = Math.sin(Math.PI * ((t * 4) % 1)) ** 2;
    let v = 0;
    for (let h = 1; h <= 12; h++) v += Math.sin(h * phase) / h;
    x[i] = 0.25 * env * v;
  }
  return x;
}

export function toS16(x: Float32Array, channels = 1): Buffer {
  const b = Buffer.alloc(x.length * 2 * channels);
  for (let i = 0; i < x.length; i++) for (let c = 0; c < channels; c++) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x[i]! * (c ? 0.5 : 1))) * 32767), (i * channels + c) * 2);
  return b;
}
