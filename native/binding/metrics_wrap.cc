// Module functions: payload header inspection and the quality measures of the C++ core.
#include "metrics_wrap.h"

#include <cmath>

#include "../core/audio_metrics.h"
#include "../core/metrics.h"
#include "codec_common.h"

namespace aic::js {

Napi::Value ParsePayloadHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* data;
  size_t length;
  memoryOf(env, info[0], "payload", data, length);
  return guard(env, [&] { return payloadHeaderToJs(env, parsePayload(data, length).header); });
}

// metrics(a, b, width, height, channels) -> { psnr, ssim, msssim }
Napi::Value ImageMetrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t *a, *b;
  size_t la, lb;
  memoryOf(env, info[0], "a", a, la);
  memoryOf(env, info[1], "b", b, lb);
  auto num = [&](int i, const char* what, int lo, int hi) {
    double d = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || std::floor(d) != d || d < lo || d > hi) throwInvalid(env, std::string(what) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<int>(d);
  };
  int w = num(2, "width", 1, 65535), h = num(3, "height", 1, 65535), ch = num(4, "channels", 3, 4);
  size_t need = static_cast<size_t>(w) * h * ch;
  if (la != need || lb != need) throwInvalid(env, "both images must hold width*height*channels = " + std::to_string(need) + " bytes");
  Napi::Object o = Napi::Object::New(env);
  o.Set("psnr", metrics::psnr(a, b, w, h, ch));
  o.Set("ssim", metrics::ssim(a, b, w, h, ch));
  o.Set("msssim", metrics::msssim(a, b, w, h, ch));
  return o;
}

// audioMetrics(reference: Float32Array, decoded: Float32Array, sampleRate) -> { siSnrDb, logMelDistanceDb, score }
Napi::Value AudioMetrics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto samples = [&](int i, const char* what) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throwInvalid(env, std::string(what) + " must be a Float32Array of mono samples");
    }
    return info[i].As<Napi::Float32Array>();
  };
  auto ref = samples(0, "reference");
  auto dec = samples(1, "decoded");
  if (ref.ElementLength() != dec.ElementLength()) throwInvalid(env, "reference and decoded must have the same number of samples");
  double rate = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0;
  if (!std::isfinite(rate) || std::floor(rate) != rate) throwInvalid(env, "sampleRate must be an integer number of Hz");
  auto q = guard(env, [&] { return metrics::audioQuality(ref.Data(), dec.Data(), ref.ElementLength(), static_cast<int>(rate)); });
  Napi::Object o = Napi::Object::New(env);
  o.Set("siSnrDb", q.siSnrDb);
  o.Set("logMelDistanceDb", q.logMelDistanceDb);
  o.Set("score", q.score);
  return o;
}

}  // namespace aic::js
