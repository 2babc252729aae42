// Driver for callgrind (docs/native-core.md, "Engine start"): one createEngine() with both shipped codecs.
// Run: valgrind --tool=callgrind node --jitless bench/callgrind/engine-start.mjs
import { createEngine } from '../../dist/index.js';
const t0 = performance.now();
const e = await createEngine({ executionProvider: 'cpu' });
console.log('createEngine ms', (performance.now() - t0).toFixed(1));
await e.close();
