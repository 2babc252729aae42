// GET /dashboard: a live page for the signed-in user: sessions, compression ratio and quality over
// the last 15 minutes, latency p50/p95/p99, fallbacks by reason, bandwidth saved. The page itself is a static
// shell with no user data in it; everything it shows comes from the same Bearer-token API as
// everyone else's calls (GET /api/v1/aic/metrics for history, GET /api/v1/aic/live for the open
// sessions), so it reads only the signed-in user's rows. The token is given in the URL fragment
// (#token=..., which browsers never send to the server) or pasted into the page, and kept in
// sessionStorage. Charts are drawn as inline SVG by the page's own script: nothing is fetched from
// anywhere else.
import type { IncomingMessage, ServerResponse } from 'node:http';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>AI Core dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 20px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header .who { opacity: .8; }
  main { display: grid; grid-template-columns: repeat(3, 1fr); gap: 14px; padding: 16px 20px; }
  section { background: #fff; border-radius: 8px; padding: 12px 14px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  section.wide { grid-column: span 2; }
  h2 { font-size: 13px; margin: 0 0 8px; color: #5b6578; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
  .big { font-size: 28px; font-weight: 600; }
  .sub { color: #5b6578; font-size: 12px; }
  svg { width: 100%; height: 160px; display: block; }
  table { border-collapse: collapse; width: 100%; }
  td { padding: 3px 4px; border-bottom: 1px solid #eef0f3; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  #login { padding: 40px; }
  #error { color: #b3261e; padding: 0 20px; }
</style>
</head>
<body>
<header><h1>AI Core</h1><span class="who" id="who"></span><span class="sub" id="updated"></span></header>
<div id="error"></div>
<div id="login" hidden>
  <p>Paste your access token (a JWT) to see your sessions and metrics.</p>
  <input id="token" size="80" autocomplete="off"> <button id="go">Show</button>
</div>
<main id="board" hidden>
  <section><h2>Sessions</h2><div class="big" id="sessions">–</div><div class="sub" id="sessions-sub"></div></section>
  <section><h2>Bandwidth saved</h2><div class="big" id="saved">–</div><div class="sub" id="saved-sub"></div></section>
  <section><h2>Latency (open sessions)</h2><table id="latency"></table></section>
  <section class="wide"><h2>Compression ratio, last 15 min</h2><svg id="ratio-chart" viewBox="0 0 600 160" preserveAspectRatio="none"></svg></section>
  <section><h2>Fallbacks by reason</h2><svg id="fallback-chart" viewBox="0 0 300 160" preserveAspectRatio="none"></svg><table id="fallbacks"></table></section>
  <section class="wide"><h2>Quality score, last 15 min</h2><svg id="quality-chart" viewBox="0 0 600 160" preserveAspectRatio="none"></svg></section>
  <section><h2>Frames</h2><div class="big" id="frames">–</div><div class="sub" id="frames-sub"></div></section>
</main>
<script>
"use strict";
const NS = 'http://www.w3.org/2000/svg';
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) { sessionStorage.setItem('aicToken', fromHash); history.replaceState(null, '', location.pathname); }
let token = sessionStorage.getItem('aicToken');
const $ = (id) => document.getElementById(id);
function bytes(n) { const u = ['B', 'kB', 'MB', 'GB', 'TB']; let i = 0; while (Math.abs(n) >= 1000 && i < u.length - 1) { n /= 1000; i++; } return n.toFixed(i ? 1 : 0) + ' ' + u[i]; }
function el(name, attrs) { const e = document.createElementNS(NS, name); for (const k in attrs) e.setAttribute(k, attrs[k]); return e; }
function lineChart(svg, points, color, lo, hi) {
  svg.replaceChildren();
  const w = 600, h = 160, pad = 18;
  for (const v of [lo, (lo + hi) / 2, hi]) {
    const y = h - pad - ((v - lo) / (hi - lo)) * (h - 2 * pad);
    svg.append(el('line', { x1: 30, x2: w, y1: y, y2: y, stroke: '#e3e6eb' }));
    const t = el('text', { x: 0, y: y + 4, 'font-size': 11, fill: '#5b6578' }); t.textContent = v.toFixed(2); svg.append(t);
  }
  if (points.length === 0) { const t = el('text', { x: 250, y: 80, fill: '#5b6578' }); t.textContent = 'no data in range'; svg.append(t); return; }
  const t0 = points[0][0], t1 = points[points.length - 1][0] || t0 + 1;
  const xy = points.map(([t, v]) => [30 + (points.length === 1 ? (w - 30) / 2 : ((t - t0) / (t1 - t0 || 1)) * (w - 40)), h - pad - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - 2 * pad)]);
  svg.append(el('polyline', { points: xy.map((p) => p.join(',')).join(' '), fill: 'none', stroke: color, 'stroke-width': 3, 'data-points': points.length }));
  for (const [x, y] of xy) svg.append(el('circle', { cx: x, cy: y, r: 4, fill: color }));
}
function barChart(svg, entries, color) {
  svg.replaceChildren();
  const max = Math.max(1, ...entries.map((e) => e[1]));
  const bw = 300 / Math.max(1, entries.length);
  entries.forEach(([name, v], i) => {
    const hgt = (v / max) * 120;
    svg.append(el('rect', { x: i * bw + 6, y: 140 - hgt, width: bw - 12, height: Math.max(hgt, v > 0 ? 2 : 0), fill: color, 'data-value': v }));
    const t = el('text', { x: i * bw + 6, y: 155, 'font-size': 11, fill: '#5b6578' }); t.textContent = name === 'model_unavailable' ? 'no model' : name; svg.append(t);
  });
}
async function api(path) {
  const res = await fetch(path, { headers: { authorization: 'Bearer ' + token } });
  if (res.status === 401 || res.status === 403) { sessionStorage.removeItem('aicToken'); token = null; throw new Error('the token was refused: ' + (await res.json()).error); }
  if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
  return res.json();
}
async function refresh() {
  try {
    // The last 15 minutes in 15 s buckets: a live view, not a report.
    const to = new Date(), from = new Date(to.getTime() - 900e3);
    const [hist, live] = await Promise.all([api('/api/v1/aic/metrics?from=' + from.toISOString() + '&to=' + to.toISOString() + '&bucketSeconds=15'), api('/api/v1/aic/live')]);
    const m = hist.metrics, tot = m ? m.totals : null;
    $('who').textContent = 'signed in as ' + live.userId;
    $('sessions').textContent = String(live.openSessions);
    $('sessions-sub').textContent = m ? m.sessions.total + ' in the last 15 min, ' + m.sessions.modeChanges + ' mode changes' : '';
    $('saved').textContent = bytes(tot ? tot.bandwidthSavedBytes : live.bandwidthSavedBytes);
    $('saved-sub').textContent = tot && tot.compressionRatio != null ? 'ratio ' + (100 * tot.compressionRatio).toFixed(1) + ' % over the last 15 min' : '';
    $('frames').textContent = String(tot ? tot.frames : live.frames);
    $('frames-sub').textContent = tot && tot.fallbackRate != null ? (100 * tot.fallbackRate).toFixed(1) + ' % fell back' : '';
    $('latency').replaceChildren(...['p50', 'p95', 'p99'].map((p) => { const tr = document.createElement('tr'); tr.innerHTML = '<td>' + p + '</td><td class="n">' + (live.latencyMs[p] == null ? '–' : live.latencyMs[p].toFixed(1) + ' ms') + '</td>'; return tr; }));
    const series = m ? m.series : [];
    lineChart($('ratio-chart'), series.filter((b) => b.compressionRatio != null).map((b) => [Date.parse(b.start), b.compressionRatio]), '#1f6feb', 0, 1);
    lineChart($('quality-chart'), series.filter((b) => b.qualityScore != null).map((b) => [Date.parse(b.start), b.qualityScore]), '#2da44e', 0.5, 1);
    const reasons = Object.entries(live.fallbacks);
    barChart($('fallback-chart'), reasons, '#d4a72c');
    $('fallbacks').replaceChildren(...reasons.map(([r, n]) => { const tr = document.createElement('tr'); tr.innerHTML = '<td>' + r + '</td><td class="n">' + n + '</td>'; return tr; }));
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    $('error').textContent = '';
    document.body.dataset.rendered = String(series.length);
  } catch (e) {
    $('error').textContent = e.message;
    if (!token) show();
  }
}
function show() {
  $('login').hidden = !!token; $('board').hidden = !token;
  if (token) { refresh(); }
}
$('go').onclick = () => { token = $('token').value.trim(); sessionStorage.setItem('aicToken', token); show(); };
show();
setInterval(() => { if (token) refresh(); }, 5000);
</script>
</body>
</html>
`;

/** The dashboard's routes, for HttpServer's `extra` hook. */
export function dashboardRoutes(): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> {
  return async (req, res, url) => {
    if (req.method !== 'GET' || (url.pathname !== '/dashboard' && url.pathname !== '/dashboard/')) return false;
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The page runs only its own inline script and talks only to this service.
      'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      'referrer-policy': 'no-referrer',
    });
    res.end(PAGE);
    return true;
  };
}
