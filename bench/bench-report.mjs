// Writes docs/BENCHMARKS.md from the results of bench/bench.mjs (npm run bench -- --report).
const INTRO = {
  '1.': 'Sessions as a media server runs them: `compressFrame` on a sending session, `decompressFrame` on a receiving one, at default options, with `maxLatencyMs: Infinity` (the closed loop on every frame), and with `interFrames: false` (every frame intra-coded by the neural image codec, the path a keyframe takes; at the default budget of 20 ms most such frames would go out on the open loop on a CPU like this one). Video and screen sessions send predicted frames between keyframes by default (verified like every frame, `maxLatencyMs` does not apply to them), so the default rows are mostly predicted frames of the cycled clip, with a keyframe where the cycle jumps back when that counts as a scene change. The baseline is the plain image codec on the same frames at the level the intra closed loop chose; the video tables also time JPEG q75 encode + decode of the same frames (sharp, 4:2:0), the yardstick of a frame\'s budget in the headline ratios. Stage tables come from the results\' own `timings` of the intra rows\' neural frames. The synthetic screen frame is carried losslessly (deflate) by the intra session, which beats the neural codec at its default level (the baseline row) on flat UI content, hence a ratio under 1.',
  '2.': 'What a server would send without AI. JPEG and WebP (effort 0) through sharp, as the fallback ladder sends them, at the lowest quality whose SSIM (the library\'s `imageQuality`) reaches the SSIM of our output on the same frame; Opus (the library\'s libopus binding) at our bitrate. Ratios are ours ÷ theirs.',
  '3.': 'The same ONNX graphs through `onnxruntime-node` with the fastest JavaScript pre/post-processing we could write (LUT to planar float with edge padding, one-pass quantise/dequantise, `Uint8ClampedArray` back to RGB). The peer does **no entropy coding**: it stops at the integers a codec would code. Its output matches ours exactly (see the PSNR line). Event-loop delay is measured while bursts of concurrent calls run.',
  '4.': 'N sessions each sending frames at real-time pace (audio 50 frames/s, video 15 fps), staggered, measured after the sessions have run for a warm-up second; latency is measured from when each frame was due, so queueing counts (a session that falls behind stays late until it catches up). A stream count is sustained when p99 latency stays under the frame interval. Audio frames of all sessions go through the engine\'s batcher (src/audio-batcher.ts): the frames handed over together run as one native job per lane (one per core) with one ONNX Runtime run per graph; a frame waits at most 1 ms to fill a batch, and only when the arrival rate says another will come in that time; the batch columns say what it chose under each load (frames per batch, the wait from the first frame\'s hand-over to the batch\'s start, queueing included, and the run). Video sends few frames in a quick run (15 fps for 2 s), so its p99 is close to the slowest frame.',
  '5.': '`bench/ort_raw.cc` (CMake target `aic_bench_ort_raw`, ONNX Runtime only) runs the image model\'s encoder and decoder graphs on the same 640x360 frame with our engine\'s thread settings. "Our coding" is everything our core does around inference (pad, quantise, rANS encode and decode, dequantise, crop), from the results\' timings.',
};

function mdTable(t) {
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  return [`| ${t.header.map(esc).join(' | ')} |`, `|${t.header.map((_, i) => (i === 0 ? ':--' : '--:')).join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

const f2 = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : '-');

function headlines(r) {
  const out = [];
  const s = r.sections;
  for (const g of s.e2e?.groups ?? []) {
    if (g.rows.length >= 3) out.push(`${g.label}: session defaults ${f2(g.rows[1].ratioP50)}x, closed loop ${f2(g.rows[2].ratioP50)}x${g.rows[3] ? `, every frame intra ${f2(g.rows[3].ratioP50)}x` : ""} the plain codec (p50)`);
    else out.push(`${g.label}: session ${f2(g.rows[1].ratioP50)}x the plain codec (p50)`);
    if (g.overJpeg) out.push(`${g.label} against JPEG q75 encode+decode of the same frames: session defaults ${f2(g.overJpeg.defaultP50)}x (p50), ${f2(g.overJpeg.defaultP99)}x (p99); every frame intra ${f2(g.overJpeg.intraP50)}x (p50), ${f2(g.overJpeg.intraP99)}x (p99)`);
  }
  for (const i of s.classical?.image ?? []) out.push(`${i.key} vs classical at SSIM ${i.ssim.toFixed(3)}: time ${f2(i.ratios.timeOursOverJpeg)}x JPEG, ${f2(i.ratios.timeOursOverWebp)}x WebP; bytes ${f2(i.ratios.bytesOursOverJpeg)}x JPEG, ${f2(i.ratios.bytesOursOverWebp)}x WebP`);
  if (s.classical?.audio) {
    const a = s.classical.audio;
    out.push(`speech 16 kHz vs Opus ${a.opusKbps} kbit/s: time ${f2(a.ratios.timeOursOverOpus)}x, bytes ${f2(a.ratios.bytesOursOverOpus)}x, score ${a.scores.ours.score.toFixed(3)} vs ${a.scores.opus.score.toFixed(3)}`);
  }
  if (s.peer) {
    const p = s.peer.rows;
    out.push(`vs onnxruntime-node: inference ${f2(p[1].ratioP50)}x; full pipeline ours (with entropy coding) ÷ peer (without) ${f2(p[3].p50 / p[2].p50)}x; event-loop delay p99 ${f2(s.peer.eventLoop[1].ratioP99)}x the peer's`);
  }
  if (s.scale) out.push(`real-time streams sustained: audio ${s.scale.sustained.audioStreams} of ${s.scale.sustained.audioTried.join('/')} tried; 640x360@15 video ${s.scale.sustained.videoStreams640x360at15} of 1/2/4 at the defaults (predicted frames), ${s.scale.sustained.videoStreams640x360at15Intra ?? '-'} with every frame intra`);
  if (s.rawOrt && !s.rawOrt.skipped) out.push(`end to end ÷ (raw ORT in C++ + our coding): ${f2(s.rawOrt.e2eOverRawPlusCoding)}x; our inference ÷ raw ORT ${f2(s.rawOrt.inferenceOverRaw)}x`);
  return out;
}

// Section 6 from bench/engine-start.mjs's JSON (docs/results/engine-start.json), when there is one.
function engineStartSection(e) {
  const f1 = (x) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(1) : '-');
  const baselines = e.baselines ?? (e.before ? [{ label: e.baselineLabel ?? e.baseline, ...e.before, ratioMedian: e.ratioBeforeMedian, jsThreadBusyMedianMs: e.jsThreadBusyMedianMs?.before }] : []);
  const lines = [
    '## 6. Engine start',
    '',
    `\`createEngine()\` with both shipped codecs (CPU, warm cache folder) against onnxruntime-node creating \`InferenceSession\`s for the same four graphs, each measurement a fresh process, the contenders taking turns in every round; both load their native binding before the clock starts. ${baselines.length ? 'Earlier builds of this package (named by commit) ran in the same rounds. ' : ''}"JS thread busy" is the event loop's active time during the call. Command: \`${e.command ?? 'node bench/engine-start.mjs'}\`${e.date ? `, ${e.date}` : ''}${e.loadAverage ? `, load average at start ${e.loadAverage.map((x) => x.toFixed(2)).join(' / ')}` : ''}. docs/native-core.md ("Engine start") says what each change bought.`,
    '',
    '| contender | median ms | p95 ms | min ms | ÷ onnxruntime-node (median) | JS thread busy, median ms | first start, empty cache, ms |',
    '|:--|--:|--:|--:|--:|--:|--:|',
    ...baselines.map((b) => `| createEngine() at ${b.label} | ${f1(b.median)} | ${f1(b.p95)} | ${f1(b.min)} | ${f2(b.ratioMedian)}x | ${f1(b.jsThreadBusyMedianMs)} | ${f1(b.coldFirstRunMs)} |`),
    `| createEngine() | ${f1(e.ours.median)} | ${f1(e.ours.p95)} | ${f1(e.ours.min)} | ${f2(e.ratioMedian)}x | ${f1(e.jsThreadBusyMedianMs?.ours)} | ${f1(e.coldFirstRunMs)} |`,
    `| onnxruntime-node, 4 sessions (baseline) | ${f1(e.theirs.median)} | ${f1(e.theirs.p95)} | ${f1(e.theirs.min)} | 1.00x | - | - |`,
    '',
  ];
  if (e.fromRequire) {
    const withWhole = baselines.filter((b) => b.fromRequire);
    lines.push(
      '### engine start from the package\'s require() (what a program\'s start pays: loading the package, its addon and ONNX Runtime, then the engine or the sessions; same processes as above)',
      '',
      '| contender | median ms | p95 ms | ÷ onnxruntime-node (median) |',
      '|:--|--:|--:|--:|',
      ...withWhole.map((b) => `| require + createEngine() at ${b.label} | ${f1(b.fromRequire.median)} | ${f1(b.fromRequire.p95)} | ${f2(b.fromRequire.ratioMedian)}x |`),
      `| require + createEngine() | ${f1(e.fromRequire.ours.median)} | ${f1(e.fromRequire.ours.p95)} | ${f2(e.fromRequire.ratioMedian)}x |`,
      `| require('onnxruntime-node') + 4 sessions (baseline) | ${f1(e.fromRequire.theirs.median)} | ${f1(e.fromRequire.theirs.p95)} | 1.00x |`,
      '',
    );
  }
  const before = baselines[0]?.breakdownMedianMs ?? e.breakdownBeforeMedianMs;
  const keys = [...Object.keys(e.breakdownMedianMs), ...Object.keys(before ?? {}).filter((k) => !(k in e.breakdownMedianMs))];
  lines.push(
    '### engine start: the stages one after another (median ms; each timed alone, so they do not add up to the start, which overlaps them)',
    '',
    before ? `| stage | createEngine() | at ${baselines[0]?.label ?? 'the baseline'} |` : '| stage | createEngine() |',
    before ? '|:--|--:|--:|' : '|:--|--:|',
    ...keys.map((k) => `| ${k.trim()} | ${f1(e.breakdownMedianMs[k])} |${before ? ` ${f1(before[k])} |` : ''}`),
    '',
  );
  return lines;
}

export function writeReport(r, engineStart = null) {
  const m = r.machine;
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench -- --report` (bench/bench.mjs, bench/bench-report.mjs); edit those, not this file. -->',
    '',
    r.quick
      ? '> **Quick run (`--quick`) on a shared 2-core machine** with other work running: few samples per row, so p95 and p99 rest on few calls and absolute times are noisy. Read the ratios; all rows of a table ran in the same process, on the same frames, interleaved in rounds.'
      : '> All rows of a table ran in the same process, on the same frames, interleaved in rounds. Absolute times belong to this machine and its load; read the ratios.',
    '',
    `- **Command:** \`${r.command}\``,
    `- **Date:** ${r.date}`,
    `- **Machine:** ${m.cpus.join(', ')} × ${m.cores} cores (\`os.cpus()\`), ${m.memoryGiB.toFixed(0)} GiB, ${m.platform}, load average at start ${m.loadAverage.map((x) => x.toFixed(2)).join(' / ')}`,
    `- **Node** ${m.node}, **ONNX Runtime** ${m.ortVersion} (CPU, ${m.intraOpThreads} intra-op threads), models ${m.models.image} and ${m.models.audio}`,
    `- **Frames:** ${r.frames.video}; screen: ${r.frames.screen}; audio: ${r.frames.audio}`,
    '- Timing: tinybench; every table gives mean, p50, p95, p99 (ms per call) and the ratio of p50 to the row marked baseline. docs/results/bench.json has every number.',
    '',
    '## Headline ratios',
    '',
    ...headlines(r).map((h) => `- ${h}`),
    '',
  ];
  let section = '';
  for (const t of r.tables) {
    const n = t.title.slice(0, 2);
    if (n !== section) {
      section = n;
      const name = { '1.': 'End to end at default settings', '2.': 'The classical choice', '3.': 'The peer a user would pick: onnxruntime-node', '4.': 'Scale', '5.': 'Our overhead against raw ONNX Runtime in C++' }[n];
      lines.push(`## ${n} ${name}`, '', INTRO[n] ?? '', '');
    }
    lines.push(`### ${t.title.slice(3)}`, '', mdTable(t), '');
  }
  if (engineStart) lines.push(...engineStartSection(engineStart));
  lines.push(
    '## Reproduce',
    '',
    '```sh',
    'npm install            # native addon and dist/',
    'npm run bench -- --quick                 # short run, tables on stdout',
    'npm run bench -- --json out.json         # full run, results as JSON',
    'npm run bench -- --quick --report        # rewrites this file and docs/results/bench.json',
    'npm run bench -- --sections 1,3          # some sections only',
    'node bench/engine-start.mjs --runs 15 --baselines LABEL=DIR,... --report   # section 6; DIRs: earlier builds to compare',
    '```',
    '',
    'Section 5 builds `bench/ort_raw.cc` on first use with CMake (`cmake -S . -B build/ort-raw -DAIC_BUILD_BENCH=ON -DAIC_BUILD_ADDON=OFF -DAIC_BUILD_TESTS=OFF && cmake --build build/ort-raw --target aic_bench_ort_raw`, also `npm run bench:ort-raw`).',
    '',
  );
  return lines.join('\n');
}
