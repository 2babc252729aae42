#include "format/bitstream.h"

#include <cstring>

#include "format/crc32c.h"
#include "common/errors.h"

namespace aic {

namespace {

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
uint64_t get64(const uint8_t* p) { return uint64_t(get32(p)) | (uint64_t(get32(p + 4)) << 32); }

CoreError corruptField(const std::string& field, uint64_t value, const std::string& allowed) {
  return CoreError(ErrorCode::CorruptPayload, "payload header field " + field + " is " + std::to_string(value) + " (allowed: " + allowed + "); the payload is corrupt");
}

const uint8_t kMagic[4] = {'A', 'I', 'C', 'F'};
const uint32_t kShortRates[4] = {8000, 16000, 32000, 48000};

uint16_t shortCrc(const uint8_t* data, size_t covered, uint32_t modelId) {
  std::vector<uint8_t> buf(4 + covered);
  put32(buf.data(), modelId);
  std::memcpy(buf.data() + 4, data, covered);
  return static_cast<uint16_t>(crc32c(buf.data(), buf.size()) & 0xFFFF);
}

// The short and compact forms' shared byte 1 (bits 0-1 rate, bit 2 stereo, bit 3 f32le, bit 4
// silence descriptor) into the header an audio frame of them has.
ParsedPayload shortFormHeader(uint8_t f, uint16_t sequence) {
  ParsedPayload out;
  out.shortAudio = true;
  PayloadHeader& h = out.header;
  h.frameType = FrameType::Audio;
  h.codec = CodecKind::NeuralAudio;
  h.flags = (f & 0x10) ? kFlagSilence : 0;
  h.format = (f >> 3) & 1;
  h.dim0 = kShortRates[f & 3];
  h.dim1 = (static_cast<uint32_t>((f >> 2 & 1) + 1) << 16) | (h.dim0 / 50);
  h.sequence = sequence;
  return out;
}

ParsedPayload parseShortAudio(const uint8_t* data, size_t length) {
  if (length < kShortHeaderSize + kShortTrailerSize + 1) throw CoreError(ErrorCode::CorruptPayload, "short audio payload is truncated");
  const uint8_t f = data[1];
  if (f & 0xE0) throw CoreError(ErrorCode::CorruptPayload, "short audio payload has reserved format bits set");
  ParsedPayload out = shortFormHeader(f, static_cast<uint16_t>(data[4] | (data[5] << 8)));
  out.modelTag = data[3];
  out.header.qualityLevel = data[2];
  out.header.timestamp = get32(data + 6);
  out.body = data + kShortHeaderSize;
  out.bodyLength = length - kShortHeaderSize - kShortTrailerSize;
  return out;
}

ParsedPayload parseCompactAudio(const uint8_t* data, size_t length) {
  if (length < kCompactHeaderSize + kShortTrailerSize + 1) throw CoreError(ErrorCode::CorruptPayload, "compact audio payload is truncated");
  const uint8_t f = data[1];
  ParsedPayload out = shortFormHeader(f, static_cast<uint16_t>(data[3] | (data[4] << 8)));
  out.compactAudio = true;
  out.compactStep = data[0] == kCompactAudioStepMarker ? kCompactAudioStepUs : 0;
  out.modelTag = data[2];
  out.header.qualityLevel = static_cast<uint8_t>(f >> 5);
  out.header.timestamp = 0;  // the decoder stream derives it (docs/bitstream.md)
  out.body = data + kCompactHeaderSize;
  out.bodyLength = length - kCompactHeaderSize - kShortTrailerSize;
  return out;
}

// LEB128: 7 bits a byte, least significant first, bit 7 set on every byte but the last.
void putVarint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}
size_t varintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
// Reads one at `at` (advanced) of at most `maxBytes` bytes; only the shortest encoding of a value
// is legal (a last byte of 0 after others is refused), so every frame has exactly one framing.
uint64_t getVarint(const uint8_t* data, size_t end, size_t& at, size_t maxBytes, const char* field) {
  uint64_t v = 0;
  for (size_t i = 0; i < maxBytes; ++i) {
    if (at >= end) throw CoreError(ErrorCode::CorruptPayload, "compact predicted payload is truncated inside its " + std::string(field));
    const uint8_t b = data[at++];
    v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) throw CoreError(ErrorCode::CorruptPayload, std::string("compact predicted payload's ") + field + " is not in its shortest form; the payload is corrupt");
      return v;
    }
  }
  throw CoreError(ErrorCode::CorruptPayload, std::string("compact predicted payload's ") + field + " is longer than " + std::to_string(maxBytes) + " bytes; the payload is corrupt");
}

constexpr uint64_t kMaxSequenceDelta = 0x7FFFFFFF;
// The least coded data of a predicted frame (its binary coder's first byte and final flush).
constexpr size_t kLeastPredictedData = 5;

ParsedPayload parseCompactPredicted(const uint8_t* data, size_t length) {
  if (length < kCompactPredictedFixed + 2 + kLeastPredictedData + kTrailerSize) throw CoreError(ErrorCode::CorruptPayload, "compact predicted payload is truncated");
  ParsedPayload out;
  out.compactPredicted = true;
  PayloadHeader& h = out.header;
  const bool i420 = data[0] == kCompactI420VideoMarker || data[0] == kCompactI420ScreenMarker;
  h.version = i420 ? kI420PredictedVersion : kCompactPredictedVersion;
  h.frameType = data[0] == kCompactScreenMarker || data[0] == kCompactI420ScreenMarker ? FrameType::Screen : FrameType::Video;
  h.codec = CodecKind::Predicted;
  const uint8_t f = data[1];
  h.qualityLevel = f & 0x3F;
  if (h.qualityLevel > kMaxPredictedQp) throw corruptField("quality level", h.qualityLevel, "0..51, the quantiser of a predicted frame");
  h.flags = (f & 0x40) ? kFlagDeblocked : 0;
  if (i420 && (f & 0x80)) throw corruptField("format bit (byte 1, bit 7)", 1, "0 in an i420 stream's compact predicted frame");
  h.format = i420 ? 2 : f >> 7;
  out.modelTag = data[2];
  out.referenceSequenceLow = static_cast<uint16_t>(data[3] | (data[4] << 8));
  out.referenceCheckLow = static_cast<uint16_t>(data[5] | (data[6] << 8));
  const size_t end = length - kTrailerSize;
  size_t at = kCompactPredictedFixed;
  const uint64_t seq = getVarint(data, end, at, 5, "sequence difference");
  if (seq < 1 || seq > kMaxSequenceDelta) throw corruptField("sequence difference", seq, "1..2^31-1");
  const uint64_t ts = getVarint(data, end, at, 8, "timestamp difference");
  if (ts > kMaxTimestamp) throw corruptField("timestamp difference", ts, "0..2^53-1");
  if (end - at < kLeastPredictedData) throw corruptField("coded data length", end - at, "at least 5 bytes");
  out.sequenceDelta = static_cast<uint32_t>(seq);
  out.timestampDelta = ts;
  out.body = data + at;
  out.bodyLength = end - at;
  return out;
}

std::string frameTypeName(FrameType t) {
  switch (t) {
    case FrameType::Video: return "video";
    case FrameType::Audio: return "audio";
    case FrameType::Screen: return "screen";
    case FrameType::Data: return "data";
  }
  return "?";
}

const char* codecName(CodecKind c) {
  switch (c) {
    case CodecKind::NeuralImage: return "neural image";
    case CodecKind::NeuralAudio: return "neural audio";
    case CodecKind::Deflate: return "deflate";
    case CodecKind::Stored: return "stored";
    case CodecKind::WebP: return "WebP";
    case CodecKind::Jpeg: return "JPEG";
    case CodecKind::Opus: return "Opus";
    case CodecKind::Predicted: return "predicted";
  }
  return "?";
}

// Bytes of a width x height frame of image format 0 rgb24, 1 rgba, 2 i420.
uint64_t imageBytes(uint8_t format, uint64_t w, uint64_t h) {
  if (format == 2) return w * h + 2 * ((w + 1) / 2) * ((h + 1) / 2);
  return w * h * (format == 1 ? 4 : 3);
}

// The rules of docs/bitstream.md ("Field ranges") that the bytes alone decide. The model's own
// (its id, its number of quality levels) are the codec's to check.
void checkHeaderFields(const PayloadHeader& h, uint32_t bodyLength) {
  if (h.timestamp > kMaxTimestamp) throw corruptField("timestamp", h.timestamp, "0..2^53-1");
  const bool image = h.codec == CodecKind::NeuralImage || h.codec == CodecKind::WebP || h.codec == CodecKind::Jpeg || h.codec == CodecKind::Predicted;
  const bool audio = h.codec == CodecKind::NeuralAudio || h.codec == CodecKind::Opus;
  const bool lossless = h.codec == CodecKind::Deflate || h.codec == CodecKind::Stored;
  const bool imageFrame = h.frameType == FrameType::Video || h.frameType == FrameType::Screen;
  if ((image && !imageFrame) || (audio && h.frameType != FrameType::Audio)) {
    throw CoreError(ErrorCode::CorruptPayload, std::string("payload header field frame type is ") + frameTypeName(h.frameType) + ", which a " + codecName(h.codec) +
                                                   " payload cannot carry; the payload is corrupt");
  }
  const bool predicted = h.codec == CodecKind::Predicted;
  if ((h.version == kPredictedVersion) != predicted) {
    throw CoreError(ErrorCode::CorruptPayload, "payload header field codec is " + std::to_string(static_cast<int>(h.codec)) + " in bitstream version " + std::to_string(h.version) +
                                                   " (version 2 carries predicted frames, codec 7, only); the payload is corrupt");
  }
  if (h.codec != CodecKind::NeuralImage && h.codec != CodecKind::NeuralAudio && !predicted && h.modelId != 0) throw corruptField("model id", h.modelId, "0 for a codec without a model");
  if (!predicted && (h.flags & kFlagDeblocked)) throw corruptField("flags", h.flags, "bit 2 (deblocked) set on a predicted frame only");
  if ((h.flags & kFlagSilence) && (h.codec != CodecKind::NeuralAudio || (h.flags & kFlagFallback)))
    throw corruptField("flags", h.flags, "bit 3 (silence descriptor) set on a neural audio frame only, never with bit 1 (fallback)");
  if (predicted) {
    if (h.flags & ~kFlagDeblocked) throw corruptField("flags", h.flags, "0 or 4 (deblocked) for a predicted frame (never a keyframe, never a fallback)");
    if (h.qualityLevel > kMaxPredictedQp) throw corruptField("quality level", h.qualityLevel, "0..51, the quantiser of a predicted frame");
    if (h.format > 2) throw corruptField("format", h.format, "0 (rgb24), 1 (rgba) or 2 (i420, bitstream version 4) for a predicted frame");
    if (bodyLength < kPredictedPrefix + kLeastPredictedData) throw corruptField("body length", bodyLength, "at least 13 for a predicted frame");
  }
  if (lossless && h.qualityLevel != 0) throw corruptField("quality level", h.qualityLevel, "0 for a lossless payload");
  if ((h.codec == CodecKind::WebP || h.codec == CodecKind::Jpeg) && (h.qualityLevel < 1 || h.qualityLevel > 100)) throw corruptField("quality level", h.qualityLevel, "1..100");
  if (h.codec == CodecKind::Opus && h.qualityLevel < 1) throw corruptField("quality level", h.qualityLevel, "1..255 kbit/s");
  uint64_t size = 0;  // of the decoded frame, in bytes
  if (imageFrame) {
    if (h.format > 2) throw corruptField("format", h.format, "0..2 for an image");
    if (h.dim0 < 1 || h.dim0 > kMaxImageDimension) throw corruptField("width (dim0)", h.dim0, "1..16384");
    if (h.dim1 < 1 || h.dim1 > kMaxImageDimension) throw corruptField("height (dim1)", h.dim1, "1..16384");
    if (uint64_t(h.dim0) * h.dim1 > kMaxImagePixels) throw corruptField("width x height", uint64_t(h.dim0) * h.dim1, "at most 67108864 pixels");
    size = imageBytes(h.format, h.dim0, h.dim1);
  } else if (h.frameType == FrameType::Audio) {
    if (h.format > 1) throw corruptField("format", h.format, "0..1 for audio");
    if (h.dim0 != 8000 && h.dim0 != 16000 && h.dim0 != 32000 && h.dim0 != 48000) throw corruptField("sample rate (dim0)", h.dim0, "8000, 16000, 32000 or 48000");
    const uint32_t channels = h.dim1 >> 16, samples = h.dim1 & 0xFFFF;
    if (channels < 1 || channels > 2) throw corruptField("channels (dim1 >> 16)", channels, "1 or 2");
    if (samples != h.dim0 / 50) throw corruptField("samples per channel (dim1 & 0xFFFF)", samples, std::to_string(h.dim0 / 50) + " (20 ms)");
    size = uint64_t(samples) * channels * (h.format == 1 ? 4 : 2);
  } else {  // data: lossless codecs only (checked above)
    if (h.format != 0) throw corruptField("format", h.format, "0 for data");
    if (h.dim1 != 0) throw corruptField("dim1", h.dim1, "0 for data");
    if (h.dim0 > kMaxDataBytes) throw corruptField("original byte length (dim0)", h.dim0, "at most 67108864");
    size = h.dim0;
  }
  if (h.codec == CodecKind::Stored && bodyLength != size) throw corruptField("body length", bodyLength, std::to_string(size) + ", the frame's size, for a stored payload");
  if (h.codec == CodecKind::Deflate && bodyLength >= size) throw corruptField("body length", bodyLength, "under " + std::to_string(size) + ", the frame's size, for a deflate payload");
  if (!lossless && bodyLength < 1) throw corruptField("body length", bodyLength, "at least 1");
}

}  // namespace

uint8_t modelTag(uint32_t modelId) { return static_cast<uint8_t>(modelId ^ (modelId >> 8) ^ (modelId >> 16) ^ (modelId >> 24)); }

namespace {

// Byte 1 of the short and compact forms for a header that fits them (parseShortAudio's layout),
// or -1 when it does not: a neural audio frame of a short-form rate, one or two channels, s16le
// or f32le, flags 0 or silence, a body under 1 MiB.
int shortFormBits(const PayloadHeader& h, size_t bodyLength) {
  int rate = -1;
  for (int i = 0; i < 4; ++i)
    if (h.dim0 == kShortRates[i]) rate = i;
  const uint32_t channels = h.dim1 >> 16;
  if (h.codec != CodecKind::NeuralAudio || (h.flags & ~kFlagSilence) != 0 || rate < 0 || channels < 1 || channels > 2 || h.format > 1 || bodyLength > (1u << 20)) return -1;
  return rate | static_cast<int>((channels - 1) << 2) | (h.format << 3) | ((h.flags & kFlagSilence) ? 0x10 : 0);
}

// The body after `headerSize` bytes of `out` (sized for header, body and trailer), then the check.
void sealShortForm(std::vector<uint8_t>& out, size_t headerSize, const uint8_t* body, size_t bodyLength, uint32_t modelId) {
  uint8_t* p = out.data();
  if (bodyLength) std::memcpy(p + headerSize, body, bodyLength);
  const uint16_t crc = shortCrc(p, headerSize + bodyLength, modelId);
  p[headerSize + bodyLength] = static_cast<uint8_t>(crc);
  p[headerSize + bodyLength + 1] = static_cast<uint8_t>(crc >> 8);
}

}  // namespace

std::vector<uint8_t> writeShortAudioPayload(const PayloadHeader& h, const uint8_t* body, size_t bodyLength) {
  const int bits = shortFormBits(h, bodyLength);
  if (bits < 0) throw CoreError(ErrorCode::InvalidArgument, "this frame's header cannot take the short audio form");
  std::vector<uint8_t> out(kShortHeaderSize + bodyLength + kShortTrailerSize);
  uint8_t* p = out.data();
  p[0] = kShortAudioMarker;
  p[1] = static_cast<uint8_t>(bits);
  p[2] = h.qualityLevel;
  p[3] = modelTag(h.modelId);
  p[4] = static_cast<uint8_t>(h.sequence);
  p[5] = static_cast<uint8_t>(h.sequence >> 8);
  put32(p + 6, static_cast<uint32_t>(h.timestamp));
  sealShortForm(out, kShortHeaderSize, body, bodyLength, h.modelId);
  return out;
}

std::vector<uint8_t> writeCompactAudioPayload(const PayloadHeader& h, const uint8_t* body, size_t bodyLength, uint64_t stepUs) {
  const int bits = shortFormBits(h, bodyLength);
  if (bits < 0 || h.qualityLevel > 7 || (stepUs != 0 && stepUs != kCompactAudioStepUs)) throw CoreError(ErrorCode::InvalidArgument, "this frame's header cannot take the compact audio form");
  std::vector<uint8_t> out(kCompactHeaderSize + bodyLength + kShortTrailerSize);
  uint8_t* p = out.data();
  p[0] = stepUs ? kCompactAudioStepMarker : kCompactAudioSameMarker;
  p[1] = static_cast<uint8_t>(bits | (h.qualityLevel << 5));
  p[2] = modelTag(h.modelId);
  p[3] = static_cast<uint8_t>(h.sequence);
  p[4] = static_cast<uint8_t>(h.sequence >> 8);
  sealShortForm(out, kCompactHeaderSize, body, bodyLength, h.modelId);
  return out;
}

bool shortAudioCrcMatches(const uint8_t* data, size_t length, uint32_t modelId) {
  if (length < kCompactHeaderSize + kShortTrailerSize) return false;
  const size_t covered = length - kShortTrailerSize;
  const uint16_t stored = static_cast<uint16_t>(data[covered] | (data[covered + 1] << 8));
  return shortCrc(data, covered, modelId) == stored;
}

size_t compactPredictedFraming(uint32_t sequence, uint64_t timestamp, uint32_t referenceSequence, uint64_t referenceTimestamp) {
  const uint32_t seq = sequence - referenceSequence;  // mod 2^32: sequence numbers wrap
  if (seq < 1 || seq > kMaxSequenceDelta || timestamp < referenceTimestamp || timestamp > kMaxTimestamp) return 0;
  return kCompactPredictedFixed + varintSize(seq) + varintSize(timestamp - referenceTimestamp) + kTrailerSize;
}

std::vector<uint8_t> writeCompactPredictedPayload(const PayloadHeader& h, uint32_t referenceSequence, uint32_t referenceCheck, uint64_t referenceTimestamp, const uint8_t* coded,
                                                  size_t codedLength) {
  if (h.codec != CodecKind::Predicted || (h.frameType != FrameType::Video && h.frameType != FrameType::Screen) || h.qualityLevel > kMaxPredictedQp || h.format > 2 ||
      (h.flags & ~kFlagDeblocked) || codedLength < kLeastPredictedData ||
      compactPredictedFraming(h.sequence, h.timestamp, referenceSequence, referenceTimestamp) == 0) {
    throw CoreError(ErrorCode::InvalidArgument, "this predicted frame cannot take the compact form");
  }
  std::vector<uint8_t> out;
  out.reserve(compactPredictedFraming(h.sequence, h.timestamp, referenceSequence, referenceTimestamp) + codedLength);
  const bool screen = h.frameType == FrameType::Screen;
  if (h.format == 2) out.push_back(screen ? kCompactI420ScreenMarker : kCompactI420VideoMarker);
  else out.push_back(screen ? kCompactScreenMarker : kCompactVideoMarker);
  out.push_back(static_cast<uint8_t>(h.qualityLevel | ((h.flags & kFlagDeblocked) ? 0x40 : 0) | ((h.format & 1) << 7)));
  out.push_back(modelTag(h.modelId));
  out.push_back(static_cast<uint8_t>(referenceSequence));
  out.push_back(static_cast<uint8_t>(referenceSequence >> 8));
  out.push_back(static_cast<uint8_t>(referenceCheck));
  out.push_back(static_cast<uint8_t>(referenceCheck >> 8));
  putVarint(out, h.sequence - referenceSequence);
  putVarint(out, h.timestamp - referenceTimestamp);
  out.insert(out.end(), coded, coded + codedLength);
  uint8_t prefix[8];
  put32(prefix, h.modelId);
  put32(prefix + 4, referenceCheck);
  const uint32_t crc = crc32c(out.data(), out.size(), crc32c(prefix, 8));
  out.resize(out.size() + 4);
  put32(out.data() + out.size() - 4, crc);
  return out;
}

bool compactPredictedCrcMatches(const uint8_t* data, size_t length, uint32_t modelId, uint32_t referenceCheck) {
  if (length < kTrailerSize) return false;
  uint8_t prefix[8];
  put32(prefix, modelId);
  put32(prefix + 4, referenceCheck);
  return crc32c(data, length - kTrailerSize, crc32c(prefix, 8)) == get32(data + length - kTrailerSize);
}

std::vector<uint8_t> writePayload(const PayloadHeader& h, const uint8_t* body, size_t bodyLength) {
  if (bodyLength > 0xFFFFFFFFull - kHeaderSize - kTrailerSize) throw CoreError(ErrorCode::InvalidArgument, "payload body too large");
  std::vector<uint8_t> out(kHeaderSize + bodyLength + kTrailerSize);
  uint8_t* p = out.data();
  std::memcpy(p, kMagic, 4);
  p[4] = h.codec == CodecKind::Predicted ? kPredictedVersion : kBitstreamVersion;
  p[5] = static_cast<uint8_t>(kHeaderSize);
  p[6] = static_cast<uint8_t>(h.frameType);
  p[7] = static_cast<uint8_t>(h.codec);
  p[8] = h.flags;
  p[9] = h.qualityLevel;
  p[10] = h.format;
  p[11] = 0;
  put32(p + 12, h.modelId);
  put32(p + 16, h.sequence);
  put32(p + 20, h.dim0);
  put32(p + 24, h.dim1);
  put32(p + 28, static_cast<uint32_t>(bodyLength));
  put64(p + 32, h.timestamp);
  if (bodyLength) std::memcpy(p + kHeaderSize, body, bodyLength);
  put32(p + kHeaderSize + bodyLength, crc32c(p, kHeaderSize + bodyLength));
  return out;
}

ParsedPayload parsePayload(const uint8_t* data, size_t length) {
  if (data == nullptr || length < 6) throw CoreError(ErrorCode::CorruptPayload, "payload is truncated: " + std::to_string(length) + " bytes is shorter than any aic payload");
  if (data[0] == kShortAudioMarker) return parseShortAudio(data, length);
  if (data[0] == kCompactAudioStepMarker || data[0] == kCompactAudioSameMarker) return parseCompactAudio(data, length);
  if (isCompactPredictedMarker(data[0])) return parseCompactPredicted(data, length);
  if (std::memcmp(data, kMagic, 4) != 0) throw CoreError(ErrorCode::CorruptPayload, "not an aic payload (bad magic); pass the bytes compressFrame() returned");
  if (data[4] != kBitstreamVersion && data[4] != kPredictedVersion) {
    throw CoreError(ErrorCode::UnsupportedVersion, "payload bitstream version " + std::to_string(data[4]) + " is not supported by this build (reads versions 1 and 2); upgrade @auralink/aic on the receiver");
  }
  const size_t headerLength = data[5];
  if (headerLength != kHeaderSize) throw corruptField("header length", headerLength, "40 in versions 1 and 2");
  if (length < headerLength + kTrailerSize) throw CoreError(ErrorCode::CorruptPayload, "payload is truncated inside its header");
  const uint32_t bodyLength = get32(data + 28);
  if (static_cast<uint64_t>(headerLength) + bodyLength + kTrailerSize != length) {
    throw CoreError(ErrorCode::CorruptPayload, "payload length " + std::to_string(length) + " does not match its header (body " + std::to_string(bodyLength) +
                                                   " bytes): truncated or padded in transit");
  }
  const uint32_t stored = get32(data + length - kTrailerSize);
  if (crc32c(data, length - kTrailerSize) != stored) throw CoreError(ErrorCode::CorruptPayload, "payload CRC-32C mismatch: the bytes were altered in transit");

  ParsedPayload out;
  PayloadHeader& h = out.header;
  h.version = data[4];
  if (data[6] > 3) throw corruptField("frame type", data[6], "0..3");
  if (data[7] > kLastCodec) throw corruptField("codec", data[7], "0..7");
  if (data[8] & ~(kFlagKeyframe | kFlagFallback | kFlagDeblocked | kFlagSilence)) throw corruptField("flags", data[8], "bits 0 to 3 only");
  if (data[11] != 0) throw corruptField("reserved byte 11", data[11], "0");
  h.frameType = static_cast<FrameType>(data[6]);
  h.codec = static_cast<CodecKind>(data[7]);
  h.flags = data[8];
  h.qualityLevel = data[9];
  h.format = data[10];
  h.modelId = get32(data + 12);
  h.sequence = get32(data + 16);
  h.dim0 = get32(data + 20);
  h.dim1 = get32(data + 24);
  h.timestamp = get64(data + 32);
  out.body = data + headerLength;
  out.bodyLength = bodyLength;
  checkHeaderFields(h, bodyLength);
  return out;
}

void appendParts(std::vector<uint8_t>& body, const std::vector<std::vector<uint8_t>>& parts) {
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    uint8_t len[4];
    put32(len, static_cast<uint32_t>(parts[i].size()));
    body.insert(body.end(), len, len + 4);
  }
  for (const auto& part : parts) body.insert(body.end(), part.begin(), part.end());
}

std::vector<std::pair<const uint8_t*, size_t>> splitParts(const uint8_t* data, size_t length, int count, const char* what) {
  const size_t lengthBytes = 4 * static_cast<size_t>(count - 1);
  if (count < 1 || length < lengthBytes) throw CoreError(ErrorCode::CorruptPayload, std::string("payload's ") + what + " layout is truncated");
  std::vector<std::pair<const uint8_t*, size_t>> parts;
  const uint8_t* at = data + lengthBytes;
  size_t left = length - lengthBytes;
  for (int i = 0; i < count; ++i) {
    size_t n = left;
    if (i + 1 < count) {
      n = get32(data + 4 * i);
      if (n > left) throw CoreError(ErrorCode::CorruptPayload, std::string("payload's ") + what + " lengths exceed its body");
    }
    parts.push_back({at, n});
    at += n;
    left -= n;
  }
  return parts;
}

uint32_t modelId(const std::string& name, const std::string& version) {
  uint32_t h = 2166136261u;
  std::string key = name + "@" + version;
  for (unsigned char c : key) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace aic
