// The WebRTC half of the example, with nothing of aic in it: two werift peer connections in one
// process, signalled in-process, joined over loopback UDP only, and a framing that carries
// payloads of any size over data channels.
//
// Size limits. An SCTP user message on a data channel is bounded by the far side's
// `a=max-message-size` (werift advertises 65536 by default and throws on a larger send; browsers
// differ, and 16 KiB is the size every stack takes). A video payload can be larger (a 512x341
// photo in conservative mode is ~50 kB, a full-size Kodak photo ~100 kB), so every payload goes
// out as one or more messages of at most CHUNK_BYTES, each with an 8-byte header:
//
//   u32 sequence (big-endian) | u16 chunk index | u16 chunk count | chunk bytes
//
// The receiver joins the chunks of a sequence; on an ordered, reliable channel they arrive in
// order, so a chunk out of place is an error rather than something to wait for. The sender also
// stops queueing while the channel holds more than HIGH_WATER_BYTES (bufferedAmount), so a slow
// link cannot make it buffer without bound.
import { RTCPeerConnection } from 'werift';

export const CHUNK_BYTES = 16 * 1024;
export const HEADER_BYTES = 8;
export const HIGH_WATER_BYTES = 1024 * 1024;
const LOW_WATER_BYTES = 256 * 1024;

/**
 * Peer configuration for two peers on this machine: no STUN or TURN server (werift's default
 * would ask a public STUN server), no interface addresses gathered (iceUseIpv4/6 false) except
 * 127.0.0.1, sockets bound to loopback, and only loopback pairs checked.
 */
export const LOOPBACK_CONFIG = Object.freeze({
  iceServers: [],
  iceUseIpv4: false,
  iceUseIpv6: false,
  iceAdditionalHostAddresses: ['127.0.0.1'],
  iceInterfaceAddresses: { udp4: '127.0.0.1' },
  iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === '127.0.0.1',
});

/** Rejects with `what` after ms unless the promise settles first; never leaves a timer behind. */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function opened(channel) {
  if (channel.readyState === 'open') return Promise.resolve(channel);
  return new Promise((resolve, reject) => {
    const { unSubscribe } = channel.stateChanged.subscribe((state) => {
      if (state === 'open') {
        unSubscribe();
        resolve(channel);
      } else if (state === 'closed') {
        unSubscribe();
        reject(new Error(`data channel ${channel.label} closed before it opened`));
      }
    });
  });
}

/**
 * Two connected peers. `labels` maps a data channel label to its RTCDataChannel options; peer A
 * creates them (it sends the offer), peer B receives them. Returns both peers' channels by label
 * and close(), which closes the channels and both connections.
 */
export async function connectPeers({ labels, timeoutMs = 15_000 }) {
  const a = new RTCPeerConnection(LOOPBACK_CONFIG);
  const b = new RTCPeerConnection(LOOPBACK_CONFIG);
  const started = performance.now();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.allSettled([a.close(), b.close()]);
  };
  try {
    // In-process signalling: each side's ICE candidates go straight to the other.
    a.onIceCandidate.subscribe((c) => c && b.addIceCandidate(c).catch(() => undefined));
    b.onIceCandidate.subscribe((c) => c && a.addIceCandidate(c).catch(() => undefined));

    const wanted = Object.keys(labels);
    const atB = {};
    const allAtB = new Promise((resolve) => {
      b.onDataChannel.subscribe((channel) => {
        atB[channel.label] = opened(channel);
        if (wanted.every((l) => atB[l])) resolve();
      });
    });
    const atA = {};
    for (const label of wanted) atA[label] = a.createDataChannel(label, labels[label]);

    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);

    const channels = await within(
      (async () => {
        const sender = {};
        for (const label of wanted) sender[label] = await opened(atA[label]);
        await allAtB;
        const receiver = {};
        for (const label of wanted) receiver[label] = await atB[label];
        return { sender, receiver };
      })(),
      timeoutMs,
      'the data channels to open',
    );
    return { a, b, ...channels, connectMs: performance.now() - started, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The largest message this channel may send: CHUNK_BYTES, or less where the far side says so. */
export function messageLimit(channel) {
  const remote = channel.sctp?.remoteMaxMessageSize;
  return remote ? Math.min(CHUNK_BYTES, remote) : CHUNK_BYTES;
}

function drained(channel, timeoutMs) {
  if (channel.bufferedAmount <= HIGH_WATER_BYTES) return Promise.resolve();
  channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
  let unsubscribe;
  const low = new Promise((resolve) => {
    ({ unSubscribe: unsubscribe } = channel.bufferedAmountLow.subscribe(() => resolve()));
  });
  return within(low, timeoutMs, `data channel ${channel.label} to drain`).finally(() => unsubscribe());
}

/** Sends one payload as framed chunks; returns the messages and bytes it put on the channel. */
export async function sendPayload(channel, sequence, payload, { timeoutMs = 10_000 } = {}) {
  const room = messageLimit(channel) - HEADER_BYTES;
  const count = Math.max(1, Math.ceil(payload.length / room));
  if (count > 0xffff) throw new Error(`payload of ${payload.length} bytes needs more than 65535 chunks`);
  let bytes = 0;
  for (let index = 0; index < count; index++) {
    await drained(channel, timeoutMs);
    const body = payload.subarray(index * room, (index + 1) * room);
    const message = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    message.writeUInt32BE(sequence >>> 0, 0);
    message.writeUInt16BE(index, 4);
    message.writeUInt16BE(count, 6);
    body.copy(message, HEADER_BYTES);
    channel.send(message);
    bytes += message.length;
  }
  return { messages: count, bytes };
}

/**
 * Joins framed chunks arriving on a channel into payloads, in order. next(timeoutMs) resolves with
 * { sequence, payload, messages, bytes } or rejects when none arrives in time, when a chunk is out
 * of place, or when the channel closes.
 */
export class PayloadReceiver {
  #queue = [];
  #waiting = [];
  #failure = null;
  #current = null;
  #unsubscribe;

  constructor(channel) {
    this.label = channel.label;
    const onMessage = channel.onMessage.subscribe((data) => this.#take(data));
    const onState = channel.stateChanged.subscribe((state) => {
      if (state === 'closed') this.#fail(new Error(`data channel ${this.label} closed`));
    });
    this.#unsubscribe = () => {
      onMessage.unSubscribe();
      onState.unSubscribe();
    };
  }

  #take(data) {
    if (this.#failure) return;
    if (typeof data === 'string' || data.length < HEADER_BYTES) return this.#fail(new Error(`data channel ${this.label}: a message that is not a framed chunk`));
    const sequence = data.readUInt32BE(0);
    const index = data.readUInt16BE(4);
    const count = data.readUInt16BE(6);
    const cur = this.#current;
    if (index === 0 && !cur) this.#current = { sequence, count, parts: [], bytes: 0 };
    else if (!cur || cur.sequence !== sequence || cur.count !== count || cur.parts.length !== index) {
      return this.#fail(new Error(`data channel ${this.label}: chunk ${index}/${count} of ${sequence} out of place`));
    }
    const c = this.#current;
    c.parts.push(data.subarray(HEADER_BYTES));
    c.bytes += data.length;
    if (c.parts.length < c.count) return;
    this.#current = null;
    const item = { sequence: c.sequence, payload: Buffer.concat(c.parts), messages: c.count, bytes: c.bytes };
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve(item);
    else this.#queue.push(item);
  }

  #fail(error) {
    this.#failure ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }

  next(timeoutMs = 10_000) {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift());
    if (this.#failure) return Promise.reject(this.#failure);
    let waiter;
    const wait = new Promise((resolve, reject) => this.#waiting.push((waiter = { resolve, reject })));
    return within(wait, timeoutMs, `a payload on ${this.label}`).catch((error) => {
      this.#waiting = this.#waiting.filter((w) => w !== waiter);
      throw error;
    });
  }

  close() {
    this.#unsubscribe();
  }
}
