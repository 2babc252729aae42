// A plain Node HTTP server that embeds @auralink/aic to relay frames between two clients: the
// sender POSTs raw frames to a room, the server compresses them through the room's session and
// queues the payloads, and the receiver GETs them and decodes them itself (the far side of a
// call holds its own engine). This is the shape of an SFU or gateway that turns aic on per stream.
//
//   node examples/relay-server.mjs            # serve on :8090 until stopped
//   node examples/relay-server.mjs --demo     # serve, run a sender and a receiver through it, print, exit
//
// HTTP API (no dependencies beyond Node and the library):
//   POST /rooms/<id>/frames      body: the raw frame; headers x-frame-type (video|screen|audio|data),
//                                x-format, x-width, x-height, x-sample-rate, x-channels, x-fps,
//                                optional x-bandwidth-kbps / x-rtt-ms / x-loss-percent / x-jitter-ms
//                                -> 202 { sequence, status, fallbackReason, ratio, score }
//   GET  /rooms/<id>/frames/next -> the next payload (application/octet-stream); 204 after 2 s without one
//   GET  /rooms/<id>/stats       -> the room session's stats()
//   GET  /health                 -> { status, version }
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const aic = await import(path.join(root, 'dist', 'index.js'));

export async function startRelay({ port = 8090, engineOptions = {} } = {}) {
  const engine = await aic.createEngine(engineOptions);
  /** @type {Map<string, { session: any, queue: Buffer[], waiting: ((b: Buffer | null) => void)[] }>} */
  const rooms = new Map();
  const room = (id) => {
    let r = rooms.get(id);
    if (!r) {
      // Frames are relayed live: a latency budget that fits this machine's CPU for small video.
      r = { session: engine.openSession({ sessionId: `relay/${id}`, maxLatencyMs: 100 }), queue: [], waiting: [] };
      rooms.set(id, r);
    }
    return r;
  };
  const num = (v) => (v === undefined ? undefined : Number(v));

  const server = http.createServer(async (req, res) => {
    const reply = (code, body) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', 'http://relay');
      const m = url.pathname.match(/^\/rooms\/([\w-]+)\/(frames|frames\/next|stats)$/);
      if (req.method === 'GET' && url.pathname === '/health') return reply(200, { status: 'healthy', version: engine.info().version });
      if (!m) return reply(404, { error: 'not found' });
      const r = room(m[1]);
      if (req.method === 'POST' && m[2] === 'frames') {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        const h = req.headers;
        const type = String(h['x-frame-type'] ?? 'data');
        const frame = { type, data: Buffer.concat(chunks) };
        if (type === 'video' || type === 'screen') Object.assign(frame, { format: h['x-format'], width: num(h['x-width']), height: num(h['x-height']), fps: num(h['x-fps']) });
        if (type === 'audio') Object.assign(frame, { format: h['x-format'], sampleRate: num(h['x-sample-rate']), channels: num(h['x-channels']) });
        const network = h['x-bandwidth-kbps'] ? { availableBandwidthKbps: num(h['x-bandwidth-kbps']), rttMs: num(h['x-rtt-ms']), packetLossPercent: num(h['x-loss-percent']), jitterMs: num(h['x-jitter-ms']) } : undefined;
        const out = await r.session.compressFrame(frame, network ? { network } : {});
        const waiter = r.waiting.shift();
        if (waiter) waiter(out.payload);
        else r.queue.push(out.payload);
        return reply(202, { sequence: out.sequence, status: out.status, fallbackReason: out.fallbackReason ?? null, ratio: out.compressionRatio, score: out.quality.score, mode: out.mode });
      }
      if (req.method === 'GET' && m[2] === 'frames/next') {
        const payload = r.queue.shift() ?? (await new Promise((resolve) => {
          r.waiting.push(resolve);
          setTimeout(() => {
            const i = r.waiting.indexOf(resolve);
            if (i >= 0) r.waiting.splice(i, 1);
            resolve(null);
          }, 2000);
        }));
        if (!payload) {
          res.writeHead(204);
          return res.end();
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
        return res.end(payload);
      }
      if (req.method === 'GET' && m[2] === 'stats') return reply(200, r.session.stats());
      return reply(405, { error: 'method not allowed' });
    } catch (error) {
      // AicError codes are stable: bad frames are the client's fault (400), the rest are ours.
      const code = error?.code === 'INVALID_ARGUMENT' ? 400 : 500;
      return reply(code, { error: error?.message ?? String(error), code: error?.code ?? 'INTERNAL' });
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await engine.close();
    },
  };
}

/** A photo-like moving test pattern: no files needed. */
function testFrame(w, h, t) {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const d = (x - w / 2 - 30 * Math.sin(t / 5)) ** 2 + (y - h / 2) ** 2 < (h / 4) ** 2;
      b[i] = d ? 230 : (x * 255) / w;
      b[i + 1] = d ? 80 : (y * 255) / h;
      b[i + 2] = 120 + 60 * Math.sin((x + t * 4) / 9);
    }
  return b;
}

async function demo() {
  const relay = await startRelay({ port: 0 });
  const base = `http://127.0.0.1:${relay.port}/rooms/demo`;
  const receiverEngine = await aic.createEngine();
  const receiver = receiverEngine.openSession({ sessionId: 'receiver' });
  const W = 160;
  const H = 120;
  const frames = 12;
  // The receiver: fetch each payload, decode it, measure it against what was sent.
  const sent = [];
  const received = (async () => {
    const rows = [];
    while (rows.length < frames) {
      const res = await fetch(`${base}/frames/next`);
      if (res.status === 204) continue;
      const payload = Buffer.from(await res.arrayBuffer());
      const f = await receiver.decompressFrame(payload);
      const q = aic.imageQuality(sent[rows.length], f.data, f.width, f.height);
      rows.push({ bytes: payload.length, ssim: q.ssim });
    }
    return rows;
  })();
  // The sender: raw frames in, with the link getting worse half-way through.
  const replies = [];
  for (let t = 0; t < frames; t++) {
    const data = testFrame(W, H, t);
    sent.push(data);
    const bw = t < frames / 2 ? 20000 : 600;
    const res = await fetch(`${base}/frames`, {
      method: 'POST',
      headers: { 'x-frame-type': 'video', 'x-format': 'rgb24', 'x-width': String(W), 'x-height': String(H), 'x-fps': '15', 'x-bandwidth-kbps': String(bw), 'x-rtt-ms': '40', 'x-loss-percent': '0', 'x-jitter-ms': '5' },
      body: data,
    });
    replies.push({ bw, ...(await res.json()) });
  }
  const rows = await received;
  console.log('frame  link kbit/s  mode         status   payload B  ratio   ssim (sender)  ssim (receiver)');
  rows.forEach((r, i) => {
    const s = replies[i];
    console.log(`${String(i).padStart(5)}  ${String(s.bw).padStart(11)}  ${s.mode.padEnd(11)}  ${s.status.padEnd(7)}  ${String(r.bytes).padStart(9)}  ${s.ratio.toFixed(3)}  ${s.score.toFixed(4).padStart(13)}  ${r.ssim.toFixed(4).padStart(15)}`);
  });
  const stats = await (await fetch(`${base}/stats`)).json();
  const bad = await fetch(`${base}/frames`, { method: 'POST', headers: { 'x-frame-type': 'video', 'x-format': 'rgb24', 'x-width': '10', 'x-height': '10' }, body: Buffer.alloc(7) });
  console.log(`relay stats: ${stats.framesProcessed} frames, ${stats.bandwidthSavedBytes} bytes saved, ${stats.modeChanges} mode change(s), fallbacks ${JSON.stringify(stats.fallbacks)}`);
  console.log(`a malformed frame: HTTP ${bad.status} ${JSON.stringify(await bad.json())}`);
  await receiverEngine.close();
  await relay.close();
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--demo')) {
    await demo();
  } else {
    const port = Number(process.env.PORT ?? 8090);
    const relay = await startRelay({ port });
    console.log(`aic relay on http://127.0.0.1:${relay.port} (POST /rooms/<id>/frames, GET /rooms/<id>/frames/next)`);
  }
}
