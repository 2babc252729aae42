// JavaScript-level fuzzing of the decode API (npm run fuzz:api): mutates real payloads
// (native/fuzz/corpus/parser, made by native/fuzz/make-corpus.mjs), recomputes their CRC-32C (full
// form) or 16-bit check (short audio form, over the audio model's id) most of the time so the
// mutations reach the body decoders, and throws them at engine.decompressFrame() and a session's
// decompressFrame(). This covers what the C++ harnesses cannot: the inflate of lossless bodies
// (Node's zlib) and the WebP / JPEG decode (sharp). Every third input is a mutated predicted frame
// (made at start-up by a session with interFrames: true) decoded by a receiving session that has
// just decoded the frame's keyframe, so that it holds the reference the frame names (the body's
// reference sequence and check are kept 3 times in 4).
//
// Every rejection must be an AicError with code CORRUPT_PAYLOAD, UNSUPPORTED_VERSION,
// MODEL_MISMATCH, LIMIT_EXCEEDED or REFERENCE_MISSING (a predicted frame whose reference the
// decoder does not hold); anything else (INTERNAL, another code, a plain Error, a crash) fails the
// run, and so does RSS growing past a bound.
//   node test/fuzz-api.mjs [--iterations N = 3000] [--seconds S] [--seed K] [--max-rss-mb M = 1500]
// A failing input is written to native/fuzz/regressions/api/ and replayed first on the next run.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { createEngine, AicError } = await import(join(root, 'dist/index.js'));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const iterations = arg('iterations', 3000);
const seconds = arg('seconds', Infinity);
const maxRssMb = arg('max-rss-mb', 1500);
let seed = arg('seed', 1) >>> 0 || 1;
const ALLOWED = new Set(['CORRUPT_PAYLOAD', 'UNSUPPORTED_VERSION', 'MODEL_MISMATCH', 'LIMIT_EXCEEDED', 'REFERENCE_MISSING']);

// ---- CRC-32C and the check of the short form ----------------------------------------------
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[n] = c >>> 0;
}
function crc32c(buf) {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function fix(p, audioModelId) {
  if (p[0] === 0xa5) {
    if (p.length < 13) return p;
    const id = Buffer.alloc(4);
    id.writeUInt32LE(audioModelId);
    const c = crc32c(Buffer.concat([id, p.subarray(0, p.length - 2)]));
    p.writeUInt16LE(c & 0xffff, p.length - 2);
    return p;
  }
  if (p.length < 44) return p;
  if (rnd(8)) p.writeUInt32LE(p.length - 44, 28);
  p.writeUInt32LE(crc32c(p.subarray(0, p.length - 4)), p.length - 4);
  return p;
}

// ---- mutations ------------------------------------------------------------------------------
function rnd(n) {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed % n;
}
const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff, 16384, 16385, 64, 8000, 48000];
function mutate(src, pool) {
  let p = Buffer.from(src);
  const header = p[0] === 0xa5 ? 10 : 40;
  for (let n = 1 + rnd(4); n > 0; n--) {
    switch (rnd(9)) {
      case 0: if (p.length) p[rnd(p.length)] ^= 1 << rnd(8); break; // bit flip
      case 1: if (p.length) p[rnd(p.length)] = rnd(256); break; // byte
      case 2: if (p.length > header) p[header + rnd(p.length - header)] = rnd(256); break; // body byte
      case 3: if (p.length >= 28 && p[0] !== 0xa5) p.writeUInt32LE(INTERESTING[rnd(INTERESTING.length)] >>> 0, 4 * (3 + rnd(4))); break; // model id / seq / dims
      case 4: if (p.length > header + 4) p = Buffer.concat([p.subarray(0, header + rnd(p.length - header)), p.subarray(p.length - 4)]); break; // truncate body
      case 5: p = Buffer.concat([p.subarray(0, p.length - 4), Buffer.alloc(1 + rnd(64), rnd(256)), p.subarray(p.length - 4)]); break; // grow body
      case 6: if (p.length > 11 && p[0] !== 0xa5) p[6 + rnd(5)] = rnd(8); break; // frame type, codec, flags, level, format
      case 7: { // splice another payload's body
        const o = pool[rnd(pool.length)];
        if (o.length > 44 && p.length > 44) p = Buffer.concat([p.subarray(0, 40), o.subarray(40, o.length - 4), p.subarray(p.length - 4)]);
        break;
      }
      case 8: if (p.length > 2 && p[0] === 0xa5) p[1] = rnd(16); break; // short-form format byte
    }
  }
  return rnd(8) ? fix(p, pool.audioModelId) : p;
}

// ---- run ------------------------------------------------------------------------------------
const corpusDir = join(root, 'native/fuzz/corpus/parser');
const regressions = join(root, 'native/fuzz/regressions/api');
const read = (dir) => (existsSync(dir) ? readdirSync(dir).sort().map((f) => readFileSync(join(dir, f))) : []);
const pool = read(corpusDir);
if (pool.length === 0) throw new Error(`no seed payloads in ${corpusDir}: run node native/fuzz/make-corpus.mjs`);

const engine = await createEngine({ cacheDir: false });
pool.audioModelId = engine.audioCodec()?.modelId ?? 0;
let session = engine.openSession({});
const failures = [];
let rejected = 0, decoded = 0;
const interOutcomes = {}; // predicted inputs: 'decoded' or the rejection's code

// Predicted frames and their keyframes: a sender with interFrames on small moving frames,
// keyframeInterval 2, so each predicted frame is coded against the keyframe just before it.
async function predictedPairs() {
  const pairs = [];
  for (const [w, h, dx, dy, format] of [[32, 32, 2, 1, 'rgb24'], [48, 40, -3, 2, 'rgba'], [64, 64, 1, -2, 'rgb24']]) {
    const tx = engine.openSession({ interFrames: true, keyframeInterval: 2, maxLatencyMs: Infinity });
    const bpp = format === 'rgba' ? 4 : 3;
    let key = null;
    for (let k = 0; k < 6; k++) {
      const data = Buffer.alloc(w * h * bpp);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const u = x + dx * k, v = y + dy * k;
          const o = (y * w + x) * bpp;
          data[o] = (u * 5 + v * 3) & 255;
          data[o + 1] = 128 + 100 * Math.sin(u / 5) * Math.cos(v / 7);
          data[o + 2] = ((u >> 3) + (v >> 3)) & 1 ? 200 : 40;
          if (bpp === 4) data[o + 3] = 255;
        }
      const r = await tx.compressFrame({ type: 'video', format, width: w, height: h, data });
      if (r.codec === 'neural-image') key = Buffer.from(r.payload);
      else if (r.codec === 'predicted' && key) pairs.push({ key, pred: Buffer.from(r.payload) });
    }
    tx.close();
  }
  return pairs;
}
const pairs = engine.capabilities().codecs.includes('predicted') ? await predictedPairs() : [];
let receiver = engine.openSession({});
// A receiver that holds `pair`'s keyframe as its reference: every predicted input starts alike.
async function withReference(pair) {
  try {
    await receiver.decompressFrame(pair.key);
  } catch (e) {
    failures.push(`keyframe of a predicted frame does not decode: ${e?.code ?? ''} ${e?.message ?? e}`);
    receiver = engine.openSession({});
  }
}
for (const pair of pairs) {
  await withReference(pair);
  try {
    await receiver.decompressFrame(pair.pred);
  } catch (e) {
    failures.push(`an unmutated predicted frame does not decode after its keyframe: ${e?.code ?? ''} ${e?.message ?? e}`);
  }
}
function mutatePredicted(pair) {
  const p = mutate(pair.pred, pool);
  if (p.length >= 52 && rnd(4)) {
    pair.pred.copy(p, 40, 40, 48); // the reference's sequence and check
    if (rnd(2)) pair.pred.copy(p, 0, 0, 28); // and the header up to the body length
    if (rnd(8)) fix(p, pool.audioModelId);
  }
  return p;
}

async function one(bytes, where) {
  const target = where === 'engine' ? engine : where === 'inter' ? receiver : session;
  try {
    await target.decompressFrame(bytes);
    decoded++;
    if (where === 'inter') interOutcomes.decoded = (interOutcomes.decoded ?? 0) + 1;
  } catch (e) {
    if (where === 'inter') interOutcomes[e?.code ?? 'other'] = (interOutcomes[e?.code ?? 'other'] ?? 0) + 1;
    if (e instanceof AicError && ALLOWED.has(e.code)) {
      rejected++;
      return;
    }
    const what = e instanceof AicError ? `AicError ${e.code}: ${e.message}` : `${e?.name ?? typeof e}: ${e?.message ?? e}`;
    mkdirSync(regressions, { recursive: true });
    const file = join(regressions, createHash('sha1').update(bytes).digest('hex'));
    writeFileSync(file, bytes);
    failures.push(`${where}.decompressFrame: ${what} (input ${file})`);
    if (where === 'session') session = engine.openSession({});
    if (where === 'inter') receiver = engine.openSession({});
  }
}

const started = Date.now();
const rss0 = process.memoryUsage().rss;
let peak = rss0;
for (const r of read(regressions)) for (const where of ['engine', 'session']) await one(r, where);
let i = 0, predicted = 0;
for (; i < iterations && (Date.now() - started) / 1000 < seconds; i++) {
  if (pairs.length && i >= pool.length && i % 3 === 2) {
    const pair = pairs[rnd(pairs.length)];
    await withReference(pair);
    await one(mutatePredicted(pair), 'inter');
    predicted++;
    continue;
  }
  const bytes = i < pool.length ? pool[i] : mutate(pool[rnd(pool.length)], pool);
  await one(bytes, i % 2 ? 'session' : 'engine');
  if (i % 100 === 0) {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (peak > maxRssMb * 1024 * 1024) {
      failures.push(`RSS reached ${(peak / 1048576).toFixed(0)} MiB (bound ${maxRssMb} MiB) after ${i} inputs`);
      break;
    }
  }
}
await engine.close();
const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log(`fuzz-api: ${i} inputs (${predicted} predicted frames from ${pairs.length} seeds) in ${secs} s: ${decoded} decoded, ${rejected} rejected as expected; RSS ${(rss0 / 1048576).toFixed(0)} -> peak ${(peak / 1048576).toFixed(0)} MiB`);
if (predicted) console.log(`fuzz-api: predicted frames: ${JSON.stringify(interOutcomes)}`);
const unique = [...new Set(failures.map((f) => f.replace(/ \(input .*\)$/, '')))];
if (failures.length) {
  console.error(`fuzz-api: ${failures.length} failure(s), ${unique.length} distinct:`);
  for (const f of failures.slice(0, 20)) console.error(`  ${f}`);
  process.exit(1);
}
