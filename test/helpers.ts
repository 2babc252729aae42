// Shared helpers for the tests: fixture paths, and plain-JS reference implementations of the
// fixture graphs computed from weights.json (independently of ONNX Runtime).
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const fixtures = path.join(__dirname, 'fixtures');
export const fixture = (name: string): string => path.join(fixtures, name);

export const tinyModel = { name: 'tiny', encoder: fixture('tiny_encoder.onnx'), decoder: fixture('tiny_decoder.onnx') };

interface Weights {
  encoder: { w: number[]; b: number[] };
  decoder: { w: number[]; b: number[] };
}
const weights = JSON.parse(readFileSync(fixture('weights.json'), 'utf8')) as Weights;

/** Deterministic pseudo-random floats in [0, 1). */
export function randomImage(h: number, w: number, seed = 1): Float32Array {
  const out = new Float32Array(3 * h * w);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** tanh(conv 2x2 stride 2 (x) + b): [1,3,H,W] -> [1,4,H/2,W/2]. */
export function referenceEncode(x: Float32Array, h: number, w: number): Float32Array {
  const oh = h / 2;
  const ow = w / 2;
  const y = new Float32Array(4 * oh * ow);
  const { w: k, b } = weights.encoder;
  for (let o = 0; o < 4; o++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let acc = b[o]!;
        for (let c = 0; c < 3; c++) {
          for (let ky = 0; ky < 2; ky++) {
            for (let kx = 0; kx < 2; kx++) {
              acc += k[((o * 3 + c) * 2 + ky) * 2 + kx]! * x[(c * h + 2 * i + ky) * w + 2 * j + kx]!;
            }
          }
        }
        y[(o * oh + i) * ow + j] = Math.tanh(acc);
      }
    }
  }
  return y;
}

/** sigmoid(depth_to_space_DCR(conv1x1(latent) + b)): [1,4,h,w] -> [1,3,2h,2w]. */
export function referenceDecode(lat: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(3 * 4 * h * w);
  const { w: k, b } = weights.decoder;
  for (let d = 0; d < 12; d++) {
    // DCR: depth index d = (by * 2 + bx) * 3 + c
    const c = d % 3;
    const bx = Math.floor(d / 3) % 2;
    const by = Math.floor(d / 6);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let acc = b[d]!;
        for (let ci = 0; ci < 4; ci++) acc += k[d * 4 + ci]! * lat[(ci * h + i) * w + j]!;
        out[(c * 2 * h + 2 * i + by) * 2 * w + 2 * j + bx] = 1 / (1 + Math.exp(-acc));
      }
    }
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
