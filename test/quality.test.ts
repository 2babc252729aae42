// Quality measures through the public API, on known degradations.
import { describe, expect, it } from 'vitest';
import { AicError, audioQuality, imageQuality } from '../src/index.js';

function tone(rate: number, seconds: number): Float32Array {
  const x = new Float32Array(rate * seconds);
  for (let i = 0; i < x.length; i++) {
    const t = i / rate;
    x[i] = 0.3 * Math.sin(2 * Math.PI * 220 * t) * Math.sin(Math.PI * ((t * 3) % 1)) + 0.1 * Math.sin(2 * Math.PI * 1760 * t);
  }
  return x;
}

describe('audioQuality', () => {
  it('is 1 for identical audio and falls as noise grows', () => {
    const x = tone(16000, 1);
    expect(audioQuality(x, x, 16000).score).toBe(1);
    let last = 1;
    let seed = 1;
    for (const amp of [0.001, 0.01, 0.05, 0.2]) {
      const y = x.map((v) => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return v + amp * (seed / 2 ** 32 - 0.5);
      });
      const q = audioQuality(x, y, 16000);
      expect(q.score).toBeLessThan(last);
      expect(q.score).toBeGreaterThan(0);
      last = q.score;
    }
  });

  it('refuses bad input with INVALID_ARGUMENT', () => {
    const x = tone(16000, 1);
    expect(() => audioQuality(x, x.subarray(1), 16000)).toThrow(AicError);
    expect(() => audioQuality(x, new Float32Array(x.length).fill(NaN), 16000)).toThrow(/finite/);
    expect(() => audioQuality(x as never, Buffer.alloc(4) as never, 16000)).toThrow(/Float32Array/);
  });
});

describe('imageQuality', () => {
  it('measures PSNR, SSIM and MS-SSIM', () => {
    const a = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < a.length; i++) a[i] = (i * 7) % 251;
    const b = Buffer.from(a);
    for (let i = 0; i < b.length; i += 3) b[i] = Math.min(255, b[i]! + 8);
    const same = imageQuality(a, a, 64, 64);
    expect(same).toEqual({ psnr: 100, ssim: 1, worstTileSsim: 1, msssim: 1 });
    const q = imageQuality(a, b, 64, 64);
    expect(q.psnr).toBeLessThan(40);
    expect(q.ssim).toBeLessThan(1);
    expect(() => imageQuality(a, b.subarray(3), 64, 64)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
