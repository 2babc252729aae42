// The aic payload format, versions 1 and 2 (specified in docs/bitstream.md):
//
//   offset size field
//   0      4    magic "AICF"
//   4      1    version (1)
//   5      1    header length in bytes (exactly 40 in version 1)
//   6      1    frame type: 0 video, 1 audio, 2 screen, 3 data
//   7      1    codec: 0 neural image, 1 neural audio, 2 deflate (lossless), 3 stored (raw),
//               4 WebP, 5 JPEG, 6 Opus (the conventional codecs of the fallback ladder)
//   8      1    flags: bit 0 keyframe, bit 1 fallback
//   9      1    quality level
//   10     1    format: image 0 rgb24, 1 rgba, 2 i420; audio 0 s16le, 1 f32le; data 0
//   11     1    reserved, 0 (a payload with it non-zero is corrupt)
//   12     4    model id (FNV-1a 32 of "name@version"; 0 when no model is involved)
//   16     4    sequence number
//   20     4    dim0: width | sample rate | original byte length
//   24     4    dim1: height | channels << 16 | samples per channel
//   28     4    body length N
//   32     8    timestamp (microseconds, caller-defined epoch)
//   40     N    body (coded latents, or the deflated / stored bytes)
//   40+N   4    CRC-32C of every byte before it
//
// All integers little-endian. Nothing else is needed to decode but the same model.
//
// The short audio form (neural audio frames but a stream's first and every 50th; 12 bytes of
// framing instead of 44, that is 4.8 kbit/s at 50 frames/s instead of 17.6):
//
//   offset size field
//   0      1    0xA5 (a full payload starts with 'A', 0x41)
//   1      1    bits 0-1 sample rate (0 8 kHz, 1 16 kHz, 2 32 kHz, 3 48 kHz), bit 2 stereo,
//               bit 3 f32le, bit 4 silence descriptor (flags bit 3 of the full form), bits 5-7 zero
//   2      1    quality level
//   3      1    model tag: the model id's four bytes XORed together
//   4      2    sequence number, low 16 bits
//   6      4    timestamp, low 32 bits
//   10     N    body (20 ms at the stated rate and channel count)
//   10+N   2    low 16 bits of the CRC-32C of the model id (4 bytes LE) and every byte before it
//
// The receiver's decoder stream restores the high bits of the sequence number and timestamp
// from the last frame it decoded (the closest values to it); a stream's first frame and every
// 50th carry a full header, so a receiver that missed the first is resynchronised within a second.
//
// The compact audio form (7 bytes of framing, 2.8 kbit/s): the short form without its timestamp,
// for frames whose timestamp follows from the last frame that carried one, T (at sequence S):
//   offset size field
//   0      1    0xA6: timestamp T + 20000 * (sequence - S) (one 20 ms frame per sequence number);
//               0xA7: timestamp T (a stream whose timestamps stay put, e.g. all 0)
//   1      1    bits 0-1 sample rate, bit 2 stereo, bit 3 f32le, bit 4 silence descriptor,
//               bits 5-7 quality level (0-7; a higher level takes the short form)
//   2      1    model tag
//   3      2    sequence number, low 16 bits
//   5      N    body
//   5+N    2    as the short form's check
// The sender sends the frame after one whose timestamp broke the rule, and the one after that, in
// a form with a timestamp too, so that one lost frame does not leave the receiver without it.
//
// The compact predicted form (bitstream version 3; 15 bytes of framing for a P-frame at 30 fps
// instead of 52): a predicted frame says everything else relative to its reference, which the
// receiver must hold to decode it anyway (its size, and its sequence number and timestamp).
//   offset size field
//   0      1    0xA8 video, 0xA9 screen; 0xAA video, 0xAB screen of an i420 stream (version 4)
//   1      1    bits 0-5 qp (0..51), bit 6 deblocked, bit 7 rgba (else rgb24; 0 after 0xAA/0xAB)
//   2      1    model tag of the inter model
//   3      2    the reference's sequence number, low 16 bits
//   5      2    the reference's check (CRC-32C of its planes), low 16 bits
//   7      1-5  sequence - reference sequence (LEB128, 1..2^31-1, shortest encoding)
//   ..     1-8  timestamp - reference timestamp, microseconds (LEB128, 0..2^53-1, shortest)
//   ..     N    coded data (as after the 8-byte prefix of a full predicted frame's body)
//   end-4  4    CRC-32C of the inter model id (4 bytes LE), the reference's whole check (4 bytes
//               LE) and every byte before it: a frame decoded against other pixels fails it
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aic {

enum class FrameType : uint8_t { Video = 0, Audio = 1, Screen = 2, Data = 3 };
// 4-6: the conventional codecs of the fallback ladder (the media as it would go without AI); their
// bodies are the codec's own bitstream (docs/bitstream.md).
// 7: a predicted (inter) frame, coded against the receiver's reference (docs/bitstream.md,
// "Predicted frames"); it is the one codec of bitstream version 2.
enum class CodecKind : uint8_t { NeuralImage = 0, NeuralAudio = 1, Deflate = 2, Stored = 3, WebP = 4, Jpeg = 5, Opus = 6, Predicted = 7 };
constexpr uint8_t kLastCodec = 7;

constexpr uint8_t kFlagKeyframe = 1;
constexpr uint8_t kFlagFallback = 2;
/** Predicted frames only: the receiver runs the in-loop deblocking filter (video/deblocking.h). */
constexpr uint8_t kFlagDeblocked = 4;
// Flag bit 3, neural audio only: a silence descriptor (audio/dtx.h) instead of coded coefficients.
constexpr uint8_t kFlagSilence = 8;
constexpr uint8_t kBitstreamVersion = 1;
// Version 2 adds predicted frames (codec 7) and nothing else: every other payload is still written
// as version 1, so a receiver of an older build keeps decoding all but predicted frames, which it
// refuses as UNSUPPORTED_VERSION rather than misreading them.
constexpr uint8_t kPredictedVersion = 2;
constexpr uint8_t kMaxPredictedQp = 51;
// A predicted frame's body starts with the reference's sequence number and check (u32 each).
constexpr size_t kPredictedPrefix = 8;
constexpr size_t kHeaderSize = 40;
constexpr size_t kTrailerSize = 4;
constexpr uint8_t kShortAudioMarker = 0xA5;
constexpr uint8_t kCompactAudioStepMarker = 0xA6, kCompactAudioSameMarker = 0xA7;
constexpr size_t kCompactHeaderSize = 5;
constexpr uint64_t kCompactAudioStepUs = 20000;
constexpr size_t kShortHeaderSize = 10;
constexpr size_t kShortTrailerSize = 2;
constexpr uint8_t kCompactVideoMarker = 0xA8, kCompactScreenMarker = 0xA9;
// The version number capabilities list for the compact predicted form (it has no version byte).
constexpr uint8_t kCompactPredictedVersion = 3;
// Predicted frames of I420 streams (format 2): the full form's format 2 and these compact markers.
// A reader of versions 1-3 refuses both as corrupt, so a sender writes them only to a peer that
// lists version 4.
constexpr uint8_t kCompactI420VideoMarker = 0xAA, kCompactI420ScreenMarker = 0xAB;
constexpr uint8_t kI420PredictedVersion = 4;
/** Whether a payload's first byte starts the compact predicted form (any of its four markers). */
constexpr bool isCompactPredictedMarker(uint8_t b) {
  return b == kCompactVideoMarker || b == kCompactScreenMarker || b == kCompactI420VideoMarker || b == kCompactI420ScreenMarker;
}
constexpr size_t kCompactPredictedFixed = 7;  // marker, bits, tag, reference sequence and check
// The ceilings of what a payload may describe (the encoder's own: src/frames.ts). parsePayload()
// refuses anything beyond them as corrupt; a decoder's limits (docs/api.md) are at most these.
constexpr uint32_t kMaxImageDimension = 16384;
constexpr uint64_t kMaxImagePixels = 64ull * 1024 * 1024;
constexpr uint32_t kMaxDataBytes = 64u * 1024 * 1024;
constexpr uint64_t kMaxTimestamp = (1ull << 53) - 1;  // Number.MAX_SAFE_INTEGER: exact in JS

struct PayloadHeader {
  uint8_t version = kBitstreamVersion;
  FrameType frameType = FrameType::Video;
  CodecKind codec = CodecKind::NeuralImage;
  uint8_t flags = 0;
  uint8_t qualityLevel = 0;
  uint8_t format = 0;
  uint32_t modelId = 0;
  uint32_t sequence = 0;
  uint32_t dim0 = 0;
  uint32_t dim1 = 0;
  uint64_t timestamp = 0;
};

// header + body + CRC-32C.
std::vector<uint8_t> writePayload(const PayloadHeader& header, const uint8_t* body, size_t bodyLength);

struct ParsedPayload {
  PayloadHeader header;
  const uint8_t* body = nullptr;  // points into the parsed buffer
  size_t bodyLength = 0;
  // The short audio form: `header` then holds the low bits of the sequence number and timestamp,
  // and modelId 0; the CRC is not checked yet (it covers the model id: shortAudioCrcMatches()).
  bool shortAudio = false;
  uint8_t modelTag = 0;
  // The compact form (shortAudio is true too): no timestamp in the bytes; `compactStep` is what it
  // advances by per sequence number since the last frame that carried one (20000 or 0 µs).
  bool compactAudio = false;
  uint64_t compactStep = 0;
  // The compact predicted form: `header` has the frame type, flags, qp (quality level), format and
  // version 3; sequence, timestamp, size and model id follow from the reference the receiver holds
  // (resolveCompactPredicted()); `body` is the coded data alone (no reference prefix) and the
  // check is not verified yet (it covers the model id and the reference's check).
  bool compactPredicted = false;
  uint16_t referenceSequenceLow = 0, referenceCheckLow = 0;
  uint32_t sequenceDelta = 0;
  uint64_t timestampDelta = 0;
};

// Checks magic, version, lengths, CRC and every header field the bytes alone decide (reserved bits
// and bytes zero, header length exactly 40, frame type vs codec, format, dimensions, timestamp,
// body length of lossless payloads: docs/bitstream.md, "Field ranges"); throws
// CoreError(CorruptPayload naming the field | UnsupportedVersion). The quality level against the
// model's levels and the model id are the codec's to check.
ParsedPayload parsePayload(const uint8_t* data, size_t length);

// The short audio form of a neural audio frame (flags must be 0: keyframes and fallbacks take the
// full form). Throws CoreError(InvalidArgument) when the header cannot be written short.
std::vector<uint8_t> writeShortAudioPayload(const PayloadHeader& header, const uint8_t* body, size_t bodyLength);
// The compact form: `stepUs` is 20000 (0xA6) or 0 (0xA7); quality level <= 7, flags 0 or silence.
std::vector<uint8_t> writeCompactAudioPayload(const PayloadHeader& header, const uint8_t* body, size_t bodyLength, uint64_t stepUs);
// The short or compact form's check (it covers the model id).
bool shortAudioCrcMatches(const uint8_t* data, size_t length, uint32_t modelId);
uint8_t modelTag(uint32_t modelId);

// The compact predicted form of a predicted frame (`header`: frame type, flags, qp, format, model
// id, sequence and timestamp) coded against the reference (sequence, check, timestamp); `coded` is
// the coder's output. Throws CoreError(InvalidArgument) when the frame cannot take it (its
// sequence not 1..2^31-1 after the reference's, its timestamp before the reference's).
std::vector<uint8_t> writeCompactPredictedPayload(const PayloadHeader& header, uint32_t referenceSequence, uint32_t referenceCheck, uint64_t referenceTimestamp,
                                                  const uint8_t* coded, size_t codedLength);
// Whether a compact predicted frame's framing can hold this frame, and its size in bytes (all but
// the coded data), or 0 when it cannot.
size_t compactPredictedFraming(uint32_t sequence, uint64_t timestamp, uint32_t referenceSequence, uint64_t referenceTimestamp);
// The compact predicted form's check, against the receiver's model id and reference check.
bool compactPredictedCrcMatches(const uint8_t* data, size_t length, uint32_t modelId, uint32_t referenceCheck);

// A body made of several coded streams (image bands, audio channels): the byte length of every
// part but the last (u32 LE), then the parts in order.
void appendParts(std::vector<uint8_t>& body, const std::vector<std::vector<uint8_t>>& parts);
// Splits `count` parts back out of such a body; throws CoreError(CorruptPayload) naming `what`
// when the lengths do not fit.
std::vector<std::pair<const uint8_t*, size_t>> splitParts(const uint8_t* data, size_t length, int count, const char* what);

// FNV-1a 32-bit of "name@version": the model id written into payloads.
uint32_t modelId(const std::string& name, const std::string& version);

}  // namespace aic
