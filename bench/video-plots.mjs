// The rate-distortion plots of the video evaluation (bench/eval-video.mjs), one SVG per clip and
// size, drawn from its result object: `OUT-<clip>-<WxH>.svg` when OUT ends in .svg, else
// `OUT/video-<clip>-<WxH>.svg`. bench/video-report.mjs redraws them from the JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderRdPlot } from './rd-plot.mjs';

export function writeVideoPlots(result, plotOut) {
  const o = result.options;
  const series = [
    ['aic-intra', `ours: ${result.model.name} intra (levels)`, '#d62728', null],
    ['aic-session', 'ours: session (aggressive / adaptive / conservative)', '#ff7f0e', '4 3'],
    ['aic-inter', 'ours: predicted frames (interFrames, floor sweep)', '#9467bd', null],
    ['aic-inter-i420', 'ours: predicted frames, I420 in and out', '#8c564b', '4 3'],
    ['x264', 'x264 veryfast zerolatency (CRF)', '#1f77b4', null],
    ['x264-intra', 'x264 intra only (keyint=1)', '#17becf', '6 3'],
    ['vp8', `VP8 realtime, cpu-used ${o.vp8CpuUsed} (-b:v)`, '#2ca02c', null],
  ];
  const files = [];
  for (const run of result.runs) {
    const stem = `${path.parse(run.clip).name}-${run.width}x${run.height}`;
    const out = path.resolve(plotOut);
    const file = out.endsWith('.svg') ? out.replace(/\.svg$/, `-${stem}.svg`) : path.join(out, `video-${stem}.svg`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      renderRdPlot({
        title: `${run.clip} ${run.width}x${run.height}, ${run.frames} frames at ${o.fps} fps`,
        xKey: 'kbps',
        xLabel: 'kbit/s (log scale)',
        xLog: true,
        panels: [
          { yLabel: 'PSNR-Y (dB)', key: 'psnrY' },
          { yLabel: 'SSIM RGB (dB: -10 log10(1 - SSIM))', key: 'ssimDb' },
        ],
        series: series.filter(([k]) => run.codecs[k]?.length).map(([k, name, color, dash]) => ({ name, color, dash, points: run.codecs[k] })),
      }),
    );
    files.push(file);
  }
  return files;
}
