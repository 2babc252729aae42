// @auralink/aic: neural media compression for Node.js servers.
export { AicError, type AicErrorCode } from './errors.js';
export { createEngine, DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL, Engine, type EngineOptions, type EngineInfo, type ExecutionProvider, type ModelDefinition } from './engine.js';
export { Model, type ModelInfo, type ModelStats, type RunOptions, type RunResult } from './model.js';
export { tensor, asFloat32, type ElementType, type Tensor, type TensorMap, type TensorResult } from './tensor.js';
export { ImageCodec, type DecodedImage, type ImageDecodeOptions, type ImageEncodeOptions, type ImageEncodeResult, type ImageFrame } from './image-codec.js';
export { loadAudioManifest, loadImageManifest, validateAudioManifest, validateImageManifest, type AudioManifest, type ImageManifest } from './manifest.js';
export { AudioCodec, AudioDecoder, AudioEncoder, SUPPORTED_AUDIO_RATES, type AudioFrameInput, type DecodedAudio, type SampleFormat } from './audio-codec.js';
export { audioQuality, imageQuality, parsePayloadHeader, type AudioQuality, type ImageQuality, type PayloadHeader } from './quality.js';
