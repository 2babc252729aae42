// (3c) Opus payloads (codec 6): the full header, then the C++ wrapper's decoder
// (native/core/conventional/opus_codec.cc over libopus) at the header's rate and channel count.
// Two packets through one decoder (the input's body, then the body again after mark/rewind)
// cover the state copy as a session uses it.
#include "fuzz_common.h"

#include "conventional/opus_codec.h"

namespace {
void setup() {}
}  // namespace

AIC_FUZZ_HARNESS("opus", setup)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aic::ParsedPayload p;
  if (!aicfuzz::guarded([&] { p = aic::parsePayload(data, size); })) return 0;
  if (p.shortAudio || p.header.codec != aic::CodecKind::Opus) return 0;
  // The session's checks of an Opus header (src/session: rate, channels, 20 ms).
  const int rate = static_cast<int>(p.header.dim0), channels = static_cast<int>(p.header.dim1 >> 16);
  const int samples = static_cast<int>(p.header.dim1 & 0xFFFF);
  if (!aic::opus::supportedRate(rate) || channels < 1 || channels > 2 || samples != rate / 50) return 0;
  aic::opus::Decoder dec(rate, channels);
  std::vector<float> pcm;
  if (!aicfuzz::guarded([&] { pcm = dec.decode(p.body, p.bodyLength); })) return 0;
  if (pcm.size() != static_cast<size_t>(samples) * channels) aicfuzz::finding("Opus frame of the wrong length");
  for (float v : pcm)
    if (!(v >= -1.0f && v <= 1.0f)) aicfuzz::finding("Opus sample outside [-1, 1] or NaN");
  dec.mark();
  aicfuzz::guarded([&] { dec.decode(p.body, p.bodyLength); });
  dec.rewind();
  std::vector<float> again;
  if (!aicfuzz::guarded([&] { again = dec.decode(p.body, p.bodyLength); })) aicfuzz::finding("Opus packet fails after rewind");
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize, unsigned int seed) {
  aicfuzz::MutatorOptions o;
  o.codec = static_cast<int>(aic::CodecKind::Opus);
  return aicfuzz::payloadMutate(data, size, maxSize, seed, o);
}
