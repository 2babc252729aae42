// JS class AudioScoreWindow: the streaming audio score of native/core/audio/audio_metrics.h, which
// sessions update with every audio frame they send (cheap and synchronous).
#pragma once

#include <napi.h>

#include <memory>

#include "audio/audio_metrics.h"

namespace aic::js {

class AudioScoreWindowWrap : public Napi::ObjectWrap<AudioScoreWindowWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioScoreWindowWrap(const Napi::CallbackInfo& info);
  // For the jobs that push into the window off the JS thread (the audio batch, the Opus fallback's
  // tries): they share its ownership; a session serialises its frames, so it is never used by two
  // at once.
  const std::shared_ptr<metrics::AudioScoreWindow>& shared() const { return window_; }
  // Tagged at construction, so a batch checks its items' kind without a prototype walk.
  static const napi_type_tag kTypeTag;
  static Napi::Value toJs(Napi::Env env, const metrics::AudioQuality& q);

 private:
  Napi::Value Push(const Napi::CallbackInfo& info);
  Napi::Value PushExact(const Napi::CallbackInfo& info);
  Napi::Value Mark(const Napi::CallbackInfo& info);
  Napi::Value Rewind(const Napi::CallbackInfo& info);
  std::shared_ptr<metrics::AudioScoreWindow> window_;
};

}  // namespace aic::js
