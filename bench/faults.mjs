// Injected faults (issue 13, part 6): many sessions send small frames (160x90 video and 20 ms
// audio at 16 kHz, alternating) while the native core's test-only fault injector fails some
// encoder runs (INFERENCE_FAILED), throws std::bad_alloc in others (OUT_OF_MEMORY) and slows
// some; then injection stops and more frames follow. Checked, exit 1 on any violation:
//   1. every frame yields a payload, and every payload decodes on a receiving session;
//   2. the frames that fell back for 'error' or 'model_unavailable' (as the results say, and as
//      the sessions' stats().fallbacks say) equal the faults the injector counts: only encoder
//      runs are eligible, a sending session's neural path runs its encoder once per frame, and an
//      injected throw ends that frame's neural attempt, so one injected failure is one frame;
//   3. once injection stops, no frame falls back for 'error' and frames go neural again.
//   npm run build && node bench/faults.mjs [--frames 100000] [--recovery-frames N] [--sessions 64]
//     [--fail-every 50] [--alloc-every 173] [--slow-every 97] [--slow-ms 5] [--json out.json]
import { writeFileSync } from 'node:fs';
import { createEngine } from '../dist/index.js';
import { native } from '../dist/native/load.js';
import { arg } from './args.mjs';

export async function runFaults(opts = {}) {
  const o = {
    frames: 100000,
    recoveryFrames: undefined,
    sessions: 64,
    failEvery: 50,
    allocEvery: 173,
    slowEvery: 97,
    slowMs: 5,
    log: () => {},
    ...opts,
  };
  const recoveryFrames = o.recoveryFrames ?? Math.max(1000, Math.round(o.frames / 10));
  const faults = native().faults;
  faults.clear();
  const W = 160;
  const H = 90;
  const image = Buffer.alloc(W * H * 3);
  for (let i = 0; i < image.length; i++) image[i] = (i * 31 + ((i / 480) | 0) * 7) & 255;
  const pcm = Buffer.alloc(640);
  for (let i = 0; i < 320; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin(i / 5) * Math.sin(i / 37)), i * 2);

  const engine = await createEngine({ executionProvider: 'cpu', maxSessions: 4 * o.sessions + 16 });
  const pairs = Array.from({ length: o.sessions }, (_, k) => ({
    tx: engine.openSession({ sessionId: `faults-${k}`, maxLatencyMs: Infinity }),
    rx: engine.openSession({ sessionId: `faults-rx-${k}` }),
    sent: 0,
  }));
  const violations = [];
  const violate = (msg) => {
    if (violations.length < 20) violations.push(msg);
    else if (violations.length === 20) violations.push('(more violations left out)');
  };

  const sumFallbacks = () => {
    const f = { error: 0, model_unavailable: 0, quality: 0, latency: 0 };
    for (const p of pairs) for (const k of Object.keys(f)) f[k] += p.tx.stats().fallbacks[k] ?? 0;
    return f;
  };

  async function phase(name, frames) {
    const tally = { frames: 0, neural: 0, neuralVideo: 0, neuralAudio: 0, error: 0, modelUnavailable: 0, otherFallback: 0, neuralRan: 0, faultedNotMet: 0, decoded: 0, failed: 0 };
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      pairs.map(async (p) => {
        while (next < frames) {
          next++;
          const i = p.sent++;
          const frame = i % 2 === 0
            ? { type: 'video', format: 'rgb24', width: W, height: H, data: image, timestamp: i }
            : { type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm, timestamp: i * 20 };
          tally.frames++;
          let r;
          try {
            r = await p.tx.compressFrame(frame);
          } catch (error) {
            tally.failed++;
            violate(`${name}: ${p.tx.sessionId ?? 'session'} frame ${i} threw ${error?.code ?? ''} ${error?.message ?? error}`);
            continue;
          }
          if (!r?.payload || r.payload.length === 0) {
            tally.failed++;
            violate(`${name}: frame ${i} yielded no payload`);
            continue;
          }
          if (r.codec === 'neural-image' || r.codec === 'neural-audio') {
            tally.neural++;
            if (r.codec === 'neural-image') tally.neuralVideo++;
            else tally.neuralAudio++;
          }
          if (r.fallbackReason === 'error') tally.error++;
          else if (r.fallbackReason === 'model_unavailable') tally.modelUnavailable++;
          else if (r.fallbackReason) tally.otherFallback++;
          // The network ran and was measured (kept, or outscored by the conventional codec).
          if (r.codec.startsWith('neural') || r.fallbackReason === 'quality') tally.neuralRan++;
          // Faulted frames whose fallback codec then missed the floor (status
          // quality_threshold_not_met; stats().fallbacks counts them under their reason too).
          if ((r.fallbackReason === 'error' || r.fallbackReason === 'model_unavailable') && r.status !== 'fallback') tally.faultedNotMet++;
          try {
            await p.rx.decompressFrame(r.payload);
            tally.decoded++;
          } catch (error) {
            tally.failed++;
            violate(`${name}: frame ${i} (${r.codec}) did not decode: ${error?.code ?? ''} ${error?.message ?? error}`);
          }
        }
      }),
    );
    tally.seconds = (performance.now() - t0) / 1000;
    return tally;
  }

  // Warm-up without faults: first frames of every session (engine caches, priors, JIT).
  const warm = await phase('warm-up', 2 * o.sessions);
  const before = sumFallbacks();

  faults.set({ inferenceFailureEvery: o.failEvery, allocFailureEvery: o.allocEvery, slowEvery: o.slowEvery, slowMs: o.slowMs });
  const injecting = await phase('faults', o.frames);
  const injected = faults.counts();
  faults.set({});
  const during = sumFallbacks();
  const afterCounts = faults.counts();

  const recovery = await phase('recovery', recoveryFrames);
  const after = sumFallbacks();
  const stray = faults.counts();
  await engine.close();
  faults.clear();

  // The frames the injected faults took down: a failed run fails every row of it (an audio batch
  // runs many sessions' frames as the rows of one run).
  const injectedFailures = injected.failedRows;
  const sessionsFaulted = during.error - before.error + (during.model_unavailable - before.model_unavailable);
  const resultsFaulted = injecting.error + injecting.modelUnavailable;
  if (warm.error + warm.modelUnavailable > 0) violate(`warm-up: ${warm.error + warm.modelUnavailable} frames fell back for 'error' with no fault injected`);
  if (injecting.failed + recovery.failed + warm.failed > 0) violate(`${injecting.failed + recovery.failed + warm.failed} frames failed (threw, no payload, or did not decode)`);
  if (injected.inferenceFailures === 0 || injected.allocFailures === 0) violate('the run injected no inference or no allocation failure (too few frames?)');
  if (sessionsFaulted !== injectedFailures) {
    violate(`sessions' fallbacks (error + model_unavailable) ${sessionsFaulted} != injected failures ${injectedFailures}`);
  }
  if (resultsFaulted !== injectedFailures) violate(`frames whose results say 'error'/'model_unavailable' ${resultsFaulted} != injected failures ${injectedFailures}`);
  if (stray.inferenceFailures !== afterCounts.inferenceFailures || stray.allocFailures !== afterCounts.allocFailures) violate('faults were injected after injection stopped');
  if (after.error !== during.error || recovery.error > 0) violate(`${after.error - during.error} frames fell back for 'error' after the faults stopped`);
  if (after.model_unavailable !== during.model_unavailable) violate(`${after.model_unavailable - during.model_unavailable} frames fell back for 'model_unavailable' after the faults stopped`);
  if (recovery.neuralRan === 0 || recovery.neuralAudio === 0) violate(`after the faults stopped the network did not run (${recovery.neuralRan} frames) or no audio went neural (${recovery.neuralAudio})`);
  // Recovered: the share of frames the network ran on after the faults is at least that of the
  // frames the faults spared.
  const spared = injecting.neuralRan / Math.max(1, injecting.frames - resultsFaulted);
  const recoveredShare = recovery.neuralRan / Math.max(1, recovery.frames);
  if (recoveredShare + 0.02 < spared) violate(`neural share after the faults ${recoveredShare.toFixed(3)} is under that of the spared frames ${spared.toFixed(3)}`);

  const result = {
    command: `node bench/faults.mjs --frames ${o.frames} --recovery-frames ${recoveryFrames} --sessions ${o.sessions} --fail-every ${o.failEvery} --alloc-every ${o.allocEvery} --slow-every ${o.slowEvery} --slow-ms ${o.slowMs}`,
    sessions: o.sessions,
    warm,
    injecting,
    recovery,
    injected,
    injectedFailures,
    sessionsFaulted,
    resultsFaulted,
    neuralShareSpared: spared,
    neuralShareRecovered: recoveredShare,
    violations,
    ok: violations.length === 0,
  };
  o.log(
    `faults phase: ${injecting.frames} frames over ${o.sessions} sessions in ${injecting.seconds.toFixed(1)} s; ${injected.eligibleRuns} encoder runs, injected ${injected.inferenceFailures} inference failures + ${injected.allocFailures} allocation failures, failing ${injectedFailures} frames (a batch's run fails all its rows), ${injected.slowRuns} slow runs (${o.slowMs} ms)`,
  );
  o.log(`  frames fallen back for error/model_unavailable: ${resultsFaulted} by the results, ${sessionsFaulted} by the sessions' stats (${injecting.faultedNotMet} of them under the floor, status quality_threshold_not_met; other fallbacks ${injecting.otherFallback}); ${injecting.decoded}/${injecting.frames} payloads decoded; network ran on ${injecting.neuralRan}, neural payloads ${injecting.neural}`);
  o.log(`recovery phase: ${recovery.frames} frames in ${recovery.seconds.toFixed(1)} s; 'error' fallbacks ${recovery.error}; network ran on ${recovery.neuralRan}, neural payloads ${recovery.neural} (video ${recovery.neuralVideo}, audio ${recovery.neuralAudio}), network share ${recoveredShare.toFixed(3)} vs ${spared.toFixed(3)} of the spared frames; ${recovery.decoded}/${recovery.frames} decoded`);
  o.log(violations.length === 0 ? 'OK: no violations' : `VIOLATIONS:\n  ${violations.join('\n  ')}`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const jsonOut = arg('json', null);
  const rf = arg('recovery-frames', null);
  const result = await runFaults({
    frames: Number(arg('frames', '100000')),
    recoveryFrames: rf === null ? undefined : Number(rf),
    sessions: Number(arg('sessions', '64')),
    failEvery: Number(arg('fail-every', '50')),
    allocEvery: Number(arg('alloc-every', '173')),
    slowEvery: Number(arg('slow-every', '97')),
    slowMs: Number(arg('slow-ms', '5')),
    log: (s) => console.log(s),
  });
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 1));
  process.exitCode = result.ok ? 0 : 1;
}
