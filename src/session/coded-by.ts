// What coded a frame, by name: the neural model (its name and version) or the step of the
// fallback ladder (webp, jpeg, opus; 'lossless' for deflate and stored, with that as version).
// The `model` label of aic_inference_latency_ms, and the model_type / model_version the AI Core
// answers with, are this.
import type { PayloadCodec } from './types.js';

interface Named {
  readonly name: string;
  readonly version: string;
}

export function codedBy(codec: PayloadCodec, image: Named | null, audio: Named | null): { name: string; version: string } {
  if (codec === 'neural-image' && image) return { name: image.name, version: image.version };
  if (codec === 'neural-audio' && audio) return { name: audio.name, version: audio.version };
  if (codec === 'deflate' || codec === 'stored') return { name: 'lossless', version: codec };
  return { name: codec, version: '' };
}
