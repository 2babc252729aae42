// Bjøntegaard delta rate (VCEG-M33): the average bitrate difference of a test codec against an
// anchor at equal quality, from cubic fits of log-rate as a function of quality, integrated over
// the quality range both curves cover. Negative = the test codec needs fewer bits.

/** Least-squares polynomial fit of degree `deg`: coefficients c0..cdeg of y = sum c_i x^i. */
export function polyfit(xs, ys, deg) {
  const n = deg + 1;
  const a = Array.from({ length: n }, () => new Array(n + 1).fill(0));
  for (let k = 0; k < xs.length; k++) {
    const pw = [];
    for (let i = 0; i < 2 * n; i++) pw.push(xs[k] ** i);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) a[r][c] += pw[r + c];
      a[r][n] += ys[k] * pw[r];
    }
  }
  // Gaussian elimination with partial pivoting
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
    [a[col], a[piv]] = [a[piv], a[col]];
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r][col] / a[col][col];
      for (let c = col; c <= n; c++) a[r][c] -= f * a[col][c];
    }
  }
  return a.map((row, i) => row[n] / row[i]);
}

function integrate(coeffs, lo, hi) {
  let s = 0;
  coeffs.forEach((c, i) => {
    s += (c / (i + 1)) * (hi ** (i + 1) - lo ** (i + 1));
  });
  return s;
}

/**
 * BD-rate in percent of `test` against `anchor`, each an array of { rate, quality } (rate in bpp
 * or kbit/s, quality in dB). Returns null when the quality ranges do not overlap.
 */
export function bdRate(anchor, test) {
  const fit = (pts) => {
    const deg = Math.min(3, pts.length - 1);
    return polyfit(pts.map((p) => p.quality), pts.map((p) => Math.log10(p.rate)), deg);
  };
  const lo = Math.max(Math.min(...anchor.map((p) => p.quality)), Math.min(...test.map((p) => p.quality)));
  const hi = Math.min(Math.max(...anchor.map((p) => p.quality)), Math.max(...test.map((p) => p.quality)));
  if (!(hi > lo)) return null;
  const avgDiff = (integrate(fit(test), lo, hi) - integrate(fit(anchor), lo, hi)) / (hi - lo);
  return (10 ** avgDiff - 1) * 100;
}

/** Quality of a rate-quality curve at `rate`, by linear interpolation in log-rate (null outside). */
export function qualityAt(curve, rate) {
  const pts = [...curve].sort((a, b) => a.rate - b.rate);
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i];
    const b = pts[i + 1];
    if (rate >= a.rate && rate <= b.rate) {
      const t = (Math.log(rate) - Math.log(a.rate)) / (Math.log(b.rate) - Math.log(a.rate) || 1);
      return a.quality + t * (b.quality - a.quality);
    }
  }
  return null;
}
