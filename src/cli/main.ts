// The `aic` command line: compress and decompress real files through one session each, show the
// engine and its models, and front the evaluation and the benchmarks. Every subcommand has its
// own --help; usage mistakes exit 2, bad input or an unwritable output exit 1 (errors.ts), and
// outputs appear only when a run succeeds (output.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { createEngine, DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL, type Engine } from '../engine.js';
import { AicError } from '../errors.js';
import type { AudioSampleFormat } from '../frames.js';
import { loadAudioManifest, loadImageManifest } from '../manifest.js';
import { checkMode, type CompressionMode } from '../modes.js';
import { packageRoot } from '../native/load.js';
import { parsePayloadHeader } from '../quality.js';
import type { CompressResult } from '../session/index.js';
import { ContainerReader, ContainerWriter, type ContainerMeta } from './container.js';
import { CliError, describeFailure, fsError, usage } from './errors.js';
import { COMMAND_HELP, isHelpFlag, MAIN_HELP } from './help.js';
import { AtomicOutput } from './output.js';
import { printSummary, Progress, progressWanted, Tally, type RunSummary } from './report.js';
import { checkExtension, checkInput, formatOfName, FORMAT_NAMES, sniff } from './sniff.js';
import { codedRate, readWav, resample, writeWav } from './wav.js';
import { Y4mReader, Y4mWriter } from './y4m.js';

type Kind = ContainerMeta['kind'];

/** Expected time to code one image, for the progress bar's ETA: a rough figure per megapixel on a 2-core CPU. */
const IMAGE_MS_PER_MPIXEL = { compress: 800, decompress: 250 };

interface CompressArgs {
  input: string;
  output: AtomicOutput;
  mode: CompressionMode;
  target?: number;
  minQuality?: number;
  maxLatency?: number;
  screen: boolean;
  kind: Kind;
  progress: boolean;
}

function unit(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw usage('BAD_VALUE', `${what} must be a number from 0 to 1, got '${v}'`, 'compress');
  return n;
}

/** Decodes an image with sharp; a file sharp cannot read is the user's (CORRUPT_INPUT), not a bug. */
async function readImage(file: string): Promise<{ data: Buffer; width: number; height: number; format: 'rgb24' | 'rgba'; alpha: boolean }> {
  try {
    const img = sharp(file, { failOn: 'error' }).rotate();
    const meta = await img.metadata();
    const alpha = meta.hasAlpha === true;
    const { data, info } = await (alpha ? img.ensureAlpha() : img.removeAlpha().toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, format: info.channels === 4 ? 'rgba' : 'rgb24', alpha };
  } catch (error) {
    const reason = ((error as Error).message ?? String(error)).split('\n')[0]!.trim();
    throw new CliError('CORRUPT_INPUT', `${file} cannot be decoded as an image (truncated or corrupt?): ${reason}`);
  }
}

async function compressFile(engine: Engine, a: CompressArgs): Promise<RunSummary> {
  const started = performance.now();
  const session = engine.openSession({
    mode: a.mode,
    ...(a.target !== undefined ? { targetCompressionRatio: a.target } : {}),
    ...(a.minQuality !== undefined ? { minQualityScore: a.minQuality } : {}),
    maxLatencyMs: a.maxLatency ?? Infinity,
  });
  const tally = new Tally();
  const source = path.basename(a.input);
  const label = `compressing ${source}`;
  let writer: ContainerWriter | undefined;
  const send = (r: CompressResult) => {
    tally.add(r);
    writer!.add(r.payload);
  };
  let bar: Progress | undefined;
  try {
    if (a.kind === 'image') {
      bar = new Progress(label, undefined, a.progress);
      bar.step('reading', 1000);
      const img = await readImage(a.input);
      writer = new ContainerWriter(a.output.temp, { kind: 'image', source, width: img.width, height: img.height, format: img.format, hadAlpha: img.alpha });
      bar.step('coding', ((img.width * img.height) / 1e6) * IMAGE_MS_PER_MPIXEL.compress);
      send(await session.compressFrame({ type: a.screen ? 'screen' : 'video', format: img.format, width: img.width, height: img.height, data: img.data }));
    } else if (a.kind === 'video') {
      const y4m = new Y4mReader(a.input);
      const h = y4m.header;
      const total = Math.floor((statSync(a.input).size - 30) / (y4m.frameBytes + 6));
      bar = new Progress(label, Math.max(1, total), a.progress);
      writer = new ContainerWriter(a.output.temp, { kind: 'video', source, width: h.width, height: h.height, fps: h.fps, interlace: h.interlace, aspect: h.aspect, colorspace: h.colorspace, frames: 0 });
      const fps = h.fps[0] / h.fps[1];
      try {
        for (let i = 0; ; i++) {
          const frame = y4m.next();
          if (!frame) {
            if (i === 0) throw new CliError('EMPTY_INPUT', `${a.input} holds a Y4M header but no frames`);
            break;
          }
          send(await session.compressFrame({ type: a.screen ? 'screen' : 'video', format: 'i420', width: h.width, height: h.height, data: frame, fps, timestamp: Math.round((i * 1e6) / fps) }));
          bar.update(i + 1);
        }
      } finally {
        y4m.close();
      }
    } else if (a.kind === 'audio') {
      const wav = readWav(a.input);
      const rate = codedRate(wav.sampleRate);
      if (wav.sourceChannels > 2) tally.note({ kind: 'channels', detail: `${wav.sourceChannels}-channel input was downmixed to 2 channels` });
      if (rate !== wav.sampleRate) tally.note({ kind: 'resampled', detail: `${wav.sampleRate} Hz input was resampled to ${rate} Hz for the codec (and back to ${wav.sampleRate} Hz on decompression)` });
      const codec = engine.audioCodec();
      const delay = codec ? codec.delaySamples(rate) : 0;
      const channels = wav.channels.map((c) => resample(c, wav.sampleRate, rate));
      const n = rate / 50;
      const samples = wav.channels[0]!.length;
      // Whole frames, plus enough silent frames at the end to bring the codec's delayed output out.
      const frames = Math.ceil(channels[0]!.length / n) + Math.ceil(delay / n);
      const format: AudioSampleFormat = wav.sampleFormat === 's16' ? 's16le' : 'f32le';
      const width = format === 's16le' ? 2 : 4;
      writer = new ContainerWriter(a.output.temp, { kind: 'audio', source, sampleRate: wav.sampleRate, codedRate: rate, channels: channels.length, sampleFormat: wav.sampleFormat, samples, delaySamples: delay });
      bar = new Progress(label, frames, a.progress);
      const buf = Buffer.alloc(n * channels.length * width);
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
    } else {
      let data: Buffer;
      try {
        data = readFileSync(a.input);
      } catch (error) {
        throw fsError(error, a.input, false);
      }
      writer = new ContainerWriter(a.output.temp, { kind: 'data', source, bytes: data.length });
      const chunk = 16 << 20;
      bar = new Progress(label, Math.max(1, Math.ceil(data.length / chunk)), a.progress, 'chunks');
      for (let at = 0, k = 0; at < data.length || at === 0; at += chunk) {
        send(await session.compressFrame({ type: 'data', data: data.subarray(at, at + chunk) }));
        bar.update(++k);
        if (at + chunk >= data.length) break;
      }
    }
    writer.close();
    writer = undefined;
    a.output.commit();
  } finally {
    bar?.done();
    writer?.close();
    a.output.discard();
    session.close();
  }
  return tally.summary({ input: a.input, output: a.output.final, kind: a.kind, mode: a.mode, bytesOut: statSync(a.output.final).size, seconds: (performance.now() - started) / 1000 });
}

function decodedName(input: string, ext: string): string {
  const base = input.endsWith('.aic') ? input.slice(0, -4) : input;
  const dir = path.dirname(base);
  const name = path.basename(base);
  const stem = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : name;
  return path.join(dir, `${stem}.decoded${ext}`);
}

/** What decompress writes for each kind, by extension; the first is the default. */
const WRITES: Record<Kind, string[]> = {
  image: ['.png', '.jpg', '.jpeg', '.webp'],
  video: ['.y4m'],
  audio: ['.wav'],
  data: [],
};

/** The output name and format for a container of `meta.kind`; refuses an extension it cannot write (exit 2). */
function decompressTarget(input: string, output: string | undefined, meta: ContainerMeta): { file: string; ext: string } {
  const exts = WRITES[meta.kind];
  if (meta.kind === 'data') return { file: output ?? decodedName(input, path.extname(meta.source) || '.bin'), ext: '' };
  if (output === undefined) return { file: decodedName(input, exts[0]!), ext: exts[0]! };
  const ext = path.extname(output).toLowerCase();
  if (ext === '') return { file: output, ext: exts[0]! };
  if (!exts.includes(ext)) {
    throw usage('UNSUPPORTED_OUTPUT', `cannot write ${meta.kind} as ${ext} (-o ${output}): aic decompress writes ${meta.kind} as ${exts.join(', ')}`, 'decompress');
  }
  return { file: output, ext };
}

async function writeFile(out: AtomicOutput, data: Buffer): Promise<void> {
  try {
    writeFileSync(out.temp, data);
  } catch (error) {
    throw fsError(error, out.final, true);
  }
}

async function decompressFile(engine: Engine, input: string, output: string | undefined, progress: boolean): Promise<Record<string, unknown>> {
  const started = performance.now();
  const reader = new ContainerReader(input);
  let session: ReturnType<Engine['openSession']> | undefined;
  let out: AtomicOutput | undefined;
  let bar: Progress | undefined;
  const meta = reader.meta;
  let frames = 0;
  let bytesOut = 0;
  try {
    const target = decompressTarget(input, output, meta);
    if (path.resolve(target.file) === path.resolve(input)) throw usage('BAD_VALUE', `-o ${target.file} is the input itself`, 'decompress');
    out = new AtomicOutput(target.file);
    session = engine.openSession();
    const label = `decompressing ${path.basename(input)}`;
    const total = meta.kind === 'image' ? undefined : reader.count();
    bar = new Progress(label, total, progress, meta.kind === 'data' ? 'chunks' : 'frames');
    if (meta.kind === 'image') {
      const payload = reader.next();
      if (!payload) throw new AicError('CORRUPT_PAYLOAD', `${input} holds no frame`);
      bar.step('decoding', ((meta.width * meta.height) / 1e6) * IMAGE_MS_PER_MPIXEL.decompress);
      const f = await session.decompressFrame(payload);
      frames = 1;
      bar.step('writing', 500);
      const img = sharp(f.data, { raw: { width: f.width!, height: f.height!, channels: f.format === 'rgba' ? 4 : 3 } });
      const fmt = target.ext === '.png' ? img.png() : target.ext === '.webp' ? img.webp() : img.flatten({ background: '#ffffff' }).jpeg();
      const bytes = await fmt.toBuffer();
      await writeFile(out, bytes);
      bytesOut = bytes.length;
    } else if (meta.kind === 'video') {
      const w = new Y4mWriter(out.temp, { width: meta.width, height: meta.height, fps: meta.fps, interlace: meta.interlace, aspect: meta.aspect, colorspace: meta.colorspace });
      try {
        for (let p = reader.next(); p; p = reader.next()) {
          const f = await session.decompressFrame(p);
          if (f.format !== 'i420' || f.width !== meta.width || f.height !== meta.height) throw new AicError('CORRUPT_PAYLOAD', `${input}: frame ${frames} does not match the clip's size and format`);
          w.add(f.data);
          bytesOut += f.data.length;
          bar.update(++frames);
        }
      } finally {
        w.close();
      }
    } else if (meta.kind === 'audio') {
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
      try {
        writeWav(out.temp, { sampleRate: meta.sampleRate, channels, sampleFormat: meta.sampleFormat });
      } catch (error) {
        throw fsError(error, out.final, true);
      }
      bytesOut = meta.samples * meta.channels * (meta.sampleFormat === 's16' ? 2 : 4);
    } else {
      const parts: Buffer[] = [];
      for (let p = reader.next(); p; p = reader.next()) {
        parts.push((await session.decompressFrame(p)).data);
        bar.update(++frames);
      }
      const data = Buffer.concat(parts);
      if (data.length !== meta.bytes) throw new AicError('CORRUPT_PAYLOAD', `${input} decodes to ${data.length} bytes, its header says ${meta.bytes}`);
      // Data comes back byte for byte; a name that promises a format those bytes are not is refused.
      const promised = formatOfName(out.final);
      if (promised && sniff(data.subarray(0, 16)) !== promised) {
        throw usage('UNSUPPORTED_OUTPUT', `cannot write ${out.final}: ${input} holds the bytes of ${meta.source} as they were, which are not ${FORMAT_NAMES[promised]}; name the output ${path.extname(meta.source) || '.bin'}`, 'decompress');
      }
      await writeFile(out, data);
      bytesOut = data.length;
    }
    out.commit();
  } finally {
    bar?.done();
    out?.discard();
    reader.close();
    session?.close();
  }
  return { input, output: out!.final, kind: meta.kind, source: meta.source, frames, bytesIn: statSync(input).size, bytesOut, seconds: (performance.now() - started) / 1000 };
}

async function manifestInfo(which: string, json: boolean): Promise<void> {
  const file = which === 'image' ? DEFAULT_IMAGE_MODEL : which === 'audio' ? DEFAULT_AUDIO_MODEL : which;
  checkInput(file, 'info');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) throw new CliError('BAD_MANIFEST', `${file} is not a model manifest: it is not JSON (${error.message})`);
    throw fsError(error, file, false);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CliError('BAD_MANIFEST', `${file} is not a model manifest: it holds JSON but not an object`);
  const modality = (raw as { modality?: unknown }).modality;
  if (modality !== 'audio' && modality !== 'image') throw new CliError('BAD_MANIFEST', `${file} is not a valid model manifest: "modality" must be "image" or "audio", got ${JSON.stringify(modality)}`);
  let manifest;
  try {
    manifest = (modality === 'audio' ? await loadAudioManifest(file) : await loadImageManifest(file)).manifest;
  } catch (error) {
    const e = AicError.from(error);
    if (e.code === 'MANIFEST_INVALID' || e.code === 'MODEL_NOT_FOUND') throw new CliError('BAD_MANIFEST', `${file} is not a valid model manifest: ${e.message}`);
    throw error;
  }
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
}

async function engineInfo(engine: Engine, json: boolean): Promise<void> {
  const i = engine.info();
  // Built into ONNX Runtime is not the same as loading: a CUDA build without its libraries lists
  // CUDA and then runs everything on the CPU. What loads is what the models' graphs run on.
  const loaded = [...new Set(i.models.flatMap((m) => [m.encoder.provider, m.decoder.provider]))];
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...i, providers: { builtIn: i.availableProviders, loaded } }, null, 2)}\n`);
    return;
  }
  const lines = [
    `@auralink/aic ${i.version}`,
    `ONNX Runtime ${i.ortVersion} (C API ${i.ortApiVersion}) from ${i.onnxRuntime.library} (${i.onnxRuntime.source})`,
    `CUDA provider libraries: ${i.onnxRuntime.cudaProviders ?? 'not found'}`,
    `addon: ${i.native.path} (${i.native.source})`,
    `providers built into ONNX Runtime: ${i.availableProviders.join(', ') || 'none'}`,
    `providers that load (the models run on): ${loaded.length ? loaded.join(', ') : 'none (no model is loaded)'}`,
    `provider requested: ${i.requestedProvider}${i.strictProvider ? ' (strict)' : ''}`,
  ];
  if (i.providerFallbackReason) {
    lines.push('provider fallback: fell back to CPUExecutionProvider because:');
    for (const l of i.providerFallbackReason.trimEnd().split('\n')) lines.push(`  ${l}`);
  }
  lines.push(`threads: intra-op ${i.intraOpThreads}, inter-op ${i.interOpThreads}`);
  for (const kind of ['image', 'audio'] as const) {
    const c = i.codecs[kind];
    lines.push(c ? `${kind} model: ${c.name}@${c.version}, ${c.levels} levels` : `${kind} model: unavailable (${i.unavailable[kind] ?? ''})`);
  }
  for (const m of i.models) lines.push(`  ${m.name}: encoder on ${m.encoder.provider}, decoder on ${m.decoder.provider}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

const SCRIPTS: Record<'eval' | 'bench', Record<string, string>> = {
  eval: { image: 'eval-image.mjs', audio: 'eval-audio.mjs' },
  bench: { session: 'session.mjs', image: 'image-speed.mjs', core: 'core-overhead.mjs' },
};

function frontScript(kind: 'eval' | 'bench', which: string | undefined, rest: string[]): number {
  const name = which ?? Object.keys(SCRIPTS[kind])[0]!;
  const script = SCRIPTS[kind][name];
  if (!script) throw usage('BAD_VALUE', `aic ${kind} runs ${Object.keys(SCRIPTS[kind]).join(', ')}, not '${name}'`, kind);
  const file = path.join(packageRoot, 'bench', script);
  if (!existsSync(file)) throw new CliError('UNREADABLE_INPUT', `${file} is missing: the benchmarks ship with the package source`);
  const r = spawnSync(process.execPath, [file, ...rest], { stdio: 'inherit' });
  return r.status ?? 1;
}

const COMMANDS = ['compress', 'decompress', 'info', 'eval', 'bench'] as const;
type Command = (typeof COMMANDS)[number];

const EP = { ep: { type: 'string' } } as const;
const PROGRESS = { progress: { type: 'boolean' }, 'no-progress': { type: 'boolean' } } as const;
const OPTIONS = {
  compress: {
    output: { type: 'string', short: 'o' },
    mode: { type: 'string' },
    target: { type: 'string' },
    'min-quality': { type: 'string' },
    'max-latency': { type: 'string' },
    screen: { type: 'boolean' },
    type: { type: 'string' },
    json: { type: 'boolean' },
    ...EP,
    ...PROGRESS,
  },
  decompress: { output: { type: 'string', short: 'o' }, json: { type: 'boolean' }, ...EP, ...PROGRESS },
  info: { json: { type: 'boolean' }, ...EP },
} as const;

/** The help for `aic <command> [<sub>]`, falling back to the command's own. */
function helpFor(command: Command, rest: string[]): string {
  const sub = rest.find((a) => !a.startsWith('-'));
  return (sub && COMMAND_HELP[`${command} ${sub}`]) || COMMAND_HELP[command]!;
}

function parse(command: 'compress' | 'decompress' | 'info', args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS[command] as typeof OPTIONS.compress });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw usage('UNKNOWN_OPTION', message, command);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw usage('MISSING_ARGUMENT', message, command);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw usage('UNEXPECTED_ARGUMENT', message, command);
    throw error;
  }
}

function progressFlag(values: { progress?: boolean; 'no-progress'?: boolean }, command: string): boolean {
  if (values.progress && values['no-progress']) throw usage('BAD_VALUE', '--progress and --no-progress together', command);
  return progressWanted(values['no-progress'] ? false : values.progress ? true : undefined);
}

function engineOptions(ep: string | undefined, command: string) {
  const v = ep ?? 'auto';
  if (!['cpu', 'cuda', 'auto'].includes(v)) throw usage('BAD_VALUE', `--ep must be cpu, cuda or auto, got '${v}'`, command);
  return { executionProvider: v as 'cpu' | 'cuda' | 'auto' };
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command) {
    process.stderr.write(`${MAIN_HELP}\n`);
    return 2;
  }
  if (command === '--help' || command === '-h') {
    process.stdout.write(`${MAIN_HELP}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    if (topic && !(COMMANDS as readonly string[]).includes(topic)) throw usage('UNKNOWN_COMMAND', `no command '${topic}' (commands: ${COMMANDS.join(', ')})`);
    process.stdout.write(`${topic ? helpFor(topic as Command, rest.slice(1)) : MAIN_HELP}\n`);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${(JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version}\n`);
    return 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw usage(command.startsWith('-') ? 'UNKNOWN_OPTION' : 'UNKNOWN_COMMAND', `${command.startsWith('-') ? 'unknown option' : 'unknown command'} '${command}' (commands: ${COMMANDS.join(', ')})`);
  }
  const cmd = command as Command;
  // --help anywhere before a '--' wins over everything else: print and do nothing.
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some(isHelpFlag)) {
    process.stdout.write(`${helpFor(cmd, rest)}\n`);
    return 0;
  }
  if (cmd === 'eval' || cmd === 'bench') {
    const which = rest[0] && !rest[0].startsWith('-') ? rest[0] : undefined;
    return frontScript(cmd, which, which ? rest.slice(1) : rest);
  }
  if (cmd === 'info') {
    const { values, positionals } = parse('info', rest);
    if (positionals.length > 1) throw usage('UNEXPECTED_ARGUMENT', `aic info takes at most one argument, got ${positionals.length}`, 'info');
    const options = engineOptions(values.ep, 'info');
    if (positionals[0]) {
      await manifestInfo(positionals[0], values.json === true);
      return 0;
    }
    const engine = await createEngine(options);
    try {
      await engineInfo(engine, values.json === true);
    } finally {
      await engine.close();
    }
    return 0;
  }

  const { values, positionals } = parse(cmd, rest);
  const json = values.json === true;
  const options = engineOptions(values.ep, cmd);
  const progress = progressFlag(values, cmd);
  if (positionals.length === 0) throw usage('MISSING_ARGUMENT', `aic ${cmd} needs an input file`, cmd);
  if (positionals.length > 1) throw usage('UNEXPECTED_ARGUMENT', `aic ${cmd} takes one input file, got ${positionals.length}: ${positionals.join(' ')}`, cmd);
  const input = positionals[0]!;

  if (cmd === 'decompress') {
    const checked = checkInput(input, cmd);
    if (checked.format !== 'aic') throw new CliError('CONTENT_MISMATCH', `${input} is not an aic container (made by 'aic compress'): it holds ${checked.described}`);
    const engine = await createEngine(options);
    try {
      const r = await decompressFile(engine, input, values.output, progress);
      if (json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else process.stdout.write(`${String(r.output)}: ${String(r.frames)} frame(s) of ${String(r.kind)} (${String(r.source)}) in ${(r.seconds as number).toFixed(2)} s\n`);
      return 0;
    } finally {
      await engine.close();
    }
  }

  // compress: every value and every file is checked before the engine starts.
  const mode = (() => {
    try {
      return checkMode(values.mode ?? 'adaptive', '--mode');
    } catch (error) {
      throw usage('BAD_VALUE', (error as Error).message, 'compress');
    }
  })();
  const target = unit(values.target, '--target');
  const minQuality = unit(values['min-quality'], '--min-quality');
  const maxLatency = values['max-latency'] === undefined ? undefined : Number(values['max-latency']);
  if (maxLatency !== undefined && !(maxLatency > 0)) throw usage('BAD_VALUE', `--max-latency must be a positive number of milliseconds, got '${values['max-latency']}'`, 'compress');
  if (values.type !== undefined && !['image', 'video', 'audio', 'data'].includes(values.type)) throw usage('BAD_VALUE', `--type must be image, video, audio or data, got '${values.type}'`, 'compress');
  const output = values.output ?? `${input}.aic`;
  const outExt = path.extname(output).toLowerCase();
  if (outExt !== '' && outExt !== '.aic') throw usage('UNSUPPORTED_OUTPUT', `aic compress writes an .aic container, not ${outExt} (-o ${output}): name it ${output}.aic, or use aic decompress -o to write ${outExt}`, 'compress');
  if (path.resolve(output) === path.resolve(input)) throw usage('BAD_VALUE', `-o ${output} is the input itself`, 'compress');

  const checked = checkInput(input, cmd);
  let kind: Kind;
  if (values.type !== undefined) kind = values.type as Kind;
  else {
    checkExtension(checked);
    const f = checked.format;
    kind = f === 'png' || f === 'jpeg' || f === 'webp' ? 'image' : f === 'y4m' ? 'video' : f === 'wav' ? 'audio' : 'data';
  }
  const out = new AtomicOutput(output);
  const engine = await createEngine(options);
  try {
    const summary = await compressFile(engine, { input, output: out, mode, target, minQuality, ...(maxLatency !== undefined ? { maxLatency } : {}), screen: values.screen === true, kind, progress });
    if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else printSummary(summary);
    return 0;
  } finally {
    out.discard();
    await engine.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    const f = describeFailure(error);
    process.stderr.write(`aic: error (${f.code}): ${f.message}\n`);
    if (error instanceof CliError && error.exitCode === 2) process.stderr.write(`run 'aic ${error.command ? `${error.command} ` : ''}--help' for usage\n`);
    if (f.code === 'INTERNAL') process.stderr.write('this is a bug in aic: please report it with the message above\n');
    return f.exitCode;
  }
}

