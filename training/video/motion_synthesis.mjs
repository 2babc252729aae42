// Motion synthesised from still photos, for the inter model's training and tuning scripts
// (training/video/residual_transform.mjs, training/video/tune_decimation.mjs): seeded pans, zooms,
// moving crops and occlusions rendered at 640x360 by bilinear resampling, with sensor noise and
// lighting changes. residual_transform.mjs's header describes the sequences.

export const W = 640;
export const H = 360;

// ---------------------------------------------------------------- seeded randomness
function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export function makeRng(...keys) {
  let h = 0x811c9dc5;
  for (const k of keys) {
    h = Math.imul(h ^ (k | 0), 0x01000193);
    h ^= h >>> 13;
  }
  const u = mulberry32(h);
  let spare = null;
  const r = {
    u,
    range: (lo, hi) => lo + (hi - lo) * u(),
    sign: () => (u() < 0.5 ? -1 : 1),
    gauss() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let a;
      do a = u(); while (a <= 1e-12);
      const m = Math.sqrt(-2 * Math.log(a));
      const t = 2 * Math.PI * u();
      spare = m * Math.sin(t);
      return m * Math.cos(t);
    },
  };
  return r;
}

// ---------------------------------------------------------------- synthesis
/** Bilinear sample of an interleaved RGB image at (x, y) (pixel centres at integers), edge-clamped, into out[0..2]. */
function sample(img, iw, ih, x, y, out) {
  let x0 = Math.floor(x);
  let y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  let x1 = x0 + 1;
  let y1 = y0 + 1;
  x0 = x0 < 0 ? 0 : x0 >= iw ? iw - 1 : x0;
  x1 = x1 < 0 ? 0 : x1 >= iw ? iw - 1 : x1;
  y0 = y0 < 0 ? 0 : y0 >= ih ? ih - 1 : y0;
  y1 = y1 < 0 ? 0 : y1 >= ih ? ih - 1 : y1;
  const a = (y0 * iw + x0) * 3;
  const b = (y0 * iw + x1) * 3;
  const c = (y1 * iw + x0) * 3;
  const d = (y1 * iw + x1) * 3;
  const w00 = (1 - fx) * (1 - fy);
  const w01 = fx * (1 - fy);
  const w10 = (1 - fx) * fy;
  const w11 = fx * fy;
  for (let k = 0; k < 3; k++) out[k] = w00 * img[a + k] + w01 * img[b + k] + w10 * img[c + k] + w11 * img[d + k];
}

/**
 * One frame: planar R, G, B (Uint8Array W*H each). view: { cx, cy, s } maps frame pixel (u, v) to
 * working-image point (cx + (u - W/2 + 0.5) s - 0.5, ...); occ: null or { x, y, w, h, tx, ty }
 * (frame position of the rectangle, and where its texture comes from in the working image).
 */
function render(img, iw, ih, view, occ, gain, sigma, rng) {
  const planes = [new Uint8Array(W * H), new Uint8Array(W * H), new Uint8Array(W * H)];
  const px = [0, 0, 0];
  const ox0 = occ ? Math.round(occ.x) : 0;
  const oy0 = occ ? Math.round(occ.y) : 0;
  for (let v = 0; v < H; v++) {
    const inRows = occ && v >= oy0 && v < oy0 + occ.h;
    for (let u = 0; u < W; u++) {
      if (inRows && u >= ox0 && u < ox0 + occ.w) sample(img, iw, ih, occ.tx + (u - occ.x), occ.ty + (v - occ.y), px);
      else sample(img, iw, ih, view.cx + (u - W / 2 + 0.5) * view.s - 0.5, view.cy + (v - H / 2 + 0.5) * view.s - 0.5, px);
      const i = v * W + u;
      for (let k = 0; k < 3; k++) {
        const val = Math.round(px[k] * gain + sigma * rng.gauss());
        planes[k][i] = val < 0 ? 0 : val > 255 ? 255 : val;
      }
    }
  }
  return planes;
}

/** The views of a sequence's frames, kept inside the working image where the motion allows. */
function placeViews(iw, ih, scales, offsets, rng) {
  // offsets[k] = displacement of the centre from frame 0's; find the centres' feasible range.
  let loX = -Infinity;
  let hiX = Infinity;
  let loY = -Infinity;
  let hiY = Infinity;
  for (let k = 0; k < scales.length; k++) {
    const hw = (W / 2) * scales[k] + 1;
    const hh = (H / 2) * scales[k] + 1;
    loX = Math.max(loX, hw - offsets[k][0]);
    hiX = Math.min(hiX, iw - hw - offsets[k][0]);
    loY = Math.max(loY, hh - offsets[k][1]);
    hiY = Math.min(hiY, ih - hh - offsets[k][1]);
  }
  const cx0 = loX <= hiX ? rng.range(loX, hiX) : iw / 2;
  const cy0 = loY <= hiY ? rng.range(loY, hiY) : ih / 2;
  return scales.map((s, k) => ({ cx: cx0 + offsets[k][0], cy: cy0 + offsets[k][1], s }));
}

export const KINDS = ['pan', 'zoom', 'crop', 'occlusion'];

export function sequence(kind, img, iw, ih, frames, rng) {
  const scales = [];
  const offsets = [];
  let occs = null;
  if (kind === 'pan') {
    const s = rng.range(0.95, 1.1);
    const vx = rng.range(-6, 6);
    const vy = rng.range(-6, 6);
    for (let k = 0; k < frames; k++) {
      scales.push(s);
      offsets.push([vx * k * s, vy * k * s]);
    }
  } else if (kind === 'zoom') {
    const rate = rng.range(0.01, 0.03);
    const dir = rng.sign();
    const s0 = dir > 0 ? rng.range(0.9, 1.0) : rng.range(1.0, 1.05); // zoom in: the view shrinks
    const dx = rng.range(-1, 1);
    const dy = rng.range(-1, 1);
    for (let k = 0; k < frames; k++) {
      scales.push(s0 * (1 + rate) ** (-dir * k));
      offsets.push([dx * k, dy * k]);
    }
  } else if (kind === 'crop') {
    let vx = rng.range(-4, 4);
    let vy = rng.range(-4, 4);
    let x = 0;
    let y = 0;
    for (let k = 0; k < frames; k++) {
      scales.push(1);
      offsets.push([x, y]);
      vx = Math.max(-8, Math.min(8, vx + 1.5 * rng.gauss()));
      vy = Math.max(-8, Math.min(8, vy + 1.5 * rng.gauss()));
      x += Math.round(vx);
      y += Math.round(vy);
    }
  } else {
    const s = rng.range(0.95, 1.1);
    const vx = rng.range(-1.5, 1.5);
    const vy = rng.range(-1.5, 1.5);
    for (let k = 0; k < frames; k++) {
      scales.push(s);
      offsets.push([vx * k, vy * k]);
    }
    const w = Math.round(rng.range(64, 192));
    const h = Math.round(rng.range(48, 144));
    const speed = rng.range(2, 8);
    const angle = rng.range(0, 2 * Math.PI);
    const ovx = speed * Math.cos(angle);
    const ovy = speed * Math.sin(angle);
    // start so that the rectangle's path crosses the middle of the frame half-way through
    const mid = (frames - 1) / 2;
    const x0 = rng.range(W * 0.25, W * 0.75) - w / 2 - ovx * mid;
    const y0 = rng.range(H * 0.25, H * 0.75) - h / 2 - ovy * mid;
    const tx = rng.range(0, Math.max(0, iw - w));
    const ty = rng.range(0, Math.max(0, ih - h));
    occs = [];
    for (let k = 0; k < frames; k++) occs.push({ x: x0 + ovx * k, y: y0 + ovy * k, w, h, tx, ty });
  }
  const views = placeViews(iw, ih, scales, offsets, rng);
  const sigma = rng.range(1, 4);
  const lighting = rng.u() < 0.5;
  let gain = 1;
  const out = [];
  for (let k = 0; k < frames; k++) {
    if (k > 0 && lighting) gain *= rng.range(0.97, 1.03);
    out.push(render(img, iw, ih, views[k], occs ? occs[k] : null, gain, sigma, rng));
  }
  return { frames: out, sigma, lighting };
}

