// (2) The entropy decoder: rANS decoding of one image band or one audio channel against the
// shipped CDF tables (models/aic-image-v1, models/aic-audio-v2).
//
// Input: byte 0 bit 0 picks the table set (0 image, 1 audio), byte 1 the level (mod levels),
// byte 2 the band height and byte 3 the width (image: 1 + b % 8 latent rows/columns; audio: the
// one-position grid), then the coded stream. A stream that decodes must hold values the encoder
// takes, and re-encoding them must decode back to the same values (the coder is a bijection on
// what it accepts). The seed corpus is the real bands of real payloads with this prefix.
#include "fuzz_common.h"

namespace {
std::shared_ptr<const aic::entropy::CdfTableSet> imageTables, audioTables;
void setup() {
  imageTables = aicfuzz::imageConfig(aicfuzz::imageCfg()).tables;
  audioTables = aicfuzz::audioConfig(aicfuzz::audioCfg()).tables;
}
}  // namespace

AIC_FUZZ_HARNESS("entropy", setup)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const bool audio = data[0] & 1;
  const auto& t = audio ? *audioTables : *imageTables;
  const int level = data[1] % t.levels();
  const int h = audio ? 1 : 1 + data[2] % 8, w = audio ? 1 : 1 + data[3] % 8;
  const size_t plane = static_cast<size_t>(h) * w;
  // A band of a taller grid: the channel stride is a larger plane, as in the image codec.
  const size_t stride = audio ? plane : plane + ((data[0] >> 1) & 1) * w;
  std::vector<int32_t> symbols(static_cast<size_t>(t.channels()) * stride, 0x7EADBEEF);
  const bool ok = t.decode(data + 4, size - 4, h, w, level, symbols.data(), stride);
  if (!ok) return 0;
  // Every decoded value is in the encoder's range: re-encode and decode again.
  std::vector<uint8_t> again;
  if (!aicfuzz::guarded([&] { again = t.encode(symbols.data(), h, w, level, stride); })) aicfuzz::finding("decoded latents the encoder rejects");
  std::vector<int32_t> back(symbols.size(), 0x7EADBEEF);
  if (!t.decode(again.data(), again.size(), h, w, level, back.data(), stride)) aicfuzz::finding("re-encoded latents do not decode");
  for (int c = 0; c < t.channels(); ++c)
    for (size_t i = 0; i < plane; ++i)
      if (back[c * stride + i] != symbols[c * stride + i]) aicfuzz::finding("re-encoded latents decode to other values");
  return 0;
}
