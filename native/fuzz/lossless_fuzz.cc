// (3d) Lossless payloads (codec 2 deflate, 3 stored): the C++ side of their decode is the header
// and body-length checks of parsePayload, which the session (src/session/decode.ts) then sizes
// the frame from; the inflate itself is Node's zlib (covered by test/fuzz-api.mjs). This harness
// mirrors the session's size checks and checks the body bounds: a stored body must be exactly the
// frame, and no header may describe a frame over 256 MiB past the checks.
#include "fuzz_common.h"

namespace {
void setup() {}
}  // namespace

AIC_FUZZ_HARNESS("lossless", setup)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aic::ParsedPayload p;
  if (!aicfuzz::guarded([&] { p = aic::parsePayload(data, size); })) return 0;
  const auto& h = p.header;
  if (p.shortAudio || (h.codec != aic::CodecKind::Deflate && h.codec != aic::CodecKind::Stored)) return 0;
  if (p.body < data + aic::kHeaderSize || p.body + p.bodyLength + aic::kTrailerSize != data + size) aicfuzz::finding("lossless body bounds");
  uint64_t expected = 0;
  if (h.frameType == aic::FrameType::Data) {
    expected = h.dim0;
  } else if (h.frameType == aic::FrameType::Audio) {
    const uint32_t ch = h.dim1 >> 16, samples = h.dim1 & 0xFFFF;
    if (h.format > 1 || (ch != 1 && ch != 2) || !aic::supportedAudioRate(static_cast<int>(h.dim0)) || samples != h.dim0 / 50) return 0;
    expected = uint64_t(samples) * ch * (h.format == 1 ? 4 : 2);
  } else {
    if (h.format > 2 || h.dim0 < 1 || h.dim1 < 1 || h.dim0 > 16384 || h.dim1 > 16384) return 0;
    expected = aic::frameBytes(static_cast<aic::PixelFormat>(h.format), static_cast<int>(h.dim0), static_cast<int>(h.dim1));
  }
  if (expected > 256u * 1024 * 1024) return 0;
  if (h.codec == aic::CodecKind::Stored && p.bodyLength == expected) {
    // What the session copies out: every byte of the body, inside the input.
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < p.bodyLength; ++i) sum += p.body[i];
    (void)sum;
  }
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize, unsigned int seed) {
  aicfuzz::MutatorOptions o;
  o.codec = static_cast<int>((seed >> 16) & 1 ? aic::CodecKind::Deflate : aic::CodecKind::Stored);
  return aicfuzz::payloadMutate(data, size, maxSize, seed, o);
}
