#include "image/image_codec.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/errors.h"
#include "common/helper_threads.h"
#include "image/yuv.h"

namespace aic {

namespace {

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

int roundUp(int v, int m) { return (v + m - 1) / m * m; }

// The latent grid is coded as horizontal bands, each its own rANS stream, so that encoding and
// decoding run on two threads. The count depends only on the grid, never on the machine.
int bandCount(int latentHeight) { return latentHeight >= 16 ? 2 : 1; }
int bandStart(int band, int bands, int latentHeight) { return band * latentHeight / bands; }

const TensorInfo& findTensor(const std::vector<TensorInfo>& list, const std::string& name, const std::string& what) {
  for (const auto& t : list)
    if (t.name == name) return t;
  throw CoreError(ErrorCode::ModelSignatureMismatch, what + " '" + name + "' is not in the model");
}

void checkFloat4d(const TensorInfo& t, const std::string& what) {
  if (!t.type || *t.type != ElementType::Float32 || t.shape.size() != 4) {
    throw CoreError(ErrorCode::ModelSignatureMismatch, what + " '" + t.name + "' must be float32 of rank 4 (NCHW), the model has " + t.onnxTypeName +
                                                           " " + shapeToString(t.shape));
  }
}

}  // namespace

size_t frameBytes(PixelFormat f, int width, int height) {
  if (f == PixelFormat::I420) return yuv::i420Size(width, height);
  return static_cast<size_t>(width) * height * bytesPerPixel(f);
}

const char* formatName(PixelFormat f) { return f == PixelFormat::I420 ? "i420" : (f == PixelFormat::Rgba ? "rgba" : "rgb24"); }

ImageCodec::ImageCodec(std::shared_ptr<CodecModel> model, ImageCodecConfig config) : model_(std::move(model)), config_(std::move(config)) {
  const auto& c = config_;
  if (!c.tables) throw CoreError(ErrorCode::InvalidArgument, "image codec needs its entropy tables");
  if (c.latentChannels < 1 || c.levels < 1 || c.downsample < 1 || c.paddingMultiple < 1 || c.paddingMultiple % c.downsample != 0) {
    throw CoreError(ErrorCode::InvalidArgument, "image codec: latentChannels, levels, downsample and paddingMultiple (a multiple of downsample) must be positive");
  }
  if (c.levels > 255) throw CoreError(ErrorCode::InvalidArgument, "image codec: at most 255 quality levels");
  const size_t n = static_cast<size_t>(c.levels) * c.latentChannels;
  if (c.gains.size() != n || c.inverseGains.size() != n) {
    throw CoreError(ErrorCode::InvalidArgument, "image codec: gains and inverseGains need levels x latentChannels = " + std::to_string(n) + " values");
  }
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(c.gains[i]) || !std::isfinite(c.inverseGains[i]) || c.gains[i] <= 0 || c.inverseGains[i] <= 0) {
      throw CoreError(ErrorCode::InvalidArgument, "image codec: gains must be finite and positive");
    }
  }
  if (c.roundingOffsets.empty()) config_.roundingOffsets.assign(c.levels, 0.5f);
  if (c.roundingOffsets.size() != static_cast<size_t>(c.levels)) throw CoreError(ErrorCode::InvalidArgument, "image codec: one rounding offset per level");
  for (float o : c.roundingOffsets)
    if (!(o >= 0.0f && o <= 0.5f)) throw CoreError(ErrorCode::InvalidArgument, "image codec: rounding offsets must be within [0, 0.5]");
  if (c.tables->levels() != c.levels || c.tables->channels() != c.latentChannels) {
    throw CoreError(ErrorCode::InvalidArgument, "image codec: entropy tables do not match levels x latentChannels");
  }
  const Graph& enc = model_->graph(Part::Encoder);
  const Graph& dec = model_->graph(Part::Decoder);
  if (enc.inputs().size() != 1 || dec.inputs().size() != 1) throw CoreError(ErrorCode::ModelSignatureMismatch, "image codec graphs must have one input each");
  const TensorInfo& ei = findTensor(enc.inputs(), c.encoderInput, "encoder input");
  const TensorInfo& eo = findTensor(enc.outputs(), c.encoderOutput, "encoder output");
  const TensorInfo& di = findTensor(dec.inputs(), c.decoderInput, "decoder input");
  const TensorInfo& dout = findTensor(dec.outputs(), c.decoderOutput, "decoder output");
  for (auto* t : {&ei, &eo, &di, &dout}) checkFloat4d(*t, "image codec tensor");
  if (ei.shape[1] >= 0 && ei.shape[1] != 3) throw CoreError(ErrorCode::ModelSignatureMismatch, "encoder input must have 3 channels (RGB)");
  if (eo.shape[1] >= 0 && eo.shape[1] != c.latentChannels) throw CoreError(ErrorCode::ModelSignatureMismatch, "encoder output channels differ from the manifest's latent channels");
  if (di.shape[1] >= 0 && di.shape[1] != c.latentChannels) throw CoreError(ErrorCode::ModelSignatureMismatch, "decoder input channels differ from the manifest's latent channels");
  modelId_ = aic::modelId(c.name, c.version);
  // Per level: the fewest bits a one-position grid can cost (each channel's cheapest symbol).
  leastGridBits_.assign(c.levels, 0.0);
  for (int level = 0; level < c.levels; ++level) {
    for (int ch = 0; ch < c.latentChannels; ++ch) {
      double least = 1e300;
      for (int ctx = 0; ctx < entropy::kContexts; ++ctx) {
        const auto& cdf = c.tables->table(level, ch, ctx).cdf;
        uint32_t most = 0;
        for (size_t k = 1; k < cdf.size(); ++k) most = std::max(most, cdf[k] - cdf[k - 1]);
        least = std::min(least, leastSymbolBits(most));
      }
      leastGridBits_[level] += least;
    }
  }
}

// A decoded symbol of frequency f (of 2^16) divides the rANS state by at least
// 1 + (2^16 / f - 1) * 128/129 (the state is >= 2^23 before the step), whatever the bytes are.
double ImageCodec::leastSymbolBits(uint32_t freq) { return std::log2(1.0 + (65536.0 / freq - 1.0) * (128.0 / 129.0)); }

size_t ImageCodec::leastBandBytes(size_t positions, int level) const {
  // A grid of more than one position costs at least the one "all zero" bit per channel; a grid of
  // one, its channels' cheapest symbols. The stream is its 4-byte initial state, then bytes that
  // each multiply the state by less than 2^8.0113; it starts below 2^32 and must end at 2^23, so
  // the bytes after the state number at least (bits - 9) / 8.0113.
  const double bits = positions > 1 ? static_cast<double>(config_.latentChannels) : leastGridBits_[level];
  const double bytes = std::ceil((bits - 9.0) / 8.0113 - 1e-9);
  return 4 + static_cast<size_t>(std::max(0.0, bytes));
}

ImageLatents ImageCodec::analyse(const ImageFrame& frame) const {
  const auto& c = config_;
  if (frame.width < 1 || frame.height < 1 || frame.width > kMaxDimension || frame.height > kMaxDimension) {
    throw CoreError(ErrorCode::InvalidArgument, "frame dimensions " + std::to_string(frame.width) + "x" + std::to_string(frame.height) + " must be 1.." +
                                                    std::to_string(kMaxDimension) + " on each side");
  }
  const size_t expected = frameBytes(frame.format, frame.width, frame.height);
  if (frame.length != expected || frame.data == nullptr) {
    throw CoreError(ErrorCode::InvalidArgument, "a " + std::to_string(frame.width) + "x" + std::to_string(frame.height) + " " + formatName(frame.format) +
                                                    " frame needs " + std::to_string(expected) + " bytes, got " + std::to_string(frame.length));
  }
  ImageLatents result;
  result.width = frame.width;
  result.height = frame.height;
  result.format = frame.format;
  auto t0 = Clock::now();
  // Pre-processing reads the caller's pixels in place and writes the padded float planes the
  // graph takes (the one conversion the network needs: uint8 interleaved or YUV -> float RGB planar).
  const int pw = roundUp(frame.width, c.paddingMultiple), ph = roundUp(frame.height, c.paddingMultiple);
  const size_t plane = static_cast<size_t>(pw) * ph;
  std::vector<float> input(3 * plane);
  const float scale = 1.0f / 255.0f;
  const int bpp = bytesPerPixel(frame.format);
  for (int y = 0; y < ph; ++y) {
    const int sy = std::min(y, frame.height - 1);
    const uint8_t* row = frame.data + static_cast<size_t>(sy) * frame.width * bpp;
    float* r = &input[static_cast<size_t>(y) * pw];
    float* g = r + plane;
    float* b = g + plane;
    for (int x = 0; x < pw; ++x) {
      const int sx = std::min(x, frame.width - 1);
      if (frame.format == PixelFormat::I420) {
        float rgb[3];
        yuv::i420PixelToRgb(frame.data, frame.width, frame.height, sx, sy, rgb);
        r[x] = rgb[0];
        g[x] = rgb[1];
        b[x] = rgb[2];
        continue;
      }
      const uint8_t* px = row + static_cast<size_t>(sx) * bpp;
      r[x] = px[0] * scale;
      g[x] = px[1] * scale;
      b[x] = px[2] * scale;
    }
  }
  result.timings.preprocessMs = msSince(t0);

  auto t1 = Clock::now();
  TensorView in{c.encoderInput, ElementType::Float32, {1, 3, ph, pw}, input.data(), input.size() * sizeof(float)};
  auto outputs = model_->graph(Part::Encoder).run({in}, {});
  result.timings.inferenceMs = msSince(t1);

  const OutputTensor* latent = nullptr;
  for (const auto& o : outputs)
    if (o.name == c.encoderOutput) latent = &o;
  const int lh = ph / c.downsample, lw = pw / c.downsample;
  if (!latent || latent->shape != std::vector<int64_t>{1, c.latentChannels, lh, lw}) {
    throw CoreError(ErrorCode::InferenceFailed, "encoder output has shape " + (latent ? shapeToString(latent->shape) : std::string("(none)")) + ", expected " +
                                                    shapeToString({1, c.latentChannels, lh, lw}));
  }
  const float* y = static_cast<const float*>(latent->data);
  result.latentHeight = lh;
  result.latentWidth = lw;
  result.values.assign(y, y + static_cast<size_t>(c.latentChannels) * lh * lw);
  return result;
}

std::vector<uint8_t> ImageCodec::code(const ImageLatents& latents, const ImageEncodeOptions& options, std::vector<int32_t>* symbolsOut) const {
  const auto& c = config_;
  if (options.level < 0 || options.level >= c.levels) {
    throw CoreError(ErrorCode::InvalidArgument, "quality level " + std::to_string(options.level) + " is out of range 0.." + std::to_string(c.levels - 1));
  }
  const int lh = latents.latentHeight, lw = latents.latentWidth;
  const float* y = latents.values.data();
  const size_t lplane = static_cast<size_t>(lh) * lw;
  std::vector<int32_t> symbols(static_cast<size_t>(c.latentChannels) * lplane);
  const float* gains = &c.gains[static_cast<size_t>(options.level) * c.latentChannels];
  const float offset = c.roundingOffsets[options.level];
  for (int ch = 0; ch < c.latentChannels; ++ch) {
    const float g = gains[ch];
    const float* in = y + ch * lplane;
    int32_t* q = symbols.data() + ch * lplane;
    // Branch-free so that it vectorises: a NaN or an infinity from the network becomes 0 (it must
    // not reach the coder), a finite magnitude over 2^20 is clamped to it.
    for (size_t i = 0; i < lplane; ++i) {
      const float v = in[i] * g;
      float m = std::floor(std::fabs(v) + offset);
      m = m <= 1048576.0f ? m : (m < std::numeric_limits<float>::infinity() ? 1048576.0f : 0.0f);
      q[i] = static_cast<int32_t>(v < 0 ? -m : m);
    }
  }
  // Body: band count, the byte length of every band but the last (u32 LE), then the bands.
  const int bands = bandCount(lh);
  std::vector<std::vector<uint8_t>> coded(bands);
  forEachShare(bands, [&](int b) {  // band 0 here, the others on helper threads
    const int r0 = bandStart(b, bands, lh), r1 = bandStart(b + 1, bands, lh);
    coded[b] = c.tables->encode(symbols.data() + static_cast<size_t>(r0) * lw, r1 - r0, lw, options.level, lplane);
  });
  std::vector<uint8_t> body{static_cast<uint8_t>(bands)};
  appendParts(body, coded);
  PayloadHeader h;
  h.frameType = options.frameType;
  h.codec = CodecKind::NeuralImage;
  h.flags = options.keyframe ? kFlagKeyframe : 0;
  h.qualityLevel = static_cast<uint8_t>(options.level);
  h.format = static_cast<uint8_t>(latents.format);
  h.modelId = modelId_;
  h.sequence = options.sequence;
  h.dim0 = static_cast<uint32_t>(latents.width);
  h.dim1 = static_cast<uint32_t>(latents.height);
  h.timestamp = options.timestamp;
  auto payload = writePayload(h, body.data(), body.size());
  if (symbolsOut) *symbolsOut = std::move(symbols);
  return payload;
}

ImageEncodeResult ImageCodec::encode(const ImageFrame& frame, const ImageEncodeOptions& options) const {
  if (options.level < 0 || options.level >= config_.levels) {
    throw CoreError(ErrorCode::InvalidArgument, "quality level " + std::to_string(options.level) + " is out of range 0.." + std::to_string(config_.levels - 1));
  }
  ImageEncodeResult result;
  ImageLatents latents = analyse(frame);
  result.timings = latents.timings;
  auto t2 = Clock::now();
  result.payload = code(latents, options);
  result.timings.postprocessMs = msSince(t2);
  return result;
}

DecodedSymbols ImageCodec::decodeSymbols(const uint8_t* payload, size_t length, const std::function<void(const PayloadHeader&)>& beforeEntropy) const {
  const auto& c = config_;
  ParsedPayload parsed = parsePayload(payload, length);
  const PayloadHeader& h = parsed.header;
  if (h.codec != CodecKind::NeuralImage) throw CoreError(ErrorCode::InvalidArgument, "payload is not a neural image payload");
  if (h.modelId != modelId_) {
    throw CoreError(ErrorCode::ModelMismatch, "payload was coded by another model (id " + std::to_string(h.modelId) + ") than '" + c.name + "@" + c.version +
                                                  "'; decode it with the model that coded it");
  }
  // parsePayload() checked the format, the dimensions (1..16384, at most 64 Mpixel) and the frame type.
  const int width = static_cast<int>(h.dim0), height = static_cast<int>(h.dim1);
  if (h.qualityLevel >= c.levels) {
    throw CoreError(ErrorCode::CorruptPayload, "payload header field quality level is " + std::to_string(h.qualityLevel) + " (allowed: 0.." + std::to_string(c.levels - 1) +
                                                   ", the model's levels); the payload is corrupt");
  }
  if (beforeEntropy) beforeEntropy(h);
  const int pw = roundUp(width, c.paddingMultiple), ph = roundUp(height, c.paddingMultiple);
  const int lh = ph / c.downsample, lw = pw / c.downsample;
  const size_t lplane = static_cast<size_t>(lh) * lw;
  const int bands = bandCount(lh);
  if (parsed.bodyLength < 1 || parsed.body[0] != bands) throw CoreError(ErrorCode::CorruptPayload, "payload's band layout does not match its image size");
  const auto parts = splitParts(parsed.body + 1, parsed.bodyLength - 1, bands, "band");
  // Before anything the size of the frame is allocated: every band must be at least as long as
  // the shortest legal stream of its grid (docs/bitstream.md, "Least body").
  for (int b = 0; b < bands; ++b) {
    const size_t rows = static_cast<size_t>(bandStart(b + 1, bands, lh) - bandStart(b, bands, lh));
    const size_t least = leastBandBytes(rows * lw, h.qualityLevel);
    if (parts[b].second < least) {
      throw CoreError(ErrorCode::CorruptPayload, "payload's band " + std::to_string(b) + " is " + std::to_string(parts[b].second) + " bytes, shorter than the " +
                                                     std::to_string(least) + " bytes any band of a " + std::to_string(width) + "x" + std::to_string(height) +
                                                     " frame takes; the payload is corrupt");
    }
  }
  std::vector<int32_t> symbols(static_cast<size_t>(c.latentChannels) * lplane);
  std::vector<char> ok(bands, 0);
  forEachShare(bands, [&](int b) {  // band 0 here, the others on helper threads
    const int r0 = bandStart(b, bands, lh), r1 = bandStart(b + 1, bands, lh);
    ok[b] = c.tables->decode(parts[b].first, parts[b].second, r1 - r0, lw, h.qualityLevel, symbols.data() + static_cast<size_t>(r0) * lw, lplane);
  });
  if (std::find(ok.begin(), ok.end(), 0) != ok.end()) {
    throw CoreError(ErrorCode::CorruptPayload, "payload's coded latents do not decode; the payload is corrupt");
  }
  DecodedSymbols d;
  d.header = h;
  d.width = width;
  d.height = height;
  d.latentHeight = lh;
  d.latentWidth = lw;
  d.symbols = std::move(symbols);
  return d;
}

ImageDecodeResult ImageCodec::decode(const uint8_t* payload, size_t length, uint8_t* out, size_t outLength) const {
  ImageDecodeResult result;
  auto t0 = Clock::now();
  // The output is checked before the latents are decoded, as it always was.
  DecodedSymbols d = decodeSymbols(payload, length, [&](const PayloadHeader& h) {
    const size_t outBytes = frameBytes(static_cast<PixelFormat>(h.format), static_cast<int>(h.dim0), static_cast<int>(h.dim1));
    if (out && outLength != outBytes) {
      throw CoreError(ErrorCode::OutputMismatch, "output buffer holds " + std::to_string(outLength) + " bytes; this " + std::to_string(h.dim0) + "x" +
                                                     std::to_string(h.dim1) + " frame needs " + std::to_string(outBytes));
    }
  });
  const PayloadHeader& h = d.header;
  const int width = d.width, height = d.height;
  const PixelFormat format = static_cast<PixelFormat>(h.format);
  const size_t outBytes = frameBytes(format, width, height);
  std::vector<int32_t>& symbols = d.symbols;
  const double entropyMs = msSince(t0);  // parse and rANS decode
  if (!out) {
    result.pixels.resize(outBytes);
    out = result.pixels.data();
  }
  const Timings t = reconstruct(symbols.data(), h.qualityLevel, width, height, format, out);
  result.timings.preprocessMs = entropyMs + t.preprocessMs;
  result.timings.inferenceMs = t.inferenceMs;
  result.timings.postprocessMs = t.postprocessMs;
  result.header = h;
  result.width = width;
  result.height = height;
  result.format = format;
  return result;
}

Timings ImageCodec::reconstruct(const int32_t* symbols, int level, int width, int height, PixelFormat format, uint8_t* out) const {
  const auto& c = config_;
  if (level < 0 || level >= c.levels) throw CoreError(ErrorCode::InvalidArgument, "quality level " + std::to_string(level) + " is out of range");
  Timings timings;
  auto t0 = Clock::now();
  const int pw = roundUp(width, c.paddingMultiple), ph = roundUp(height, c.paddingMultiple);
  const int lh = ph / c.downsample, lw = pw / c.downsample;
  const size_t lplane = static_cast<size_t>(lh) * lw;
  std::vector<float> latent(static_cast<size_t>(c.latentChannels) * lplane);
  const float* inv = &c.inverseGains[static_cast<size_t>(level) * c.latentChannels];
  for (int ch = 0; ch < c.latentChannels; ++ch)
    for (size_t i = 0; i < lplane; ++i) latent[ch * lplane + i] = static_cast<float>(symbols[ch * lplane + i]) * inv[ch];
  timings.preprocessMs = msSince(t0);

  auto t1 = Clock::now();
  TensorView in{c.decoderInput, ElementType::Float32, {1, c.latentChannels, lh, lw}, latent.data(), latent.size() * sizeof(float)};
  auto outputs = model_->graph(Part::Decoder).run({in}, {});
  timings.inferenceMs = msSince(t1);

  auto t2 = Clock::now();
  const OutputTensor* image = nullptr;
  for (const auto& o : outputs)
    if (o.name == c.decoderOutput) image = &o;
  if (!image || image->shape != std::vector<int64_t>{1, 3, ph, pw}) {
    throw CoreError(ErrorCode::InferenceFailed, "decoder output has shape " + (image ? shapeToString(image->shape) : std::string("(none)")) + ", expected " +
                                                    shapeToString({1, 3, ph, pw}));
  }
  const float* rgb = static_cast<const float*>(image->data);
  const size_t plane = static_cast<size_t>(pw) * ph;
  const int bpp = bytesPerPixel(format);
  if (format == PixelFormat::I420) yuv::rgbPlanesToI420(rgb, plane, pw, width, height, out);
  for (int y = 0; format != PixelFormat::I420 && y < height; ++y) {
    uint8_t* row = out + static_cast<size_t>(y) * width * bpp;
    const float* r = rgb + static_cast<size_t>(y) * pw;
    for (int x = 0; x < width; ++x) {
      for (int ch = 0; ch < 3; ++ch) {
        float v = r[ch * plane + x] * 255.0f + 0.5f;
        row[x * bpp + ch] = static_cast<uint8_t>(v <= 0.0f ? 0.0f : (v >= 255.0f ? 255.0f : v));  // NaN -> 0
      }
      if (bpp == 4) row[x * bpp + 3] = 255;  // alpha is not coded: opaque
    }
  }
  timings.postprocessMs = msSince(t2);
  return timings;
}

}  // namespace aic
