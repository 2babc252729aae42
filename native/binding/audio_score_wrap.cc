#include "audio_score_wrap.h"

#include <cmath>

#include "codec_common.h"
#include "js_errors.h"

namespace aic::js {

const napi_type_tag AudioScoreWindowWrap::kTypeTag = {0x6a1c5e0f3b2d4e71ULL, 0x9f8e7d6c5b4a3921ULL};

Napi::Function AudioScoreWindowWrap::Init(Napi::Env env) {
  return DefineClass(env, "AudioScoreWindow",
                     {InstanceMethod<&AudioScoreWindowWrap::Push>("push"), InstanceMethod<&AudioScoreWindowWrap::PushExact>("pushExact"),
                      InstanceMethod<&AudioScoreWindowWrap::Mark>("mark"), InstanceMethod<&AudioScoreWindowWrap::Rewind>("rewind")});
}

// new AudioScoreWindow(sampleRate, windowSeconds, delaySamples)
AudioScoreWindowWrap::AudioScoreWindowWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AudioScoreWindowWrap>(info) {
  Napi::Env env = info.Env();
  auto num = [&](int i) { return info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN; };
  const double rate = num(0), seconds = num(1), delay = num(2);
  if (!std::isfinite(rate) || std::floor(rate) != rate) throwInvalid(env, "sampleRate must be an integer number of Hz");
  if (!std::isfinite(delay) || delay < 0 || std::floor(delay) != delay) throwInvalid(env, "delaySamples must be a non-negative integer");
  window_ = guard(env, [&] { return std::make_shared<metrics::AudioScoreWindow>(static_cast<int>(rate), seconds, static_cast<size_t>(delay)); });
  info.This().As<Napi::Object>().TypeTag(&kTypeTag);
}

// push(reference: Float32Array, decoded: Float32Array, exactPrefix = 0) -> the window's measures
Napi::Value AudioScoreWindowWrap::Push(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ref = monoSamples(info, 0, "reference");
  auto dec = monoSamples(info, 1, "decoded");
  if (ref.ElementLength() != dec.ElementLength()) throwInvalid(env, "reference and decoded must have the same number of samples");
  const size_t exact = info[2].IsUndefined() ? 0 : static_cast<size_t>(intArg(info, 2, "exactPrefix", 0, static_cast<int>(ref.ElementLength())));
  return toJs(env, guard(env, [&] { return window_->pushWithExactPrefix(ref.Data(), dec.Data(), ref.ElementLength(), exact); }));
}

Napi::Value AudioScoreWindowWrap::Mark(const Napi::CallbackInfo& info) {
  guard(info.Env(), [&] { window_->mark(); });
  return info.Env().Undefined();
}

Napi::Value AudioScoreWindowWrap::Rewind(const Napi::CallbackInfo& info) {
  guard(info.Env(), [&] { window_->rewind(); });
  return info.Env().Undefined();
}

// pushExact(reference: Float32Array) -> the window's measures after a frame the receiver gets exactly
Napi::Value AudioScoreWindowWrap::PushExact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ref = monoSamples(info, 0, "reference");
  return toJs(env, guard(env, [&] { return window_->pushExact(ref.Data(), ref.ElementLength()); }));
}

Napi::Value AudioScoreWindowWrap::toJs(Napi::Env env, const metrics::AudioQuality& q) {
  Napi::Object o = audioQualityToJs(env, q.siSnrDb, q.logMelDistanceDb, q.score);
  o.Set("activeFraction", q.activeFraction);
  o.Set("worstBandErrorDb", q.worstBandErrorDb);
  o.Set("holeFraction", q.holeFraction);
  o.Set("bandLoss", q.bandLoss);
  o.Set("windowHoleFraction", q.windowHoleFraction);
  o.Set("windowBandLoss", q.windowBandLoss);
  o.Set("windowHoleMiss", q.windowHoleMiss);
  o.Set("frameMiss", q.frameMiss);
  return o;
}

}  // namespace aic::js
