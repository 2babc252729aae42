// Sections 3-5 of bench/bench.mjs: the onnxruntime-node peer, scale, and raw ONNX Runtime in C++.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, measure, num, table, timeCols } from './bench-lib.mjs';

const ms = (h) => h.percentile(99) / 1e6;

export async function run(ctx) {
  const { sections } = ctx;
  if (sections.has(3)) await peer(ctx);
  if (sections.has(4)) await scale(ctx);
  if (sections.has(5)) await rawOrt(ctx);
}

// ---- 3. the peer a user would pick: onnxruntime-node with the best JS we can write --------------
async function peer({ root, engine, image, aic, results, T, video, keep, quick }) {
  const ort = createRequire(import.meta.url)('onnxruntime-node');
  const dir = path.join(root, 'models', 'aic-image-v1');
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const threads = engine.info().intraOpThreads;
  const opts = { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } };
  const encS = await ort.InferenceSession.create(path.join(dir, 'encoder.onnx'), opts);
  const decS = await ort.InferenceSession.create(path.join(dir, 'decoder.onnx'), opts);
  const model = await engine.loadModel({ name: 'bench-image-graphs', encoder: path.join(dir, 'encoder.onnx'), decoder: path.join(dir, 'decoder.onnx') });
  const frames = video['640x360'];
  const { width: W, height: H } = frames[0];
  const P = manifest.paddingMultiple;
  const PW = Math.ceil(W / P) * P;
  const PH = Math.ceil(H / P) * P;
  const C = manifest.latent.channels;
  const D = manifest.latent.downsample;
  const LW = PW / D;
  const LH = PH / D;
  const level = image.defaultLevel;
  const L = manifest.levels[level];
  const gains = Float32Array.from(L.gains);
  const inv = Float32Array.from(L.inverseGains);
  const offset = L.roundingOffset ?? 0.5;
  const lut = new Float32Array(256).map((_, i) => i / 255);

  // The best JS pre/post-processing: planar float in [0, 1] with edge padding (a LUT, no
  // divisions), the quantiser and dequantiser in one pass over each channel, and back to RGB24
  // through a Uint8ClampedArray (clamping and rounding by the engine). No entropy coding: the
  // integers are where a real codec would start coding, and this peer stops there.
  function preprocess(rgb, out) {
    const plane = PW * PH;
    for (let y = 0; y < PH; y++) {
      const sy = y < H ? y : H - 1;
      const row = sy * W * 3;
      const o = y * PW;
      for (let x = 0; x < PW; x++) {
        const s = row + (x < W ? x : W - 1) * 3;
        out[o + x] = lut[rgb[s]];
        out[plane + o + x] = lut[rgb[s + 1]];
        out[2 * plane + o + x] = lut[rgb[s + 2]];
      }
    }
    return out;
  }
  function quantDequant(latent, q, deq) {
    const n = LW * LH;
    for (let c = 0; c < C; c++) {
      const g = gains[c];
      const ig = inv[c];
      const base = c * n;
      for (let i = base; i < base + n; i++) {
        const v = latent[i] * g;
        const k = v < 0 ? -Math.floor(-v + offset) : Math.floor(v + offset);
        q[i] = k;
        deq[i] = k * ig;
      }
    }
  }
  function postprocess(planes, out) {
    const plane = PW * PH;
    let o = 0;
    for (let y = 0; y < H; y++) {
      const r = y * PW;
      for (let x = 0; x < W; x++) {
        out[o++] = planes[r + x] * 255;
        out[o++] = planes[plane + r + x] * 255;
        out[o++] = planes[2 * plane + r + x] * 255;
      }
    }
    return out;
  }
  const input = new Float32Array(3 * PW * PH);
  const q = new Int32Array(C * LW * LH);
  const deq = new Float32Array(C * LW * LH);
  const rgbOut = new Uint8ClampedArray(W * H * 3);
  const peerFull = async (k, bufs = { input, q, deq, rgbOut }) => {
    preprocess(frames[k % frames.length].data, bufs.input);
    const e = await encS.run({ image: new ort.Tensor('float32', bufs.input, [1, 3, PH, PW]) });
    quantDequant(e.latent.data, bufs.q, bufs.deq);
    const d = await decS.run({ latent: new ort.Tensor('float32', bufs.deq, [1, C, LH, LW]) });
    return postprocess(d.image.data, bufs.rgbOut);
  };
  const oursFull = async (k) => {
    const e = await image.encode(frames[k % frames.length], { level });
    return (await image.decode(e.payload)).data;
  };
  // Same input tensors for inference-only rows.
  const inputs = frames.map((f) => preprocess(f.data, new Float32Array(3 * PW * PH)));
  const ortIn = inputs.map((x) => new ort.Tensor('float32', x, [1, 3, PH, PW]));
  const oursIn = inputs.map((x) => ({ image: aic.tensor(x, [1, 3, PH, PW]) }));
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const rows = await measure(
    [
      {
        name: 'onnxruntime-node encoder+decoder run() (baseline)',
        fn: async () => {
          const e = await encS.run({ image: ortIn[a++ % ortIn.length] });
          await decS.run({ latent: e.latent });
        },
      },
      {
        name: 'aic model.encode()+decode() (same graphs)',
        fn: async () => {
          const e = await model.encode(oursIn[b++ % oursIn.length]);
          await model.decode({ latent: e.latent });
        },
      },
      { name: 'onnxruntime-node + best JS pre/quant/post (no entropy coding)', fn: () => peerFull(c++) },
      { name: 'aic image codec encode+decode (with rANS coding)', fn: () => oursFull(d++) },
    ],
    T,
  );
  // Check the peer computes what we compute (PSNR of its output against ours).
  const pOut = Buffer.from((await peerFull(0)).slice());
  const oOut = await oursFull(0);
  const agree = aic.imageQuality(pOut, oOut, W, H);
  const t = keep(table(`3. peer: onnxruntime-node ${ort.env.versions?.common ?? ''} vs aic, 640x360, level ${level}, ${threads} intra-op threads each`, rows, [['path', (r) => r.name], ...timeCols]));
  console.log(`  peer output vs ours: PSNR ${num(agree.psnr, 1)} dB, SSIM ${num(agree.ssim, 4)} (same graphs, same quantiser)`);

  // Event-loop delay under a burst of concurrent calls.
  const burst = quick ? 8 : 32;
  const bursts = quick ? 3 : 5;
  const loop = [];
  for (const [name, fn] of [
    ['onnxruntime-node + JS pre/post', (k) => peerFull(k, { input: new Float32Array(3 * PW * PH), q: new Int32Array(C * LW * LH), deq: new Float32Array(C * LW * LH), rgbOut: new Uint8ClampedArray(W * H * 3) })],
    ['aic image codec encode+decode', (k) => oursFull(k)],
  ]) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    const walls = [];
    h.enable();
    for (let r = 0; r < bursts; r++) {
      const t0 = performance.now();
      await Promise.all(Array.from({ length: burst }, (_, k) => fn(k)));
      walls.push(performance.now() - t0);
    }
    h.disable();
    loop.push({ name, burst, bursts, elP50: h.percentile(50) / 1e6, elP99: ms(h), elMax: h.max / 1e6, wall: describe(walls) });
  }
  for (const l of loop) l.ratioP99 = l.elP99 / loop[0].elP99;
  const lt = keep(
    table(`3. event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) under ${bursts} bursts of ${burst} concurrent 640x360 encode+decode calls`, loop, [
      ['path', (r) => r.name],
      ['loop delay p50 ms', (r) => num(r.elP50)],
      ['loop delay p99 ms', (r) => num(r.elP99)],
      ['loop delay max ms', (r) => num(r.elMax)],
      ['burst wall p50 ms', (r) => num(r.wall.p50)],
      ['÷ baseline (loop p99)', (r) => `${num(r.ratioP99)}x`],
    ]),
  );
  results.sections.peer = { ortNodeVersion: ort.env.versions?.common ?? null, level, rows, agreement: agree, eventLoop: loop, table: t.title, loopTable: lt.title, note: 'the peer does no entropy coding: its integers are not turned into bytes' };
  model.close();
  await encS.release();
  await decS.release();
}

// ---- 4. scale: concurrent real-time sessions ----------------------------------------------------
async function realtime(engine, makeFrame, n, intervalMs, seconds, opts = {}) {
  // The sessions run for a warm-up second before the measured seconds, as on a server where they
  // have been running: their first frames (state set up, the level found) are not what a machine
  // sustains. Latency counts from when each frame was due, so a session that falls behind keeps
  // its lateness until it catches up.
  const warm = 1000;
  const sessions = Array.from({ length: n }, () => engine.openSession(opts));
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const lat = [];
  const codecs = {};
  let done = 0;
  let late = 0;
  let maxRss = rss0;
  const h = monitorEventLoopDelay({ resolution: 1 });
  const t0 = performance.now() + 20;
  const from = t0 + warm;
  const end = from + seconds * 1000;
  const batcher = engine.audioCodec()?.batcher;
  let measuring = false;
  const startMeasuring = () => {
    if (measuring) return;
    measuring = true;
    h.enable();
    batcher?.resetStats();
  };
  const warmTimer = setTimeout(startMeasuring, Math.max(0, from - performance.now()));
  const loops = sessions.map(async (s, i) => {
    let k = 0;
    const phase = (i / n) * intervalMs;
    for (;;) {
      const due = t0 + phase + k * intervalMs;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const start = performance.now();
      const r = await s.compressFrame(makeFrame(i, k));
      k++;
      if (due < from) continue;
      if (start - due > intervalMs) late++;
      lat.push(performance.now() - due); // from when the frame was due: queueing included
      codecs[r.codec] = (codecs[r.codec] ?? 0) + 1;
      done++;
      if ((done & 63) === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
  });
  await Promise.all(loops);
  clearTimeout(warmTimer);
  startMeasuring();
  h.disable();
  maxRss = Math.max(maxRss, process.memoryUsage().rss);
  const wall = (performance.now() - from) / 1000;
  const batches = batcher ? batcher.stats() : null;
  for (const s of sessions) s.close();
  const l = describe(lat);
  return {
    sessions: n,
    framesPerSecond: done / wall,
    offered: (n * 1000) / intervalMs,
    latency: l,
    eventLoopP99: ms(h),
    rssPerSessionMiB: (maxRss - rss0) / n / 2 ** 20,
    p99UnderInterval: l.p99 < intervalMs,
    lateStarts: late,
    codecs,
    ...(batches && batches.batches > 0 ? { batching: { size: batches.size, waitMs: batches.waitMs, runMs: batches.runMs, lanes: batches.lanes, maxWaitMs: batches.maxWaitMs, targetBatch: batches.targetBatch } } : {}),
  };
}

async function scale({ engine, results, T, quick, video, audioSets, audioFrame, keep }) {
  const frames = audioSets[16000].map((d) => audioFrame(16000, d));
  // 200: the target for one machine; 256: the event-loop target's load (docs/BENCHMARKS.md, section 4).
  const audioNs = quick ? [1, 8, 64, 200, 256] : [1, 8, 64, 128, 200, 256, 512];
  const audioRows = [];
  for (const n of audioNs) audioRows.push(await realtime(engine, (i, k) => frames[(i * 7 + k) % frames.length], n, 20, T.scaleSeconds));
  const cols = (interval) => [
    ['sessions', (r) => String(r.sessions)],
    ['frames/s (offered)', (r) => `${num(r.framesPerSecond, 0)} (${num(r.offered, 0)})`],
    ['latency p50 ms', (r) => num(r.latency.p50)],
    ['latency p99 ms', (r) => num(r.latency.p99)],
    ['loop delay p99 ms', (r) => num(r.eventLoopP99)],
    ['RSS/session MiB', (r) => num(r.rssPerSessionMiB, 2)],
    [`p99 < ${num(interval, 1)} ms`, (r) => (r.p99UnderInterval ? 'yes' : 'no')],
  ];
  const batchCols = [
    ['batch frames p50 / p99', (r) => (r.batching ? `${num(r.batching.size.p50, 0)} / ${num(r.batching.size.p99, 0)}` : '-')],
    ['batch wait p50 / p99 ms', (r) => (r.batching ? `${num(r.batching.waitMs.p50)} / ${num(r.batching.waitMs.p99)}` : '-')],
    ['batch run p50 / p99 ms', (r) => (r.batching ? `${num(r.batching.runMs.p50)} / ${num(r.batching.runMs.p99)}` : '-')],
    ['frames not neural', (r) => { const all = Object.values(r.codecs).reduce((a, b) => a + b, 0); return all ? `${num((100 * (all - (r.codecs['neural-audio'] ?? 0))) / all, 1)} %` : '-'; }],
  ];
  const at = keep(table(`4. scale: N audio sessions, 16 kHz speech, 20 ms frames at 50 frames/s each, ${T.scaleSeconds} s after a 1 s warm-up (compressFrame; latency from when each frame was due)`, audioRows, [...cols(20), ...batchCols]));
  const vframes = video['640x360'];
  // At the defaults (predicted frames between keyframes) and with every frame intra-coded by the
  // neural image codec (interFrames: false), the path a keyframe takes.
  const carriedBy = ['carried by', (r) => Object.entries(r.codecs).map(([k, v]) => `${k} ${v}`).join(', ')];
  const videoRows = [];
  for (const n of [1, 2, 4]) videoRows.push(await realtime(engine, (i, k) => vframes[(i + k) % vframes.length], n, 1000 / 15, T.scaleSeconds));
  const vt = keep(table(`4. scale: N video sessions, 640x360 at 15 fps each, defaults (predicted frames), ${T.scaleSeconds} s after a 1 s warm-up (compressFrame)`, videoRows, [...cols(1000 / 15), carriedBy]));
  const intraRows = [];
  for (const n of [1, 2, 4]) intraRows.push(await realtime(engine, (i, k) => vframes[(i + k) % vframes.length], n, 1000 / 15, T.scaleSeconds, { interFrames: false }));
  const it = keep(table(`4. scale: N video sessions, 640x360 at 15 fps each, every frame intra (interFrames: false), ${T.scaleSeconds} s after a 1 s warm-up (compressFrame)`, intraRows, [...cols(1000 / 15), carriedBy]));
  const largest = (rows) => rows.filter((r) => r.p99UnderInterval).reduce((m, r) => Math.max(m, r.sessions), 0);
  const sustained = { audioStreams: largest(audioRows), audioTried: audioNs, videoStreams640x360at15: largest(videoRows), videoStreams640x360at15Intra: largest(intraRows), videoTried: [1, 2, 4] };
  console.log(
    `  real-time streams sustained (largest N tried with p99 under the frame interval): audio ${sustained.audioStreams} (of ${audioNs.join('/')}), video 640x360@15 ${sustained.videoStreams640x360at15} (of 1/2/4), intra only ${sustained.videoStreams640x360at15Intra}`,
  );
  results.sections.scale = { audio: audioRows, video: videoRows, videoIntra: intraRows, sustained, table: at.title, videoTable: vt.title, videoIntraTable: it.title };
}

// ---- 5. our overhead against raw ONNX Runtime in C++ ---------------------------------------------
function ortRawBinary(root) {
  const candidates = [path.join(root, 'build', 'ort-raw', 'out', 'aic_bench_ort_raw'), path.join(root, 'build', 'Release', 'aic_bench_ort_raw')];
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  console.log('  building bench/ort_raw.cc (CMake target aic_bench_ort_raw, into build/ort-raw) ...');
  const dir = path.join(root, 'build', 'ort-raw');
  const cfg = spawnSync('cmake', ['-S', root, '-B', dir, '-DAIC_BUILD_ADDON=OFF', '-DAIC_BUILD_TESTS=OFF', '-DAIC_BUILD_BENCH=ON'], { stdio: 'inherit' });
  if (cfg.status !== 0) return null;
  const b = spawnSync('cmake', ['--build', dir, '--target', 'aic_bench_ort_raw'], { stdio: 'inherit' });
  return b.status === 0 && existsSync(candidates[0]) ? candidates[0] : null;
}

async function rawOrt({ root, engine, image, results, T, quick, video, keep }) {
  const bin = ortRawBinary(root);
  if (!bin) {
    console.log('\n## 5. raw ONNX Runtime: aic_bench_ort_raw could not be built; section skipped');
    results.sections.rawOrt = { skipped: 'aic_bench_ort_raw could not be built' };
    return;
  }
  const f = video['640x360'][0];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'aic-bench-'));
  const rgb = path.join(tmp, 'frame.rgb');
  writeFileSync(rgb, f.data);
  const iterations = quick ? 15 : 60;
  const threads = engine.info().intraOpThreads;
  const dir = path.join(root, 'models', 'aic-image-v1');
  // Ours first and raw after, then ours again: both halves of our samples bracket the raw run.
  const level = image.defaultLevel;
  const ours = [];
  const coding = [];
  const infer = [];
  const oursRun = async () => {
    const t0 = performance.now();
    const e = await image.encode(f, { level });
    const d = await image.decode(e.payload);
    ours.push(performance.now() - t0);
    coding.push(e.timings.preprocessMs + e.timings.postprocessMs + d.timings.preprocessMs + d.timings.postprocessMs);
    infer.push(e.timings.inferenceMs + d.timings.inferenceMs);
  };
  for (let i = 0; i < 3; i++) await oursRun();
  ours.length = coding.length = infer.length = 0;
  for (let i = 0; i < iterations / 2; i++) await oursRun();
  const r = spawnSync(bin, [path.join(dir, 'encoder.onnx'), path.join(dir, 'decoder.onnx'), String(f.width), String(f.height), String(iterations), String(threads), rgb, '16'], { encoding: 'utf8' });
  for (let i = 0; i < iterations / 2; i++) await oursRun();
  rmSync(tmp, { recursive: true, force: true });
  if (r.status !== 0) {
    console.log(`\n## 5. raw ONNX Runtime: aic_bench_ort_raw failed: ${r.stderr}`);
    results.sections.rawOrt = { skipped: r.stderr };
    return;
  }
  const raw = JSON.parse(r.stdout);
  const rows = [
    { name: 'raw ORT C++ encoder+decoder (bench/ort_raw.cc) (baseline)', ...describe(raw.totalMs) },
    { name: 'aic: inference inside encode+decode (result.timings)', ...describe(infer) },
    { name: 'aic: our coding (pre+post of encode and decode: pad, quantise, rANS, dequantise, crop)', ...describe(coding) },
    { name: 'aic: codec.encode+decode end to end from JS', ...describe(ours) },
  ];
  for (const x of rows) x.ratioP50 = x.p50 / rows[0].p50;
  const e2eOverRawPlusCoding = rows[3].p50 / (rows[0].p50 + rows[2].p50);
  const t = keep(table(`5. our overhead against raw ONNX Runtime in C++: 640x360 (padded to ${raw.paddedWidth}x${raw.paddedHeight}), level ${level}, ${threads} threads`, rows, [['path', (x) => x.name], ...timeCols]));
  console.log(`  end to end ÷ (raw ORT + our coding), p50: ${num(e2eOverRawPlusCoding)}x; our inference ÷ raw ORT, p50: ${num(rows[1].p50 / rows[0].p50)}x`);
  results.sections.rawOrt = { binary: path.relative(root, bin), level, threads, iterations, rows, e2eOverRawPlusCoding, inferenceOverRaw: rows[1].p50 / rows[0].p50, table: t.title };
}
