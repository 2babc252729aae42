// (3a) Full decode of neural image payloads with the real model (models/aic-image-v1):
// ImageCodec::decode, entropy decoding of the bands and the decoder network, on frames of at
// most 64 x 64 (larger headers are skipped: see README.md on the allocation before the band
// check, which belongs to the decoder limits). The mutator keeps the header a plausible neural
// image header of this model and recomputes the CRC.
#include "fuzz_common.h"

namespace {
constexpr uint32_t kMaxDim = 64;
std::shared_ptr<aic::ImageCodec> codec;
void setup() {
  auto cfg = aicfuzz::imageCfg();
  codec = std::make_shared<aic::ImageCodec>(aicfuzz::model(aicfuzz::engine(), cfg), aicfuzz::imageConfig(cfg));
}
uint32_t maxDim() {
  static const uint32_t m = static_cast<uint32_t>(std::stoul(aicfuzz::envOr("AIC_FUZZ_IMAGE_MAX_DIM", "64")));
  return m;
}
}  // namespace

AIC_FUZZ_HARNESS("image_decode", setup)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size >= 28 && data[0] == 'A' && (aicfuzz::get32(data + 20) > maxDim() || aicfuzz::get32(data + 24) > maxDim())) return 0;
  aic::ImageDecodeResult r;
  if (!aicfuzz::guarded([&] { r = codec->decode(data, size, nullptr, 0); })) return 0;
  const size_t expected = aic::frameBytes(r.format, r.width, r.height);
  if (r.pixels.size() != expected) aicfuzz::finding("decoded image has " + std::to_string(r.pixels.size()) + " bytes, expected " + std::to_string(expected));
  // Into a caller's buffer too (the other output path).
  std::vector<uint8_t> out(expected);
  if (!aicfuzz::guarded([&] { codec->decode(data, size, out.data(), out.size()); })) aicfuzz::finding("a payload that decoded once fails into a caller buffer");
  if (out != r.pixels) aicfuzz::finding("decode into a caller buffer differs from the returned pixels");
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize, unsigned int seed) {
  aicfuzz::MutatorOptions o;
  o.modelId = codec->modelId();
  o.codec = static_cast<int>(aic::CodecKind::NeuralImage);
  o.maxDim = kMaxDim;
  return aicfuzz::payloadMutate(data, size, maxSize, seed, o);
}
