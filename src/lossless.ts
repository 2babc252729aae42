// The lossless path: a frame's original bytes deflated (zlib) or, when deflate would not make
// them smaller, stored as they are, in an ordinary aic payload (codec 2 or 3, docs/bitstream.md).
// Used for the fallback (flag bit 1 set), for data frames, for screen content that deflate
// serves better than the network, and for mode 'off'. Deflate runs on libuv's thread pool, except
// for small bodies (an audio frame is at most 3,840 bytes): those take tens of microseconds, less
// than the hand-off to the thread pool, which at server scale also waits behind the batches of
// the other sessions' frames (src/audio-batcher.ts) while a late frame holds up its stream.
const SYNC_DEFLATE_BYTES = 4096;
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { NativePackHeader } from '../bindings.js';
import { AicError, callNative } from './errors.js';
import { native } from './native/load.js';

const deflate = promisify(zlib.deflate);
const inflate = promisify(zlib.inflate);

export interface LosslessHeader extends Omit<NativePackHeader, 'codec' | 'modelId'> {
  /** Deflate when true (and smaller); stored otherwise. */
  compress: boolean;
  /** zlib level: 1 on the live path (speed), 6 for data frames. */
  level: number;
}

export async function packLossless(bytes: Buffer, header: LosslessHeader): Promise<Buffer> {
  const { compress, level, ...rest } = header;
  let body: Buffer = bytes;
  let codec: 'deflate' | 'stored' = 'stored';
  if (compress && bytes.length > 0) {
    const deflated = bytes.length <= SYNC_DEFLATE_BYTES ? zlib.deflateSync(bytes, { level }) : await deflate(bytes, { level });
    if (deflated.length < bytes.length) {
      body = deflated;
      codec = 'deflate';
    }
  }
  return callNative(() => native().packPayload({ ...rest, codec, modelId: 0 }, body));
}

/** The original bytes of a deflate or stored payload, checked to be `expectedBytes` long. */
export async function unpackLossless(payload: Buffer, codec: 'deflate' | 'stored', bodyOffset: number, bodyLength: number, expectedBytes: number): Promise<Buffer> {
  const body = payload.subarray(bodyOffset, bodyOffset + bodyLength);
  let out: Buffer;
  if (codec === 'stored') {
    out = Buffer.from(body);
  } else {
    try {
      // Bounded by the header's size (a hostile body cannot inflate past it); small ones inline.
      const opts = { maxOutputLength: Math.max(1, expectedBytes) };
      out = expectedBytes <= SYNC_DEFLATE_BYTES ? zlib.inflateSync(body, opts) : await inflate(body, opts);
    } catch (error) {
      throw new AicError('CORRUPT_PAYLOAD', `the payload's deflated body does not inflate to the ${expectedBytes} bytes its header describes; the payload is corrupt`, { cause: error });
    }
  }
  if (out.length !== expectedBytes) {
    throw new AicError('CORRUPT_PAYLOAD', `the payload's body holds ${out.length} bytes, its header describes ${expectedBytes}; the payload is corrupt`);
  }
  return out;
}
