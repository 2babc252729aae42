// A session and its calls' shapes (see session.ts for the lifecycle, image-path.ts and
// audio-path.ts for the media paths, fallback.ts for the fallback ladder, decode.ts for payloads).
export { BITSTREAM_VERSIONS, PAYLOAD_CODECS, Session, SESSION_OPTION_KEYS } from './session.js';
export { checkDecompressArgs, decodePayload } from './decode.js';
export type * from './types.js';
