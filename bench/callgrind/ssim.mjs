// Driver for callgrind (docs/native-core.md, "The closed loop's cost"): three imageQuality() calls at
// 640x360 (nine plane SSIMs). Run: valgrind --tool=callgrind node --jitless bench/callgrind/ssim.mjs
import { imageQuality } from '../../dist/index.js';
const w = 640, h = 360;
const a = Buffer.alloc(w * h * 3), b = Buffer.alloc(w * h * 3);
let s = 1;
for (let i = 0; i < a.length; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = (i % 251) ^ (s >>> 28); b[i] = a[i] + ((s >>> 24) & 7); }
for (let i = 0; i < 3; i++) imageQuality(a, b, w, h);
