// Writes the results section of docs/video-codec.md from the JSON of bench/eval-video.mjs: the
// part between `<!-- results:begin -->` and `<!-- results:end -->` is replaced, the prose around it
// is kept.
//
// With --plot OUT.svg it also redraws the plots from the JSON (bench/video-plots.mjs).
//
//   node bench/video-report.mjs [--json docs/results/video-eval.json] [--doc docs/video-codec.md]
//                               [--plots results/video-eval] [--plot docs/results/video-eval.svg]
import { readFileSync, writeFileSync } from 'node:fs';
import { arg } from './args.mjs';
import { writeVideoPlots } from './video-plots.mjs';

const jsonPath = arg('json', 'docs/results/video-eval.json');
const docPath = arg('doc', 'docs/video-codec.md');
// Plot files as the doc links them (relative to the doc): PREFIX-<clip>-<WxH>.svg
const plotPrefix = arg('plots', 'results/video-eval');
const r = JSON.parse(readFileSync(jsonPath, 'utf8'));
if (arg('plot')) console.log(`plots: ${writeVideoPlots(r, arg('plot')).join(', ')}`);

const f = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
const pct = (v) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : `${v > 0 ? '+' : ''}${v.toFixed(1)} %`);
const signed = (v, d = 2) => {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  const t = v.toFixed(d);
  return Number(t) === 0 ? (0).toFixed(d) : `${v > 0 ? '+' : ''}${t}`;
};
const table = (header, rows, align) => [`| ${header.join(' | ')} |`, `|${(align ?? header.map((_, i) => (i === 0 ? ':--' : '--:'))).join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
/**
 * The rate (kbit/s) at which a codec's curve reaches `quality` (its points by rate, those that
 * improve on every cheaper one), by linear interpolation of log rate in quality: { kbps, below }
 * where `below` says the curve's cheapest point is already better (so the rate is at most that);
 * null above the curve.
 */
function rateAt(points, key, quality) {
  const c = [];
  for (const p of [...points].sort((a, b) => a.kbps - b.kbps)) if (!c.length || p[key] > c[c.length - 1][key]) c.push(p);
  if (c.length && quality < c[0][key]) return { kbps: c[0].kbps, below: true };
  for (let i = 0; i + 1 < c.length; i++) {
    const a = c[i];
    const b = c[i + 1];
    if (quality >= a[key] && quality <= b[key]) {
      const t = (quality - a[key]) / (b[key] - a[key] || 1);
      return { kbps: Math.exp(Math.log(a.kbps) + t * (Math.log(b.kbps) - Math.log(a.kbps))), below: false };
    }
  }
  return null;
}
/** "x264 kbit/s (ours ÷ it)" for a rate from rateAt. */
const atRate = (ours, at) => (at === null ? 'n/a (above its curve)' : at.below ? `< ${at.kbps.toFixed(0)} (> ${(ours / at.kbps).toFixed(1)}×)` : `${at.kbps.toFixed(0)} (${(ours / at.kbps).toFixed(1)}×)`);
const runName = (run) => `${run.clip} ${run.width}x${run.height}`;
const clipName = (clip) => clip.replace(/\.[^.]+$/, '');

const out = [];
const m = r.machine;
const o = r.options;
const frameText = [...new Set(r.runs.map((x) => `${x.width}x${x.height}: ${x.frames} frames`))].join(', ');
out.push(`- **Command:** \`${r.command}\`, then \`node bench/video-report.mjs\` for this section`);
out.push(`- **Date:** ${r.date}`);
out.push(`- **Machine:** ${m.cpu} × ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, load average at the end ${m.loadAverageAtEnd.join(' / ')} (shared with other work: times are noisy); Node ${m.node}; ONNX Runtime ${m.onnxRuntime} (${m.executionProvider}, ${m.intraOpThreads} intra-op threads); ${m.ffmpeg}${m.debianPackages ? ` (${m.debianPackages.join(', ')})` : ''}`);
out.push(`- **Model:** ${r.model.name}@${r.model.version}, ${r.model.levels} levels`);
out.push(`- **Clips:** ${o.clips.map((c) => `\`${c}\``).join(', ')} from \`${o.clipsDir}\` (evaluation only, never trained on); ${frameText} per clip (the first frames), at ${o.fps} fps for every rate`);
out.push(`- **Settings:** x264 CRF ${o.crfs.join(', ')}; VP8 \`-b:v\` targets ${Array.isArray(o.vp8Kbps) ? `${o.vp8Kbps.join(', ')} kbit/s` : o.vp8Kbps}, \`-cpu-used ${o.vp8CpuUsed}\`, ${o.vp8Threads} thread; x264 ${o.threads} threads; our levels ${o.levels.join(', ')}; sessions ${o.sessionModes.join(', ')}${o.interFloors ? `; predicted-frame sessions at floors ${o.interFloors.join(', ')} (loss at ${o.interLossFloor})` : ''}${o.interI420Floors ? `, given I420 at floors ${o.interI420Floors.join(', ')}` : ''}`);
out.push('');

// 0. Predicted frames
if (r.runs.every((run) => run.codecs['aic-inter']?.length)) {
  out.push('### Predicted frames (`interFrames: true`)');
  out.push('');
  out.push('BD-rate of the predicted-frame sessions (a sweep of `minQualityScore`) against x264, VP8 and our own intra-only coding. Negative: ours needs fewer bits for the same quality.');
  out.push('');
  const iRows = [];
  const iRow = (name, b, bold) => [name, pct(b.psnrY['aic-inter vs aic-intra']), pct(b.ssimDb['aic-inter vs aic-intra']), pct(b.psnrY['aic-inter vs x264']), pct(b.ssimDb['aic-inter vs x264']), pct(b.psnrY['aic-inter vs vp8']), pct(b.ssimDb['aic-inter vs vp8']), pct(b.psnrRgb['aic-inter vs x264'])].map((c, i) => (bold && i > 0 ? `**${c}**` : c));
  for (const run of r.runs) iRows.push(iRow(runName(run), run.bdRate, false));
  for (const sm of r.summary) iRows.push(iRow(`**mean, ${sm.size}** (${sm.clips.length} clips)`, sm.bdRate, true));
  out.push(table(['clip, size', 'PSNR-Y vs our intra', 'SSIM vs our intra', 'PSNR-Y vs x264', 'SSIM vs x264', 'PSNR-Y vs VP8', 'SSIM vs VP8', 'PSNR-RGB vs x264'], iRows));
  out.push('');
  out.push('Each point: `openSession({ mode: \'adaptive\', minQualityScore: floor, interFrames: true, maxLatencyMs: Infinity })`, `compressFrame()` on every frame and `decompressFrame()` on a receiving session. P-frame times are the median and p99 of the awaited calls on predicted frames alone; the rest of the frames are keyframes (the first, and scene changes or floor misses).');
  out.push('');
  const pRows0 = [];
  for (const run of r.runs) {
    for (const p of run.codecs['aic-inter']) {
      pRows0.push([runName(run), String(p.minQualityScore), f(p.kbps, 0), f(p.psnrY, 2), f(p.ssim, 4), atRate(p.kbps, rateAt(run.codecs.x264, 'psnrY', p.psnrY)), `${p.keyframes} / ${p.predictedFrames}`, p.meanQp === null ? '–' : f(p.meanQp, 1), f(p.pFrame.meanBytes, 0), f(p.keyframe.meanBytes, 0), `${f(p.pFrame.encodeMsMedian, 1)} / ${f(p.pFrame.encodeMsP99, 1)}`, `${f(p.pFrame.decodeMsMedian, 1)} / ${f(p.pFrame.decodeMsP99, 1)}`]);
    }
  }
  out.push(table(['clip, size', 'floor', 'kbit/s', 'PSNR-Y', 'SSIM', 'x264 kbit/s at that PSNR-Y (ours ÷)', 'keyframes / P-frames', 'mean qp', 'P-frame bytes', 'keyframe bytes', 'P-frame encode ms (median / p99)', 'P-frame decode ms (median / p99)'], pRows0));
  out.push('');
  if (r.runs.every((run) => run.codecs['aic-inter-i420']?.length)) {
    out.push('The same sessions given I420 (the frames as ffmpeg converts them for x264 and VP8: what a WebRTC pipeline hands a server), decoded as I420 and converted back to rgb24 by ffmpeg as x264’s and VP8’s are; the floor is on the I420 score (Y, U, V 6:1:1), so the points sit at other rates:');
    out.push('');
    // The default floor's point of both sweeps, per clip (none in a mean row).
    const atDefault = (run) => {
      const [a, b] = ['aic-inter', 'aic-inter-i420'].map((c) => run.codecs[c].find((p) => p.minQualityScore === 0.85));
      return a && b ? `${f(a.kbps, 0)} / ${f(b.kbps, 0)} (${f(a.psnrY, 2)} / ${f(b.psnrY, 2)} dB)` : '–';
    };
    const yRow = (name, b, bold, run) => [name, run ? atDefault(run) : '', pct(b.psnrY['aic-inter-i420 vs aic-inter']), pct(b.psnrY['aic-inter-i420 vs x264']), pct(b.ssimDb['aic-inter-i420 vs x264']), pct(b.psnrY['aic-inter-i420 vs vp8']), pct(b.psnrRgb['aic-inter-i420 vs x264'])].map((c, i) => (bold && i > 1 ? `**${c}**` : c));
    const yRows = r.runs.map((run) => yRow(runName(run), run.bdRate, false, run));
    for (const sm of r.summary) yRows.push(yRow(`**mean, ${sm.size}** (${sm.clips.length} clips)`, sm.bdRate, true, null));
    out.push(table(['clip, size', 'kbit/s at floor 0.85, rgb24 / i420 (PSNR-Y)', 'PSNR-Y vs rgb24 in', 'PSNR-Y vs x264', 'SSIM vs x264', 'PSNR-Y vs VP8', 'PSNR-RGB vs x264'], yRows));
    out.push('');
  }
  out.push('P-frame speed against x264 in the same run: our median P-frame `compressFrame` + `decompressFrame` at the loss floor over x264’s encode + decode per frame (ffmpeg process time less its start cost, as below) at the CRF whose rate is nearest ours:');
  out.push('');
  out.push(table(['clip, size', 'ours: floor', 'ours encode + decode ms (median)', 'x264 setting', 'x264 encode + decode ms/frame', 'ours ÷ x264'], r.runs.map((run) => { const q = run.pFrameSpeed; return [runName(run), q.setting, `${f(q.oursEncodeMsMedian, 1)} + ${f(q.oursDecodeMsMedian, 1)}`, q.x264Setting, `${f(q.x264EncodeMsPerFrame, 1)} + ${f(q.x264DecodeMsPerFrame, 1)}`, `${f(q.ratio, 2)}×`]; })));
  out.push('');
}

// 1. BD-rates
out.push('### BD-rate of our intra-only coding');
out.push('');
out.push('Negative: ours needs fewer bits for the same quality. "SSIM" is BD-rate on SSIM in dB (−10 log10(1 − SSIM)). Per clip and size, then the mean over clips at each size.');
out.push('');
const bdRows = [];
for (const run of r.runs) {
  const b = run.bdRate;
  bdRows.push([runName(run), pct(b.psnrY['aic-intra vs x264']), pct(b.psnrY['aic-intra vs vp8']), pct(b.psnrY['aic-intra vs x264-intra']), pct(b.ssimDb['aic-intra vs x264']), pct(b.ssimDb['aic-intra vs vp8']), pct(b.ssimDb['aic-intra vs x264-intra']), pct(b.psnrRgb['aic-intra vs x264']), pct(b.psnrRgb['aic-intra vs vp8'])]);
}
for (const s of r.summary) {
  const b = s.bdRate;
  bdRows.push([`**mean, ${s.size}** (${s.clips.length} clips)`, pct(b.psnrY['aic-intra vs x264']), pct(b.psnrY['aic-intra vs vp8']), pct(b.psnrY['aic-intra vs x264-intra']), pct(b.ssimDb['aic-intra vs x264']), pct(b.ssimDb['aic-intra vs vp8']), pct(b.ssimDb['aic-intra vs x264-intra']), pct(b.psnrRgb['aic-intra vs x264']), pct(b.psnrRgb['aic-intra vs vp8'])].map((c, i) => (i === 0 ? c : `**${c}**`)));
}
out.push(table(['clip, size', 'PSNR-Y vs x264', 'PSNR-Y vs VP8', 'PSNR-Y vs x264 intra', 'SSIM vs x264', 'SSIM vs VP8', 'SSIM vs x264 intra', 'PSNR-RGB vs x264', 'PSNR-RGB vs VP8'], bdRows));
out.push('');
out.push('The references among themselves (what inter prediction buys x264 here, and VP8 against x264):');
out.push('');
out.push(
  table(
    ['clip, size', 'x264 intra vs x264, PSNR-Y', 'x264 intra vs x264, SSIM', 'VP8 vs x264, PSNR-Y', 'VP8 vs x264, SSIM'],
    r.runs.map((run) => [runName(run), pct(run.bdRate.psnrY['x264-intra vs x264']), pct(run.bdRate.ssimDb['x264-intra vs x264']), pct(run.bdRate.psnrY['vp8 vs x264']), pct(run.bdRate.ssimDb['vp8 vs x264'])]),
  ),
);
out.push('');

// 2. Plots
out.push('### Rate–distortion curves');
out.push('');
for (const run of r.runs) out.push(`![${runName(run)}](${plotPrefix}-${clipName(run.clip)}-${run.width}x${run.height}.svg)`);
out.push('');

// 3. Session operating points
out.push('### The session’s operating points');
out.push('');
out.push('`openSession({ mode, maxLatencyMs: Infinity, interFrames: false })` (every frame intra), `compressFrame()` on every frame, `decompressFrame()` on a receiving session: the closed loop picks the lowest level whose measured SSIM (mean and worst tile) reaches the mode’s floor, or a JPEG when that is smaller and reaches it. `adaptive` is the default. Beside each point, the rate at which x264’s and VP8’s curves reach the same quality (interpolated in log rate; “<” where even their cheapest point is better), and how many times that ours spends.');
out.push('');
const sRows = [];
for (const run of r.runs) {
  for (const p of run.codecs['aic-session']) {
    const x264Y = rateAt(run.codecs.x264, 'psnrY', p.psnrY);
    const x264S = rateAt(run.codecs.x264, 'ssimDb', p.ssimDb);
    const vp8Y = rateAt(run.codecs.vp8, 'psnrY', p.psnrY);
    sRows.push([runName(run), `${p.mode} (floor ${p.minQualityScore})`, f(p.kbps, 0), f(p.bpp, 3), f(p.psnrY, 2), f(p.ssim, 4), atRate(p.kbps, x264Y), atRate(p.kbps, x264S), atRate(p.kbps, vp8Y), Object.entries(p.carriedBy).map(([c, k]) => `${c} ${k}`).join(', '), p.meanNeuralLevel === null ? '–' : f(p.meanNeuralLevel, 2), f(p.passesPerFrame, 2), f(p.encodeMsPerFrame, 1), f(p.decodeMsPerFrame, 1)]);
  }
}
out.push(table(['clip, size', 'mode', 'kbit/s', 'bpp', 'PSNR-Y', 'SSIM', 'x264 kbit/s at that PSNR-Y (ours ÷)', 'x264 kbit/s at that SSIM (ours ÷)', 'VP8 kbit/s at that PSNR-Y (ours ÷)', 'frames carried by', 'mean level', 'passes/frame', 'compressFrame ms', 'decompressFrame ms'], sRows));
out.push('');
out.push('BD-rate of the session’s three points against the references (a quadratic fit through three points; read it beside the level sweep’s):');
out.push('');
out.push(table(['clip, size', 'PSNR-Y vs x264', 'PSNR-Y vs VP8', 'SSIM vs x264', 'SSIM vs VP8'], r.runs.map((run) => [runName(run), pct(run.bdRate.psnrY['aic-session vs x264']), pct(run.bdRate.psnrY['aic-session vs vp8']), pct(run.bdRate.ssimDb['aic-session vs x264']), pct(run.bdRate.ssimDb['aic-session vs vp8'])])));
out.push('');

// 4. Times
out.push('### Encode and decode time per frame');
out.push('');
out.push('Milliseconds per frame, the mean over every setting of the sweep (per-setting times are in the tables below). Ours: the awaited call (`ImageCodec.encode` for the level sweep, the session’s closed-loop `compressFrame` for the session), and `decompressFrame`. x264 and VP8: the ffmpeg process’s wall time less the start cost of the same command on zero frames, divided by the frames; it includes reading raw rgb24 and the rgb24 ⇄ yuv420p conversion.');
out.push('');
const tRows = [];
const TIME_CODECS = [
  ['aic-intra', 'ours, intra (level sweep)'],
  ['aic-session', 'ours, session closed loop'],
  ['aic-inter', 'ours, predicted-frame session (keyframes and P-frames)'],
  ['aic-inter-i420', 'ours, predicted-frame session, I420 in and out'],
  ['x264', 'x264 veryfast zerolatency'],
  ['x264-intra', 'x264 intra only'],
  ['vp8', 'VP8 realtime'],
];
for (const s of r.summary) {
  for (const [c, label] of TIME_CODECS) {
    const t = s.msPerFrame[c];
    if (t) tRows.push([s.size, label, f(t.encodeMsPerFrame, 1), f(t.decodeMsPerFrame, 1)]);
  }
}
out.push(table(['size', 'codec', 'encode ms/frame', 'decode ms/frame'], tRows));
out.push('');
const startRows = r.runs.map((run) => [runName(run), f(run.ffmpegStartMs.x264.encodeMs, 0), f(run.ffmpegStartMs.x264.decodeMs, 0), f(run.ffmpegStartMs.vp8.encodeMs, 0), f(run.ffmpegStartMs.vp8.decodeMs, 0)]);
out.push('ffmpeg’s start cost (median of three zero-frame runs, ms, subtracted above):');
out.push('');
out.push(table(['clip, size', 'x264 encode', 'x264 decode', 'VP8 encode', 'VP8 decode'], startRows));
out.push('');

// 5. Loss and keyframes
out.push('### What loss and keyframe requests cost');
out.push('');
const lossModel = r.runs[0]?.loss.model ?? '';
out.push(`Model: ${lossModel}.`);
out.push('');
const intraLevel = (run) => {
  const lv = r.options.levels;
  return `level ${lv[Math.floor(lv.length / 2)]}`;
};
const lRows = [];
for (const run of r.runs) {
  for (const l of run.loss.summary) {
    if (l.codec === 'aic-intra' && l.setting !== intraLevel(run)) continue;
    if (l.codec === 'aic-session' && l.setting !== 'adaptive') continue;
    // periodic IDRs no closer than the clip is long are the same stream as none
    const k = /every (\d+)/.exec(l.recovery);
    if (k && Number(k[1]) >= run.frames) continue;
    lRows.push([runName(run), `${l.lossPercent} % (${l.lostFrames} of ${run.frames})`, `${l.codec} ${l.setting}`, l.recovery, f(100 * l.frozenFraction, 1), signed(-l.psnrYDrop), signed(-l.ssimDrop, 4), signed(l.extraKbps, 1)]);
  }
}
out.push(table(['clip, size', 'loss', 'codec', 'recovery', 'frames frozen %', 'Δ PSNR-Y dB', 'Δ SSIM', 'Δ kbit/s'], lRows));
out.push('');
out.push('One keyframe, as a request makes it (ours: `requestKeyframe()` on the predicted-frame session, the keyframe against the P-frame of the clean chain it replaced; beside it the frame `requestRecovery()` makes instead, a predicted frame against the reference the receiver still holds; x264 with `keyint=infinite:scenecut=0` and VP8, each IDR forced by `-force_key_frames` where the model puts it):');
out.push('');
const kRows = [];
for (const run of r.runs) {
  const q = run.keyframes.requestedPredicted;
  if (q?.samples) kRows.push([runName(run), `${q.codec} ${q.setting}`, String(q.samples), f(q.keyframeBytes, 0), f(q.meanInterBytes, 0), `${f(q.keyframeOverInter, 1)}×`, f(((q.keyframeBytes - q.replacedBytes) * 8) / 1000, 1)]);
  // The recovery answer instead: a predicted frame against the receiver's reference (share predicted).
  const v = run.keyframes.recoveryPredicted;
  if (v?.samples) kRows.push([runName(run), `${v.codec} ${v.setting}, requestRecovery() (${f(100 * v.predictedShare, 0)} % predicted)`, String(v.samples), f(v.frameBytes, 0), f(q?.meanInterBytes ?? NaN, 0), `${f(v.frameOverInter, 1)}×`, f(((v.frameBytes - v.replacedBytes) * 8) / 1000, 1)]);
  for (const k of run.keyframes.requested) {
    if (!k.samples) continue;
    kRows.push([runName(run), `${k.codec} ${k.setting}`, String(k.samples), f(k.keyframeBytes, 0), f(k.meanInterBytes, 0), `${f(k.keyframeOverInter, 1)}×`, f((k.extraBytesPerKeyframe * 8) / 1000, 1)]);
  }
}
out.push(table(['clip, size', 'codec', 'keyframes sampled', 'keyframe bytes', 'mean inter frame bytes', 'keyframe ÷ inter', 'stream grows by (kbit per keyframe)'], kRows));
out.push('');
out.push('Periodic IDRs (x264 `keyint=K:min-keyint=K:scenecut=0` against `keyint=infinite:scenecut=0`, the same CRF sweep; only where the clip is longer than K frames):');
out.push('');
const pRows = [];
for (const run of r.runs) for (const p of run.keyframes.periodic.filter((x) => x.keyint < run.frames)) pRows.push([runName(run), `every ${p.keyint} frames`, pct(p.bdRatePsnrYVsNoKeyframes), pct(p.bdRateSsimVsNoKeyframes), pct(100 * p.rateIncreaseAtLossCrf)]);
out.push(table(['clip, size', 'IDR', 'BD-rate PSNR-Y', 'BD-rate SSIM', `rate at CRF ${r.options.lossCrf}`], pRows));
out.push('');

// 6. The ceiling of the 4:2:0 codecs
out.push('### The rgb24 → yuv420p → rgb24 conversion alone');
out.push('');
out.push('What x264 and VP8 could reach here with no loss of their own (ffmpeg’s swscale, BT.601 limited range, 4:2:0); our codec codes RGB and has no such ceiling.');
out.push('');
out.push(table(['clip, size', 'PSNR-Y', 'PSNR-RGB', 'SSIM'], r.runs.map((run) => [runName(run), f(run.yuv420pRoundTrip.psnrY, 2), f(run.yuv420pRoundTrip.psnrRgb, 2), f(run.yuv420pRoundTrip.ssim, 4)])));
out.push('');

// 7. Every point
out.push('### Every point');
out.push('');
const LABEL = { 'aic-intra': 'ours intra', 'aic-session': 'ours session', 'aic-inter': 'ours predicted', 'aic-inter-i420': 'ours predicted (I420)', x264: 'x264', 'x264-intra': 'x264 intra', 'x264-nokey': 'x264 keyint=∞', vp8: 'VP8' };
for (const run of r.runs) {
  out.push(`<details><summary>${runName(run)}, ${run.frames} frames</summary>`);
  out.push('');
  const rows = [];
  for (const [c, pts] of Object.entries(run.codecs)) {
    for (const p of pts) rows.push([LABEL[c] ?? c, String(p.setting), f(p.kbps, 0), f(p.bpp, 3), f(p.psnrY, 2), f(p.psnrRgb, 2), f(p.ssim, 4), f(p.encodeMsPerFrame, 1), f(p.decodeMsPerFrame, 1), String(p.keyframes)]);
  }
  out.push(table(['codec', 'setting', 'kbit/s', 'bpp', 'PSNR-Y', 'PSNR-RGB', 'SSIM', 'enc ms', 'dec ms', 'keyframes'], rows));
  out.push('');
  out.push('</details>');
  out.push('');
}

const doc = readFileSync(docPath, 'utf8');
const begin = '<!-- results:begin -->';
const end = '<!-- results:end -->';
const a = doc.indexOf(begin);
const b = doc.indexOf(end);
if (a < 0 || b < a) throw new Error(`${docPath} has no ${begin} ... ${end} section`);
writeFileSync(docPath, `${doc.slice(0, a + begin.length)}\n<!-- Generated by bench/video-report.mjs from ${jsonPath}; edit that script, not this section. -->\n\n${out.join('\n')}\n${doc.slice(b)}`);
console.log(`${docPath}: results section rewritten from ${jsonPath}`);
