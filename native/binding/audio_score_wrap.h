// JS class AudioScoreWindow: the streaming audio score of native/core/audio_metrics.h, which
// sessions update with every audio frame they send (cheap and synchronous).
#pragma once

#include <napi.h>

#include <memory>

#include "../core/audio_metrics.h"

namespace aic::js {

class AudioScoreWindowWrap : public Napi::ObjectWrap<AudioScoreWindowWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioScoreWindowWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Push(const Napi::CallbackInfo& info);
  Napi::Value PushExact(const Napi::CallbackInfo& info);
  Napi::Value Mark(const Napi::CallbackInfo& info);
  Napi::Value Rewind(const Napi::CallbackInfo& info);
  static Napi::Value toJs(Napi::Env env, const metrics::AudioQuality& q);
  std::unique_ptr<metrics::AudioScoreWindow> window_;
};

}  // namespace aic::js
