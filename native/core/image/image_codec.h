// The neural image codec: RGB frame -> padded float planes -> encoder graph -> per-level gain and
// rounding -> context-coded latents -> payload, and back. The model contract (docs/model-contract.md)
// describes what a model must provide; the manifest is parsed and checked in TypeScript and
// arrives here as an ImageCodecConfig.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "format/bitstream.h"
#include "entropy/cdf_tables.h"
#include "runtime/codec_model.h"

namespace aic {

enum class PixelFormat : uint8_t { Rgb24 = 0, Rgba = 1, I420 = 2 };

struct ImageCodecConfig {
  std::string name;
  std::string version;
  int latentChannels = 0;
  int downsample = 16;       // latent stride in pixels
  int paddingMultiple = 16;  // frames are padded (edge-replicated) to a multiple of this
  int levels = 0;
  std::vector<float> gains;         // levels x latentChannels, applied before rounding
  std::vector<float> inverseGains;  // levels x latentChannels, applied after decoding
  // Per level: q = sign(v) * floor(|v| + offset). 0.5 is plain rounding; smaller offsets widen
  // the dead zone around 0, trading a little distortion for fewer bits (as H.264/JPEG encoders do).
  std::vector<float> roundingOffsets;
  std::string encoderInput, encoderOutput, decoderInput, decoderOutput;
  std::shared_ptr<const entropy::CdfTableSet> tables;
};

struct ImageFrame {
  const uint8_t* data = nullptr;
  size_t length = 0;
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::Rgb24;
};

struct ImageEncodeOptions {
  int level = 0;
  uint32_t sequence = 0;
  bool keyframe = true;
  FrameType frameType = FrameType::Video;
  uint64_t timestamp = 0;
};

struct Timings {
  double preprocessMs = 0, inferenceMs = 0, postprocessMs = 0;
};

struct ImageEncodeResult {
  std::vector<uint8_t> payload;
  Timings timings;
};

struct ImageDecodeResult {
  PayloadHeader header;
  int width = 0, height = 0;
  PixelFormat format = PixelFormat::Rgb24;
  std::vector<uint8_t> pixels;  // empty when written into the caller's buffer
  Timings timings;
};

// The encoder's output for one frame, before quantisation: every quality level codes from it, so
// a rate search runs the encoder network once however many levels it tries.
struct ImageLatents {
  int width = 0, height = 0;
  PixelFormat format = PixelFormat::Rgb24;
  int latentHeight = 0, latentWidth = 0;
  std::vector<float> values;  // latentChannels x latentHeight x latentWidth
  Timings timings;            // of the pre-processing and the encoder
};

// A neural image payload up to the entropy decoder: its header and quantised latents.
struct DecodedSymbols {
  PayloadHeader header;
  int width = 0, height = 0;
  int latentHeight = 0, latentWidth = 0;
  std::vector<int32_t> symbols;  // latentChannels x latentHeight x latentWidth
};

class ImageCodec {
 public:
  ImageCodec(std::shared_ptr<CodecModel> model, ImageCodecConfig config);

  const ImageCodecConfig& config() const { return config_; }
  uint32_t modelId() const { return modelId_; }

  ImageEncodeResult encode(const ImageFrame& frame, const ImageEncodeOptions& options) const;
  // The two halves of encode(): the network (checks the frame), then quantisation at one level
  // and entropy coding into a payload.
  ImageLatents analyse(const ImageFrame& frame) const;
  // With `symbols`, also hands back the quantised latents that were coded (latentChannels x
  // latentHeight x latentWidth), from which reconstruct() gives what a receiver will decode.
  std::vector<uint8_t> code(const ImageLatents& latents, const ImageEncodeOptions& options, std::vector<int32_t>* symbols = nullptr) const;
  // The receiver's half after the entropy decoder: dequantise `symbols` at `level`, run the
  // decoder network and write the width x height frame into `out` (frameBytes(format, ...)).
  // decode() ends in it, and the closed loop scores what it writes: the entropy coder is lossless,
  // so skipping the rANS round trip changes no pixel of what is measured
  // (test/image-codec.test.ts checks it against decode() byte for byte).
  Timings reconstruct(const int32_t* symbols, int level, int width, int height, PixelFormat format, uint8_t* out) const;
  // Parses and checks a payload and entropy-decodes its latents (decode() without the network;
  // a predicted frame's reference is computed from them: video/keyframe_reference.h).
  // `beforeEntropy`, when given, runs once the header is checked and before anything the size of
  // the frame is allocated (decode() checks its output buffer there).
  DecodedSymbols decodeSymbols(const uint8_t* payload, size_t length, const std::function<void(const PayloadHeader&)>& beforeEntropy = {}) const;
  // Writes pixels into `out` when it is non-null (it must hold width*height*bytesPerPixel).
  ImageDecodeResult decode(const uint8_t* payload, size_t length, uint8_t* out, size_t outLength) const;

  static constexpr int kMaxDimension = 16384;

  // The fewest bytes a legal band stream of `positions` latent positions at `level` can take: a
  // body shorter than this is refused before the decoder allocates for the frame.
  size_t leastBandBytes(size_t positions, int level) const;
  static double leastSymbolBits(uint32_t freq);

 private:
  std::vector<double> leastGridBits_;  // per level
  std::shared_ptr<CodecModel> model_;
  ImageCodecConfig config_;
  uint32_t modelId_;
};

inline int bytesPerPixel(PixelFormat f) { return f == PixelFormat::Rgba ? 4 : 3; }  // interleaved formats
// Bytes of a width x height frame in format f (I420: Y plus two half-resolution chroma planes).
size_t frameBytes(PixelFormat f, int width, int height);
const char* formatName(PixelFormat f);

}  // namespace aic
