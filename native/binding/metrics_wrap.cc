// Module functions: payload header inspection and the quality measures of the C++ core.
#include "metrics_wrap.h"

#include <cmath>

#include "audio/audio_metrics.h"
#include "image/metrics.h"
#include "image/yuv.h"
#include "codec_common.h"

namespace aic::js {

Napi::Value ParsePayloadHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* data;
  size_t length;
  memoryOf(env, info[0], "payload", data, length);
  return guard(env, [&] {
    ParsedPayload parsed = parsePayload(data, length);
    Napi::Object o = payloadHeaderToJs(env, parsed.header);
    o.Set("bodyOffset", static_cast<double>(parsed.body - data));
    o.Set("bodyLength", static_cast<double>(parsed.bodyLength));
    if (parsed.shortAudio || parsed.compactPredicted) {
      o.Set("shortForm", true);
      o.Set("modelTag", parsed.modelTag);
    }
    return o;
  });
}

// packPayload({ frameType, codec, keyframe, fallback, qualityLevel, format, modelId, sequence,
// dim0, dim1, timestamp }, body) -> a payload of the given body (the lossless payloads, whose
// bodies Node's zlib makes, and the conventional codecs' payloads; qualityLevel defaults to 0).
Napi::Value PackPayload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwInvalid(env, "packPayload() needs a header object");
  Napi::Object o = info[0].As<Napi::Object>();
  PayloadHeader h;
  const std::string type = stringField(env, o, "frameType", "header");
  if (type == "video") h.frameType = FrameType::Video;
  else if (type == "audio") h.frameType = FrameType::Audio;
  else if (type == "screen") h.frameType = FrameType::Screen;
  else if (type == "data") h.frameType = FrameType::Data;
  else throwInvalid(env, "header.frameType must be video, audio, screen or data");
  const std::string codec = stringField(env, o, "codec", "header");
  if (codec == "deflate") h.codec = CodecKind::Deflate;
  else if (codec == "stored") h.codec = CodecKind::Stored;
  else if (codec == "webp") h.codec = CodecKind::WebP;
  else if (codec == "jpeg") h.codec = CodecKind::Jpeg;
  else if (codec == "opus") h.codec = CodecKind::Opus;
  else throwInvalid(env, "packPayload() writes 'deflate', 'stored', 'webp', 'jpeg' or 'opus' payloads only");
  h.flags = (o.Get("keyframe").ToBoolean().Value() ? kFlagKeyframe : 0) | (o.Get("fallback").ToBoolean().Value() ? kFlagFallback : 0);
  h.qualityLevel = o.Get("qualityLevel").IsUndefined() ? 0 : static_cast<uint8_t>(intField(env, o, "qualityLevel", "header", 0, 255));
  h.format = static_cast<uint8_t>(intField(env, o, "format", "header", 0, 255));
  auto u32 = [&](const char* key) {
    Napi::Value v = o.Get(key);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || d < 0 || d > 4294967295.0 || std::floor(d) != d) throwInvalid(env, std::string("header.") + key + " must be a 32-bit unsigned integer");
    return static_cast<uint32_t>(d);
  };
  h.modelId = u32("modelId");
  h.sequence = u32("sequence");
  h.dim0 = u32("dim0");
  h.dim1 = u32("dim1");
  h.timestamp = timestampField(env, o, "header", 0);
  // The body's memory is taken after every getter of the header ran (a getter could detach it).
  uint8_t* body;
  size_t length;
  memoryOf(env, info[1], "body", body, length);
  if (length > 0xFFFFFFF0u) throwInvalid(env, "payload body must be under 4 GiB");
  return lendVector(env, guard(env, [&] { return writePayload(h, body, length); }));
}

// i420Metrics(a, b, width, height) -> { psnr, ssim } (Y, U, V weighted 6:1:1; native/core/image/metrics.h)
Napi::Value I420Metrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *a, *b;
  size_t la, lb;
  memoryOf(env, info[0], "a", a, la);
  memoryOf(env, info[1], "b", b, lb);
  const int w = intArg(info, 2, "width", 1, 65535), h = intArg(info, 3, "height", 1, 65535);
  const size_t need = yuv::i420Size(w, h);
  if (la != need || lb != need) throwInvalid(env, "both I420 frames must hold " + std::to_string(need) + " bytes");
  auto s = metrics::i420Scores(a, b, w, h);
  Napi::Object o = Napi::Object::New(env);
  o.Set("psnr", s.psnr);
  o.Set("ssim", s.ssim);
  o.Set("worstTileSsim", s.worstTileSsim);
  return o;
}

// metrics(a, b, width, height, channels) -> { psnr, ssim, msssim }
Napi::Value ImageMetrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *a, *b;
  size_t la, lb;
  memoryOf(env, info[0], "a", a, la);
  memoryOf(env, info[1], "b", b, lb);
  int w = intArg(info, 2, "width", 1, 65535), h = intArg(info, 3, "height", 1, 65535), ch = intArg(info, 4, "channels", 3, 4);
  size_t need = static_cast<size_t>(w) * h * ch;
  if (la != need || lb != need) throwInvalid(env, "both images must hold width*height*channels = " + std::to_string(need) + " bytes");
  Napi::Object o = Napi::Object::New(env);
  o.Set("psnr", metrics::psnr(a, b, w, h, ch));
  const auto s = metrics::rgbScores(a, b, w, h, ch);
  o.Set("ssim", s.ssim);
  o.Set("worstTileSsim", s.worstTileSsim);
  o.Set("msssim", metrics::msssim(a, b, w, h, ch));
  return o;
}

// audioMetrics(reference: Float32Array, decoded: Float32Array, sampleRate) -> { siSnrDb, logMelDistanceDb, score, holeFraction, bandLoss }
Napi::Value AudioMetrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ref = monoSamples(info, 0, "reference");
  auto dec = monoSamples(info, 1, "decoded");
  if (ref.ElementLength() != dec.ElementLength()) throwInvalid(env, "reference and decoded must have the same number of samples");
  double rate = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  if (!std::isfinite(rate) || std::floor(rate) != rate) throwInvalid(env, "sampleRate must be an integer number of Hz");
  auto q = guard(env, [&] { return metrics::audioQuality(ref.Data(), dec.Data(), ref.ElementLength(), static_cast<int>(rate)); });
  Napi::Object o = audioQualityToJs(env, q.siSnrDb, q.logMelDistanceDb, q.score);
  o.Set("holeFraction", q.holeFraction);
  o.Set("bandLoss", q.bandLoss);
  return o;
}

}  // namespace aic::js
