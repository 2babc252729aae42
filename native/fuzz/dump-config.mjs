// Build step of scripts/fuzz.sh: writes the codec configurations the TypeScript layer builds from
// the shipped manifests (dist/manifest.js: nativeImageConfig / nativeAudioConfig, the objects the
// native constructors take; dist/inter-codec.js: readInterModelConfig, the object the native
// InterModel takes, with the keyframe inverse read from its .bin and checked against its SHA-256)
// as text for the C++ harnesses (native/fuzz/fuzz_common.h, Config): one "key value" or
// "key count v1 .. vcount" line each, plus the graphs' paths.
//   node native/fuzz/dump-config.mjs <out-dir>
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { loadImageManifest, loadAudioManifest, nativeImageConfig, nativeAudioConfig } = await import(join(root, 'dist/manifest.js'));
const { readInterModelConfig } = await import(join(root, 'dist/inter-codec.js'));
const out = resolve(process.argv[2] ?? join(root, 'build/fuzz'));
mkdirSync(out, { recursive: true });

function text(config, manifestPath, manifest) {
  const lines = [];
  const dir = dirname(manifestPath);
  if (manifest.encoder) lines.push(`encoderPath ${join(dir, manifest.encoder.file)}`, `decoderPath ${join(dir, manifest.decoder.file)}`);
  const emit = (key, v) => {
    if (ArrayBuffer.isView(v)) lines.push(`${key} ${v.length} ${Array.from(v, String).join(' ')}`);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) emit(`${key}.${k}`, x);
    else lines.push(`${key} ${String(v)}`);
  };
  for (const [k, v] of Object.entries(config)) emit(k, v);
  return lines.join('\n') + '\n';
}

const image = join(root, 'models/aic-image-v1/manifest.json');
const audio = join(root, 'models/aic-audio-v2/manifest.json');
const im = (await loadImageManifest(image)).manifest;
const am = (await loadAudioManifest(audio)).manifest;
writeFileSync(join(out, 'image.cfg'), text(nativeImageConfig(im), image, im));
writeFileSync(join(out, 'audio.cfg'), text(nativeAudioConfig(am), audio, am));
// The inter model has no graphs: its config is the transform, scan orders and keyframe inverse.
const inter = join(root, 'models/aic-inter-v1/manifest.json');
const { manifest: xm, config: xc } = await readInterModelConfig(inter, im);
writeFileSync(join(out, 'inter.cfg'), text(xc, inter, xm));
console.log(`fuzz configs written to ${out}`);
