// Smoke test of the packed release, run by .github/workflows/release.yml on every platform: copied
// into an empty project where `npm install <main tarball> <platform tarball>` ran, it checks that
// the platform package @auralink/aic-<platform>-<arch> was installed beside the main package (with
// the same version and the addon in prebuilds/), that the main package carries no addon of its
// own (so the one that loads is the platform package's), then creates an engine and round-trips
// one video frame and one audio frame. Takes no arguments; exits non-zero on any failure.
//
//   node smoke.mjs
import { readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createEngine, AicError } from '@auralink/aic';

const require = createRequire(import.meta.url);
const target = `${process.platform}-${process.arch}`;
const fail = (message) => {
  console.error(`smoke: ${message}`);
  process.exit(1);
};

const mainJson = require.resolve('@auralink/aic/package.json');
const mainDir = path.dirname(mainJson);
const { version } = require(mainJson);
let platformJson;
try {
  platformJson = require.resolve(`@auralink/aic-${target}/package.json`);
} catch {
  fail(`@auralink/aic-${target} is not installed beside @auralink/aic`);
}
const platformDir = path.dirname(platformJson);
if (require(platformJson).version !== version) fail(`@auralink/aic-${target} ${require(platformJson).version} differs from @auralink/aic ${version}`);
if (!existsSync(path.join(platformDir, 'prebuilds', target, 'aic.napi.node'))) fail(`@auralink/aic-${target} has no prebuilds/${target}/aic.napi.node`);
const ownAddons = readdirSync(mainDir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.node') && !f.split(/[\\/]/).includes('node_modules'));
if (ownAddons.length > 0) fail(`@auralink/aic itself carries ${ownAddons.join(', ')}`);

const engine = await createEngine({ executionProvider: 'cpu' });
const tx = engine.openSession({ maxLatencyMs: Infinity });
const rx = engine.openSession();
const W = 64, H = 48;
const image = Buffer.alloc(W * H * 3);
for (let i = 0; i < image.length; i++) image[i] = (i * 7 + (i >> 7)) & 255;
const v = await tx.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: image });
const dv = await rx.decompressFrame(v.payload);
const pcm = Buffer.alloc(640);
for (let i = 0; i < 320; i++) pcm.writeInt16LE(Math.round(5000 * Math.sin(i / 4)), i * 2);
const a = await tx.compressFrame({ type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm });
const da = await rx.decompressFrame(a.payload);
let code = null;
try {
  await engine.decompressFrame(Buffer.from('not a payload'));
} catch (e) {
  code = e instanceof AicError ? e.code : String(e);
}
await engine.close();
const ok = dv.width === W && dv.height === H && dv.data.length === W * H * 3 && da.sampleRate === 16000 && da.data.length === 640 && code === 'CORRUPT_PAYLOAD';
console.log(JSON.stringify({ ok, target, version, video: v.codec, audio: a.codec, code }));
if (!ok) process.exit(1);
