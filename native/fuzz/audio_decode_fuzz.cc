// (3b) Full decode of one neural audio frame (20 ms) with the real model (models/aic-audio-v2):
// AudioDecoderStream::decode (full and short form, entropy decoding of each channel, the frame
// level, the decoder network and the resampler back to the stream rate), then a concealed frame.
// A fresh stream per input, so every input replays alone.
#include "fuzz_common.h"

namespace {
std::shared_ptr<const aic::AudioCodec> codec;
void setup() {
  auto cfg = aicfuzz::audioCfg();
  codec = std::make_shared<aic::AudioCodec>(aicfuzz::model(aicfuzz::engine(), cfg), aicfuzz::audioConfig(cfg));
}
}  // namespace

AIC_FUZZ_HARNESS("audio_decode", setup)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  aic::AudioDecoderStream stream(codec);
  aic::Timings t;
  aic::AudioDecoderStream::Result r;
  if (!aicfuzz::guarded([&] { r = stream.decode(data, size, t); })) return 0;
  const size_t bps = r.format == aic::SampleFormat::F32le ? 4 : 2;
  if (r.pcm.size() != static_cast<size_t>(r.sampleRate / 50) * r.channels * bps) aicfuzz::finding("decoded audio frame has the wrong length");
  if (r.format == aic::SampleFormat::F32le) {
    for (size_t i = 0; i < r.pcm.size(); i += 4) {
      float v;
      std::memcpy(&v, &r.pcm[i], 4);
      if (!(v >= -1.0f && v <= 1.0f)) aicfuzz::finding("decoded f32le sample outside [-1, 1] or NaN");
    }
  }
  aicfuzz::guarded([&] { stream.conceal(t); });
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t maxSize, unsigned int seed) {
  aicfuzz::MutatorOptions o;
  o.modelId = codec->modelId();
  o.codec = static_cast<int>(aic::CodecKind::NeuralAudio);
  o.allowShort = true;
  return aicfuzz::payloadMutate(data, size, maxSize, seed, o);
}
