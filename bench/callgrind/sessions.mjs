// Driver for callgrind (docs/native-core.md, "Engine start"): the sessions of the four shipped
// graphs, each graph loaded as a model of itself twice (encoder and decoder: two sessions), once
// optimised from its source and once from the graph ONNX Runtime optimised (the optimised-graph
// cache's entry, made first by a child process that valgrind does not trace). Count the sessions:
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='aic::Graph::Graph*' \
//     node --jitless bench/callgrind/sessions.mjs source|cached
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'package.json'));
const binding = require(path.join(root, 'dist', 'native', 'load.js')).native();
const mode = process.argv[2] ?? 'source';
const graphs = ['aic-image-v1', 'aic-audio-v2'].flatMap((m) => ['encoder', 'decoder'].map((g) => readFileSync(path.join(root, 'models', m, `${g}.onnx`))));
if (mode === 'prepare') {
  // Child process (not traced by valgrind): writes the optimised graphs into the folder given.
  const engine = new binding.Engine({ executionProvider: 'cpu' });
  graphs.forEach((g, i) => engine.loadModelSync({ name: `save-${i}`, encoder: g, decoder: g }, { encoder: { saveTo: path.join(process.argv[3], `g${i}.onnx`) }, decoder: {} }).close());
  engine.close();
} else {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aic-callgrind-sessions-'));
  try {
    let optimized = [];
    if (mode === 'cached') {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'prepare', dir], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error('preparing the optimised graphs failed');
      optimized = graphs.map((_, i) => readFileSync(path.join(dir, `g${i}.onnx`)));
    }
    const engine = new binding.Engine({ executionProvider: 'cpu' });
    const t0 = performance.now();
    graphs.forEach((g, i) => {
      const cache = mode === 'cached' ? { encoder: { optimized: optimized[i] }, decoder: { optimized: optimized[i] } } : undefined;
      const model = engine.loadModelSync({ name: `m-${i}`, encoder: g, decoder: g }, cache);
      if (mode === 'cached' && model.info().encoder.optimizedGraph !== 'cache') throw new Error('the optimised graph was not used');
      model.close();
    });
    console.log(mode, 'sessions ms', (performance.now() - t0).toFixed(1));
    engine.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
