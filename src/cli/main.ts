// The `aic` command line: compress and decompress real files through one session each, show the
// engine and its models, and front the evaluation and the benchmarks.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createEngine, DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL, type Engine } from '../engine.js';
import { AicError } from '../errors.js';
import type { AudioSampleFormat } from '../frames.js';
import { loadAudioManifest, loadImageManifest } from '../manifest.js';
import { checkMode, type CompressionMode } from '../modes.js';
import { packageRoot } from '../native.js';
import { parsePayloadHeader } from '../quality.js';
import type { CompressResult } from '../session/index.js';
import { ContainerReader, ContainerWriter, type ContainerMeta } from './container.js';
import { printSummary, Progress, Tally, type RunSummary } from './report.js';
import { codedRate, readWav, resample, writeWav } from './wav.js';
import { Y4mReader, Y4mWriter } from './y4m.js';

const USAGE = `aic: neural media compression (@auralink/aic)

usage:
  aic compress <input> [-o out.aic] [--mode M] [--target R] [--min-quality Q] [--ep cpu|cuda|auto]
               [--max-latency MS] [--screen] [--type image|video|audio|data] [--json]
      PNG/JPEG/WebP images, Y4M video (4:2:0), WAV audio (PCM or float, any rate, mono or
      stereo), anything else as data. Writes a container of the session's payloads.
  aic decompress <in.aic> [-o out] [--ep cpu|cuda|auto] [--json]
      Writes PNG, Y4M, WAV or the original bytes (default: <name>.decoded.<ext>).
  aic info [image|audio|<manifest.json>] [--json]
      The engine, ONNX Runtime, execution providers and the models (or one model's manifest).
  aic eval [image|audio] [options of bench/eval-image.mjs or bench/eval-audio.mjs]
  aic bench [image|core|session] [options of the benchmark]

modes: off, conservative, adaptive (default), aggressive. --target and --min-quality override
the mode's target ratio and quality floor. Files are not live, so there is no latency budget
unless --max-latency is given.`;

class UsageError extends Error {}

type Kind = ContainerMeta['kind'];

function detectKind(file: string): Kind {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(12);
  const n = readSync(fd, head, 0, 12, 0);
  closeSync(fd);
  const h = head.subarray(0, n);
  if (h.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image';
  if (h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff) return 'image';
  if (h.toString('latin1', 0, 4) === 'RIFF' && h.toString('latin1', 8, 12) === 'WEBP') return 'image';
  if (h.toString('latin1', 0, 9) === 'YUV4MPEG2') return 'video';
  if (h.toString('latin1', 0, 4) === 'RIFF' && h.toString('latin1', 8, 12) === 'WAVE') return 'audio';
  return 'data';
}

interface CompressArgs {
  input: string;
  output: string;
  mode: CompressionMode;
  target?: number;
  minQuality?: number;
  maxLatency?: number;
  screen: boolean;
  kind: Kind;
}

function unit(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`${what} must be a number from 0 to 1, got '${v}'`);
  return n;
}

async function compressFile(engine: Engine, a: CompressArgs, json: boolean): Promise<RunSummary> {
  const started = performance.now();
  const session = engine.openSession({
    mode: a.mode,
    ...(a.target !== undefined ? { targetCompressionRatio: a.target } : {}),
    ...(a.minQuality !== undefined ? { minQualityScore: a.minQuality } : {}),
    maxLatencyMs: a.maxLatency ?? Infinity,
  });
  const tally = new Tally();
  const source = path.basename(a.input);
  let writer: ContainerWriter | undefined;
  const send = (r: CompressResult) => {
    tally.add(r);
    writer!.add(r.payload);
  };
  const progress = new Progress(`compressing ${source}`, undefined, !json && process.stderr.isTTY === true);
  try {
    if (a.kind === 'image') {
      const img = sharp(a.input, { failOn: 'error' }).rotate();
      const meta = await img.metadata();
      const alpha = meta.hasAlpha === true;
      const { data, info } = await (alpha ? img.ensureAlpha() : img.removeAlpha().toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
      const format = info.channels === 4 ? 'rgba' : 'rgb24';
      writer = new ContainerWriter(a.output, { kind: 'image', source, width: info.width, height: info.height, format, hadAlpha: alpha });
      send(await session.compressFrame({ type: a.screen ? 'screen' : 'video', format, width: info.width, height: info.height, data }));
    } else if (a.kind === 'video') {
      const y4m = new Y4mReader(a.input);
      const h = y4m.header;
      const total = Math.floor((statSync(a.input).size - 30) / (y4m.frameBytes + 6));
      const bar = new Progress(`compressing ${source}`, total, !json && process.stderr.isTTY === true);
      writer = new ContainerWriter(a.output, { kind: 'video', source, width: h.width, height: h.height, fps: h.fps, interlace: h.interlace, aspect: h.aspect, colorspace: h.colorspace, frames: 0 });
      const fps = h.fps[0] / h.fps[1];
      try {
        for (let i = 0; ; i++) {
          const frame = y4m.next();
          if (!frame) break;
          send(await session.compressFrame({ type: a.screen ? 'screen' : 'video', format: 'i420', width: h.width, height: h.height, data: frame, fps, timestamp: Math.round((i * 1e6) / fps) }));
          bar.update(i + 1);
        }
      } finally {
        bar.done();
        y4m.close();
      }
    } else if (a.kind === 'audio') {
      const wav = readWav(a.input);
      const rate = codedRate(wav.sampleRate);
      const codec = engine.audioCodec();
      const delay = codec ? codec.delaySamples(rate) : 0;
      const channels = wav.channels.map((c) => resample(c, wav.sampleRate, rate));
      const n = rate / 50;
      const samples = wav.channels[0]!.length;
      // Whole frames, plus enough silent frames at the end to bring the codec's delayed output out.
      const frames = Math.ceil(channels[0]!.length / n) + Math.ceil(delay / n);
      const format: AudioSampleFormat = wav.sampleFormat === 's16' ? 's16le' : 'f32le';
      const width = format === 's16le' ? 2 : 4;
      writer = new ContainerWriter(a.output, { kind: 'audio', source, sampleRate: wav.sampleRate, codedRate: rate, channels: channels.length, sampleFormat: wav.sampleFormat, samples, delaySamples: delay });
      const bar = new Progress(`compressing ${source}`, frames, !json && process.stderr.isTTY === true);
      const buf = Buffer.alloc(n * channels.length * width);
      try {
        for (let f = 0; f < frames; f++) {
          for (let i = 0; i < n; i++)
            for (let c = 0; c < channels.length; c++) {
              const v = channels[c]![f * n + i] ?? 0;
              const p = (i * channels.length + c) * width;
              if (width === 2) buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32768))), p);
              else buf.writeFloatLE(v, p);
            }
          send(await session.compressFrame({ type: 'audio', format, sampleRate: rate, channels: channels.length, data: buf, timestamp: f * 20000 }));
          bar.update(f + 1);
        }
      } finally {
        bar.done();
      }
    } else {
      const data = readFileSync(a.input);
      writer = new ContainerWriter(a.output, { kind: 'data', source, bytes: data.length });
      const chunk = 16 << 20;
      for (let at = 0; at < data.length || at === 0; at += chunk) {
        send(await session.compressFrame({ type: 'data', data: data.subarray(at, at + chunk) }));
        if (at + chunk >= data.length) break;
      }
    }
  } finally {
    progress.done();
    writer?.close();
    session.close();
  }
  return tally.summary({ input: a.input, output: a.output, kind: a.kind, mode: a.mode, bytesOut: writer?.bytes ?? 0, seconds: (performance.now() - started) / 1000 });
}

function decodedName(input: string, ext: string): string {
  const base = input.endsWith('.aic') ? input.slice(0, -4) : input;
  const dir = path.dirname(base);
  const name = path.basename(base);
  const stem = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name;
  return path.join(dir, `${stem}.decoded${ext}`);
}

async function decompressFile(engine: Engine, input: string, output: string | undefined, json: boolean): Promise<Record<string, unknown>> {
  const started = performance.now();
  const reader = new ContainerReader(input);
  const meta = reader.meta;
  const session = engine.openSession();
  let frames = 0;
  let bytesOut = 0;
  let out: string;
  const bar = new Progress(`decompressing ${path.basename(input)}`, meta.kind === 'video' ? meta.frames || undefined : undefined, !json && process.stderr.isTTY === true);
  try {
    if (meta.kind === 'image') {
      out = output ?? decodedName(input, '.png');
      const payload = reader.next();
      if (!payload) throw new AicError('CORRUPT_PAYLOAD', `${input} holds no frame`);
      const f = await session.decompressFrame(payload);
      frames = 1;
      await sharp(f.data, { raw: { width: f.width!, height: f.height!, channels: f.format === 'rgba' ? 4 : 3 } })
        .png()
        .toFile(out);
      bytesOut = f.data.length;
    } else if (meta.kind === 'video') {
      out = output ?? decodedName(input, '.y4m');
      const w = new Y4mWriter(out, { width: meta.width, height: meta.height, fps: meta.fps, interlace: meta.interlace, aspect: meta.aspect, colorspace: meta.colorspace });
      try {
        for (let p = reader.next(); p; p = reader.next()) {
          const f = await session.decompressFrame(p);
          if (f.format !== 'i420' || f.width !== meta.width || f.height !== meta.height) throw new AicError('CORRUPT_PAYLOAD', `frame ${frames} does not match the clip's size and format`);
          w.add(f.data);
          bytesOut += f.data.length;
          bar.update(++frames);
        }
      } finally {
        w.close();
      }
    } else if (meta.kind === 'audio') {
      out = output ?? decodedName(input, '.wav');
      // Neural output trails the input by the codec's delay; lossless frames come back on time.
      // Each decoded frame is placed where it belongs in the stream; lossless samples win where
      // they overlap, and the stretch a switch to lossless leaves open is filled by concealment.
      const n = meta.codedRate / 50;
      const ch = meta.channels;
      const length = Math.ceil(meta.samples * (meta.codedRate / meta.sampleRate));
      const coded = Array.from({ length: ch }, () => new Float32Array(length));
      const priority = new Uint8Array(length);
      const place = (data: Buffer, format: string, at: number, prio: number) => {
        const width = format === 'f32le' ? 4 : 2;
        const count = data.length / width / ch;
        for (let i = 0; i < count; i++) {
          const k = at + i;
          if (k < 0 || k >= length || priority[k]! > prio) continue;
          priority[k] = prio;
          for (let c = 0; c < ch; c++) {
            const p = (i * ch + c) * width;
            coded[c]![k] = width === 2 ? data.readInt16LE(p) / 32768 : data.readFloatLE(p);
          }
        }
      };
      let previousNeural = false;
      for (let p = reader.next(); p; p = reader.next()) {
        const t = frames * n;
        const neural = parsePayloadHeader(p).codec === 'neural-audio';
        if (!neural && previousNeural) {
          const c = await session.concealFrame();
          place(c.data, c.format, t + c.offsetSamples!, 1);
        }
        const f = await session.decompressFrame(p);
        place(f.data, f.format, t + f.offsetSamples!, neural ? 1 : 2);
        previousNeural = neural;
        bar.update(++frames);
      }
      const channels = coded.map((c) => resample(c, meta.codedRate, meta.sampleRate).subarray(0, meta.samples));
      writeWav(out, { sampleRate: meta.sampleRate, channels, sampleFormat: meta.sampleFormat });
      bytesOut = meta.samples * meta.channels * (meta.sampleFormat === 's16' ? 2 : 4);
    } else {
      out = output ?? decodedName(input, path.extname(meta.source) || '.bin');
      const parts: Buffer[] = [];
      for (let p = reader.next(); p; p = reader.next()) {
        parts.push((await session.decompressFrame(p)).data);
        frames++;
      }
      const data = Buffer.concat(parts);
      if (data.length !== meta.bytes) throw new AicError('CORRUPT_PAYLOAD', `${input} decodes to ${data.length} bytes, its header says ${meta.bytes}`);
      writeFileSync(out, data);
      bytesOut = data.length;
    }
  } finally {
    bar.done();
    reader.close();
    session.close();
  }
  return { input, output: out, kind: meta.kind, source: meta.source, frames, bytesIn: statSync(input).size, bytesOut, seconds: (performance.now() - started) / 1000 };
}

async function info(engine: Engine, which: string | undefined, json: boolean): Promise<void> {
  if (which) {
    const file = which === 'image' ? DEFAULT_IMAGE_MODEL : which === 'audio' ? DEFAULT_AUDIO_MODEL : which;
    if (!existsSync(file)) throw new UsageError(`no model manifest at ${file}`);
    const modality = (JSON.parse(readFileSync(file, 'utf8')) as { modality?: string }).modality;
    const { manifest } = modality === 'audio' ? await loadAudioManifest(file) : await loadImageManifest(file);
    if (json) {
      process.stdout.write(`${JSON.stringify({ path: file, ...manifest }, null, 2)}\n`);
      return;
    }
    const m = manifest as unknown as Record<string, unknown> & { levels: unknown[] };
    process.stdout.write(`${m.name}@${m.version} (${String(m.modality)})\n  ${String(m.description ?? '')}\n  manifest: ${file}\n  levels: ${m.levels.length}\n`);
    for (const part of ['encoder', 'decoder'] as const) {
      const g = m[part] as { file: string; sha256: string };
      process.stdout.write(`  ${part}: ${g.file} (sha256 ${g.sha256.slice(0, 16)}...)\n`);
    }
    if (m.training) process.stdout.write(`  training: ${JSON.stringify(m.training)}\n`);
    return;
  }
  const i = engine.info();
  if (json) {
    process.stdout.write(`${JSON.stringify(i, null, 2)}\n`);
    return;
  }
  const lines = [
    `@auralink/aic ${i.version}`,
    `ONNX Runtime ${i.ortVersion} (C API ${i.ortApiVersion})`,
    `providers available: ${i.availableProviders.join(', ')}`,
    `provider requested: ${i.requestedProvider}${i.providerFallbackReason ? ` (fell back to CPU: ${i.providerFallbackReason.split('\n')[0]!.slice(0, 120)}...)` : ''}`,
    `threads: intra-op ${i.intraOpThreads}, inter-op ${i.interOpThreads}`,
  ];
  for (const kind of ['image', 'audio'] as const) {
    const c = i.codecs[kind];
    lines.push(c ? `${kind} model: ${c.name}@${c.version}, ${c.levels} levels` : `${kind} model: unavailable (${i.unavailable[kind] ?? ''})`);
  }
  for (const m of i.models) lines.push(`  ${m.name}: encoder on ${m.encoder.provider}, decoder on ${m.decoder.provider}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function frontScript(kind: 'eval' | 'bench', which: string | undefined, rest: string[]): number {
  const scripts: Record<string, Record<string, string>> = {
    eval: { image: 'eval-image.mjs', audio: 'eval-audio.mjs' },
    bench: { image: 'image-speed.mjs', core: 'core-overhead.mjs', session: 'session.mjs' },
  };
  const name = which ?? (kind === 'eval' ? 'image' : 'session');
  const script = scripts[kind]![name];
  if (!script) throw new UsageError(`aic ${kind} runs ${Object.keys(scripts[kind]!).join(' or ')}, not '${name}'`);
  const file = path.join(packageRoot, 'bench', script);
  if (!existsSync(file)) throw new UsageError(`${file} is missing: the benchmarks ship with the package source`);
  const r = spawnSync(process.execPath, [file, ...rest], { stdio: 'inherit' });
  return r.status ?? 1;
}

export async function main(argv: string[]): Promise<number> {
  let json = false;
  try {
    const [command, ...rest] = argv;
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return command ? 0 : 2;
    }
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${(JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version}\n`);
      return 0;
    }
    if (command === 'eval' || command === 'bench') {
      const which = rest[0] && !rest[0].startsWith('-') ? rest[0] : undefined;
      return frontScript(command, which, which ? rest.slice(1) : rest);
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        mode: { type: 'string' },
        target: { type: 'string' },
        'min-quality': { type: 'string' },
        'max-latency': { type: 'string' },
        ep: { type: 'string' },
        screen: { type: 'boolean' },
        type: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
    json = values.json === true;
    const ep = values.ep ?? 'auto';
    if (!['cpu', 'cuda', 'auto'].includes(ep)) throw new UsageError(`--ep must be cpu, cuda or auto, got '${ep}'`);
    const engineOptions = { executionProvider: ep as 'cpu' | 'cuda' | 'auto' };
    if (command === 'info') {
      const engine = await createEngine(engineOptions);
      try {
        await info(engine, positionals[0], json);
      } finally {
        await engine.close();
      }
      return 0;
    }
    if (command !== 'compress' && command !== 'decompress') throw new UsageError(`unknown command '${command}'`);
    const input = positionals[0];
    if (!input || positionals.length > 1) throw new UsageError(`aic ${command} takes one input file`);
    if (!existsSync(input) || !statSync(input).isFile()) throw new UsageError(`${input}: no such file`);
    const engine = await createEngine(engineOptions);
    try {
      if (command === 'decompress') {
        const r = await decompressFile(engine, input, values.output, json);
        if (json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else process.stdout.write(`${String(r.output)}: ${String(r.frames)} frame(s) of ${String(r.kind)} (${String(r.source)}) in ${(r.seconds as number).toFixed(2)} s\n`);
        return 0;
      }
      const kind = (values.type ?? detectKind(input)) as Kind;
      if (!['image', 'video', 'audio', 'data'].includes(kind)) throw new UsageError(`--type must be image, video, audio or data, got '${kind}'`);
      const maxLatency = values['max-latency'] === undefined ? undefined : Number(values['max-latency']);
      if (maxLatency !== undefined && !(maxLatency > 0)) throw new UsageError('--max-latency must be a positive number of milliseconds');
      const summary = await compressFile(
        engine,
        {
          input,
          output: values.output ?? `${input}.aic`,
          mode: checkMode(values.mode ?? 'adaptive', '--mode'),
          target: unit(values.target, '--target'),
          minQuality: unit(values['min-quality'], '--min-quality'),
          ...(maxLatency !== undefined ? { maxLatency } : {}),
          screen: values.screen === true,
          kind,
        },
        json,
      );
      if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else printSummary(summary);
      return 0;
    } finally {
      await engine.close();
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (error as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      process.stderr.write(`aic: ${(error as Error).message}\nrun 'aic --help' for usage\n`);
      return 2;
    }
    const e = AicError.from(error);
    const sharpError = !(error instanceof AicError) && /Input file|unsupported image format|VipsJpeg|pngload/i.test((error as Error).message ?? '');
    process.stderr.write(`aic: error${sharpError ? '' : ` (${e.code})`}: ${e.message}\n`);
    return 1;
  }
}
