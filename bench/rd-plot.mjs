// A small SVG line plot of rate-quality curves: one panel per quality measure, bpp on x (or any
// `xKey`; `xLog: true` puts it on a log scale, ticks at 1, 2, 5 of each decade). A series may
// have a `dash` (an SVG stroke-dasharray).
export function renderRdPlot({ title, panels, series, xLabel = 'bits per pixel', xKey = 'bpp', xLog = false }) {
  const W = 520;
  const H = 380;
  const m = { l: 60, r: 20, t: 40, b: 50 };
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [];
  panels.forEach((panel, pi) => {
    const ox = pi * W;
    const all = series.flatMap((s) => s.points);
    const xs = all.map((p) => p[xKey]);
    const ys = all.map((p) => p[panel.key]);
    const x0 = xLog ? Math.min(...xs) / 1.1 : 0;
    const x1 = Math.max(...xs) * (xLog ? 1.1 : 1.05);
    const y0 = Math.floor(Math.min(...ys));
    const y1 = Math.ceil(Math.max(...ys));
    const fx = xLog ? (v) => Math.log(v) : (v) => v;
    const sx = (v) => ox + m.l + ((fx(v) - fx(x0)) / (fx(x1) - fx(x0))) * (W - m.l - m.r);
    const sy = (v) => m.t + (1 - (v - y0) / (y1 - y0)) * (H - m.t - m.b);
    parts.push(`<rect x="${ox + m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#999"/>`);
    const xTicks = [];
    if (xLog) {
      for (let d = 10 ** Math.floor(Math.log10(x0)); d <= x1; d *= 10) for (const k of [1, 2, 5]) if (k * d >= x0 && k * d <= x1) xTicks.push(k * d);
    } else {
      for (let i = 0; i <= 5; i++) xTicks.push(x0 + ((x1 - x0) * i) / 5);
    }
    for (const xv of xTicks) {
      parts.push(`<line x1="${sx(xv)}" y1="${m.t}" x2="${sx(xv)}" y2="${H - m.b}" stroke="#eee"/>`);
      parts.push(`<text x="${sx(xv)}" y="${H - m.b + 16}" font-size="11" text-anchor="middle">${xLog ? String(+xv.toPrecision(3)) : xv.toFixed(2)}</text>`);
    }
    for (let i = 0; i <= 5; i++) {
      const yv = y0 + ((y1 - y0) * i) / 5;
      parts.push(`<line x1="${ox + m.l}" y1="${sy(yv)}" x2="${ox + W - m.r}" y2="${sy(yv)}" stroke="#eee"/>`);
      parts.push(`<text x="${ox + m.l - 6}" y="${sy(yv) + 4}" font-size="11" text-anchor="end">${yv.toFixed(1)}</text>`);
    }
    parts.push(`<text x="${ox + W / 2}" y="${H - 12}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`);
    parts.push(`<text x="${ox + 16}" y="${m.t + (H - m.t - m.b) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 ${ox + 16} ${m.t + (H - m.t - m.b) / 2})">${esc(panel.yLabel)}</text>`);
    series.forEach((s, si) => {
      const pts = [...s.points].sort((a, b) => a[xKey] - b[xKey]);
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts.map((p) => `${sx(p[xKey]).toFixed(1)},${sy(p[panel.key]).toFixed(1)}`).join(' ')}"/>`);
      for (const p of pts) parts.push(`<circle cx="${sx(p[xKey]).toFixed(1)}" cy="${sy(p[panel.key]).toFixed(1)}" r="3" fill="${s.color}"/>`);
      if (pi === 0) {
        parts.push(`<rect x="${ox + m.l + 12}" y="${m.t + 10 + si * 18}" width="12" height="3" fill="${s.color}"/>`);
        parts.push(`<text x="${ox + m.l + 30}" y="${m.t + 15 + si * 18}" font-size="12">${esc(s.name)}</text>`);
      }
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${(W * panels.length) / 2}" y="22" font-size="15" text-anchor="middle">${esc(title)}</text>
${parts.join('\n')}
</svg>
`;
}
