// A receiver of test/inter-determinism.test.ts in a process of its own (ONNX Runtime has one
// environment per process, so another thread count needs another process): decodes the payloads
// payload-0.bin, payload-1.bin, ... of <dir> in one session of an engine made with <options>
// (JSON), writes each decoded frame to <out>/decoded-<k>.bin, and prints what it ran on.
// Runs the built package (dist/).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createEngine } = require(path.join(__dirname, '..', 'dist', 'index.js'));

async function main() {
  const [dir, out, json] = process.argv.slice(2);
  const options = JSON.parse(json);
  const engine = await createEngine(options);
  try {
    const rx = engine.openSession();
    const frames = [];
    for (let k = 0; fs.existsSync(path.join(dir, `payload-${k}.bin`)); k++) {
      const d = await rx.decompressFrame(fs.readFileSync(path.join(dir, `payload-${k}.bin`)));
      fs.writeFileSync(path.join(out, `decoded-${k}.bin`), d.data);
      frames.push({ codec: d.codec, keyframe: d.keyframe, sequence: d.sequence });
    }
    const info = engine.info();
    const decoder = info.models.find((m) => m.decoder)?.decoder;
    process.stdout.write(
      JSON.stringify({
        frames,
        availableProviders: info.availableProviders,
        decoderProvider: decoder?.provider ?? null,
        providerFallbackReason: info.providerFallbackReason,
        intraOpThreads: info.intraOpThreads,
        graphOptimization: info.graphOptimization,
      }) + '\n',
    );
  } finally {
    await engine.close();
  }
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
  process.exitCode = 1;
});
