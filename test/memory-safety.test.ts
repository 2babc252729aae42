// Caller memory (docs/native-core.md, "Caller memory"): whatever a caller does to its Buffers and
// ArrayBuffers while a call runs (detach, transfer, resize, mutate), the process stays up and the
// call either completes as if nothing happened (the input was copied at call time) or rejects
// with INVALID_ARGUMENT; payloads own their bytes; caller mistakes are typed AicErrors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, tensor, type Engine, type Frame, type Model } from '../src/index.js';
import { tinyModel } from './helpers.js';
import { speechLike, syntheticFrame, toS16 } from './media.js';

const W = 64;
const H = 48;
const RUNS = 200;

/** Detaches `buffer` the way a caller would: by transferring it elsewhere. */
function detach(buffer: ArrayBufferLike): void {
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
}

/** A fresh ArrayBuffer (not Node's pooled memory) holding `bytes`. */
function own(bytes: Uint8Array): Uint8Array {
  const u = new Uint8Array(new ArrayBuffer(bytes.length));
  u.set(bytes);
  return u;
}

function resizable(bytes: Uint8Array): { view: Uint8Array; ab: ArrayBuffer & { resize(n: number): void } } {
  const ab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(bytes.length, { maxByteLength: bytes.length });
  const view = new Uint8Array(ab, 0, bytes.length);
  view.set(bytes);
  return { view, ab };
}

function shared(bytes: Uint8Array): Uint8Array {
  const u = new Uint8Array(new SharedArrayBuffer(bytes.length));
  u.set(bytes);
  return u;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? `raw ${String(error)}`);
  }
}

function codeOfSync(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? `raw ${String(error)}`);
  }
}

describe('caller memory during a call', () => {
  let engine: Engine;
  let model: Model;
  const rgb = new Uint8Array(syntheticFrame(W, H));
  const video = (data: ArrayBufferView): Frame => ({ type: 'video', format: 'rgb24', width: W, height: H, data });

  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
    model = await engine.loadModel(tinyModel);
  });
  afterAll(async () => engine.close());

  it('imageCodec().encode: detaching the frame right after the call gives the payload of the untouched frame', async () => {
    const codec = engine.imageCodec()!;
    const reference = (await codec.encode({ data: rgb, width: W, height: H, format: 'rgb24' }, { level: 4 })).payload;
    for (let i = 0; i < RUNS; i++) {
      const data = own(rgb);
      const pending = codec.encode({ data, width: W, height: H, format: 'rgb24' }, { level: 4 });
      detach(data.buffer);
      const r = await pending;
      expect(Buffer.compare(r.payload, reference)).toBe(0);
    }
  });

  it('imageCodec().encode: a resizable ArrayBuffer shrunk to 0 mid-call changes nothing', async () => {
    const codec = engine.imageCodec()!;
    const reference = (await codec.encode({ data: rgb, width: W, height: H, format: 'rgb24' }, { level: 4 })).payload;
    for (let i = 0; i < RUNS; i++) {
      const { view, ab } = resizable(rgb);
      const pending = codec.encode({ data: view, width: W, height: H, format: 'rgb24' }, { level: 4 });
      ab.resize(0);
      expect(Buffer.compare((await pending).payload, reference)).toBe(0);
    }
  });

  it('imageCodec().decode: detaching the payload or a caller output mid-call', async () => {
    const codec = engine.imageCodec()!;
    const payload = (await codec.encode({ data: rgb, width: W, height: H, format: 'rgb24' }, { level: 4 })).payload;
    const reference = (await codec.decode(payload)).data;
    for (let i = 0; i < RUNS; i++) {
      const p = own(payload);
      const pending = codec.decode(p);
      detach(p.buffer);
      expect(Buffer.compare((await pending).data, reference)).toBe(0);

      const output = Buffer.from(new ArrayBuffer(reference.length));
      const withOutput = codec.decode(payload, { output });
      detach(output.buffer);
      expect(await codeOf(withOutput)).toBe('INVALID_ARGUMENT');

      const { view, ab } = resizable(new Uint8Array(reference.length));
      const shrunk = codec.decode(payload, { output: Buffer.from(view.buffer, 0, reference.length) });
      ab.resize(0);
      expect(await codeOf(shrunk)).toBe('INVALID_ARGUMENT');
    }
    // An output left alone is filled.
    const output = Buffer.alloc(reference.length);
    const r = await codec.decode(payload, { output });
    expect(r.data).toBe(output);
    expect(Buffer.compare(output, reference)).toBe(0);
  });

  it('a detached buffer handed to a call is INVALID_ARGUMENT', async () => {
    const codec = engine.imageCodec()!;
    const data = own(rgb);
    detach(data.buffer);
    expect(await codeOf(codec.encode({ data, width: W, height: H, format: 'rgb24' }, { level: 4 }))).toBe('INVALID_ARGUMENT');
    expect(codeOfSync(() => codec.encodeSync({ data, width: W, height: H, format: 'rgb24' }, { level: 4 }))).toBe('INVALID_ARGUMENT');
    const session = engine.openSession();
    expect(await codeOf(session.compressFrame(video(data)))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.decompressFrame(data))).toBe('INVALID_ARGUMENT');
    session.close();
  });

  it('compressFrame/decompressFrame: detaching frame, payload and output right after the call', async () => {
    const sender = engine.openSession({ mode: 'off' });
    const receiver = engine.openSession();
    for (let i = 0; i < RUNS; i++) {
      const data = own(rgb);
      const pending = sender.compressFrame(video(data));
      detach(data.buffer);
      const r = await pending;
      expect(r.originalBytes).toBe(rgb.length);
      const payload = own(r.payload);
      const decoding = receiver.decompressFrame(payload);
      detach(payload.buffer);
      const d = await decoding;
      expect(Buffer.compare(d.data, rgb)).toBe(0);

      const output = Buffer.from(new ArrayBuffer(rgb.length));
      const into = receiver.decompressFrame(r.payload, { output });
      detach(output.buffer);
      expect(await codeOf(into)).toBe('INVALID_ARGUMENT');

      const cOut = Buffer.from(new ArrayBuffer(rgb.length + 44));
      const intoC = sender.compressFrame(video(rgb), { output: cOut });
      detach(cOut.buffer);
      expect(await codeOf(intoC)).toBe('INVALID_ARGUMENT');
    }
    sender.close();
    receiver.close();
  });

  it('compressFrame (neural path) and audio frames: detach and resize mid-call', async () => {
    const session = engine.openSession();
    const audio = engine.openSession();
    const pcm = toS16(speechLike(16000, 0.02 * RUNS));
    for (let i = 0; i < RUNS; i++) {
      const data = own(rgb);
      const pending = session.compressFrame(video(data));
      detach(data.buffer);
      const r = await pending;
      expect(r.fallbackReason).not.toBe('error');
      const { view, ab } = resizable(pcm.subarray(i * 640, (i + 1) * 640));
      const a = audio.compressFrame({ type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: view });
      ab.resize(0);
      const ar = await a;
      expect(ar.fallbackReason).not.toBe('error');
    }
    session.close();
    audio.close();
  });

  it('model.encode: detaching inputs mid-call completes; detaching a caller output rejects', async () => {
    const h = 10;
    const w = 14;
    const image = new Float32Array(3 * h * w).map((_, i) => (i % 17) / 17);
    const reference = (await model.encode({ image: tensor(image, [1, 3, h, w]) })).latent!.data as Buffer;
    for (let i = 0; i < RUNS; i++) {
      const input = new Float32Array(image);
      const pending = model.encode({ image: tensor(input, [1, 3, h, w]) });
      detach(input.buffer);
      const r = await pending;
      expect(Buffer.compare(Buffer.from((r.latent!.data as ArrayBufferView).buffer as ArrayBuffer, (r.latent!.data as ArrayBufferView).byteOffset, reference.length), reference)).toBe(0);

      const out = new Float32Array(4 * (h / 2) * (w / 2));
      const into = model.encode({ image: tensor(image, [1, 3, h, w]) }, { outputs: { latent: tensor(out, [1, 4, h / 2, w / 2]) } });
      detach(out.buffer);
      expect(await codeOf(into)).toBe('INVALID_ARGUMENT');
    }
    // Sync runs stay zero-copy: the caller's output object comes back filled.
    const out = new Float32Array(4 * (h / 2) * (w / 2));
    const r = model.encodeSync({ image: tensor(image, [1, 3, h, w]) }, { outputs: { latent: tensor(out, [1, 4, h / 2, w / 2]) } });
    expect(r.latent!.data).toBe(out);
    expect(Buffer.compare(Buffer.from(out.buffer), reference)).toBe(0);
  });
});

describe('SharedArrayBuffer-backed memory is handled (copied at call time)', () => {
  let engine: Engine;
  const rgb = new Uint8Array(syntheticFrame(W, H));
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
  });
  afterAll(async () => engine.close());

  it('frames and payloads over a SharedArrayBuffer code as the same bytes would', async () => {
    const sender = engine.openSession({ mode: 'off' });
    const r = await sender.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: shared(rgb) });
    expect(r.status).toBe('success');
    const d = await engine.decompressFrame(shared(r.payload));
    expect(Buffer.compare(d.data, rgb)).toBe(0);
    const neural = engine.openSession();
    const n = await neural.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: shared(rgb) });
    expect(n.fallbackReason).not.toBe('error');
    const codec = engine.imageCodec()!;
    const a = await codec.encode({ data: shared(rgb), width: W, height: H, format: 'rgb24' }, { level: 4 });
    const b = await codec.encode({ data: rgb, width: W, height: H, format: 'rgb24' }, { level: 4 });
    expect(Buffer.compare(a.payload, b.payload)).toBe(0);
    const c = await codec.decode(shared(a.payload));
    expect(c.width).toBe(W);
    sender.close();
    neural.close();
  });
});

describe('payloads own their bytes', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
  });
  afterAll(async () => engine.close());

  it('mutating the input after compressFrame() resolved does not change the payload', async () => {
    for (const mode of ['off', 'adaptive'] as const) {
      const session = engine.openSession({ mode });
      const input = Buffer.from(syntheticFrame(W, H));
      const data = Buffer.alloc(5000, 7);
      const frames: Frame[] = [
        { type: 'video', format: 'rgb24', width: W, height: H, data: input },
        { type: 'screen', format: 'rgb24', width: W, height: H, data: input },
        { type: 'data', data },
      ];
      for (const frame of frames) {
        const r = await session.compressFrame(frame);
        const before = Buffer.from(r.payload);
        input.fill(1);
        data.fill(3);
        expect(Buffer.compare(r.payload, before)).toBe(0);
        input.set(syntheticFrame(W, H));
        data.fill(7);
      }
      // Stored and fallback payloads too: a frame too small to code is stored.
      const tiny = Buffer.from([1, 2, 3, 4, 5, 6]);
      const t = await session.compressFrame({ type: 'video', format: 'rgb24', width: 2, height: 1, data: tiny });
      const before = Buffer.from(t.payload);
      tiny.fill(0);
      expect(Buffer.compare(t.payload, before)).toBe(0);
      session.close();
    }
  });
});

describe('options that cannot be read are INVALID_ARGUMENT', () => {
  let engine: Engine;
  const rgb = Buffer.from(syntheticFrame(W, H));
  const throwing = (key: string) =>
    Object.defineProperty({}, key, {
      enumerable: true,
      get() {
        throw new TypeError(`no ${key}`);
      },
    });
  const revoked = () => {
    const p = Proxy.revocable({}, {});
    p.revoke();
    return p.proxy;
  };
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
  });
  afterAll(async () => engine.close());

  it('openSession', () => {
    for (const key of ['mode', 'sessionId', 'enableFallback', 'peerCapabilities']) expect(codeOfSync(() => engine.openSession(throwing(key)))).toBe('INVALID_ARGUMENT');
    expect(codeOfSync(() => engine.openSession(revoked()))).toBe('INVALID_ARGUMENT');
  });

  it('compressFrame and decompressFrame', async () => {
    const session = engine.openSession();
    const frame = { type: 'video', format: 'rgb24', width: W, height: H, data: rgb } as Frame;
    expect(await codeOf(session.compressFrame(frame, throwing('output')))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.compressFrame(frame, throwing('network')))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.compressFrame(frame, revoked()))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.compressFrame(revoked() as Frame))).toBe('INVALID_ARGUMENT');
    for (const key of ['data', 'width', 'type']) expect(await codeOf(session.compressFrame(Object.defineProperty({ ...frame }, key, { get: () => { throw new TypeError(key); } }) as Frame))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.decompressFrame(rgb, throwing('output')))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(session.decompressFrame(rgb, revoked()))).toBe('INVALID_ARGUMENT');
    session.close();
  });

  it('createEngine', async () => {
    expect(await codeOf(createEngine(throwing('executionProvider')))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(createEngine(throwing('models')))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(createEngine(revoked()))).toBe('INVALID_ARGUMENT');
  });

  it('native option getters (imageCodec().encode)', async () => {
    const codec = engine.imageCodec()!;
    expect(await codeOf(codec.encode({ data: rgb, width: W, height: H, format: 'rgb24' }, throwing('level') as never))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(codec.encode(Object.defineProperty({ data: rgb, height: H, format: 'rgb24' }, 'width', { get: () => { throw new TypeError('width'); } }) as never, { level: 4 }))).toBe('INVALID_ARGUMENT');
  });
});
