// JS classes for the audio codec: `AudioCodec` (a loaded model + manifest) and its per-stream
// `AudioEncoderStream` / `AudioDecoderStream`, whose state lives in native memory. A stream is
// used by one call at a time (the TypeScript layer queues calls; a mutex here guards anyway).
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "audio/audio_codec.h"

namespace aic::js {

class AudioCodecWrap : public Napi::ObjectWrap<AudioCodecWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioCodecWrap(const Napi::CallbackInfo& info);
  static Napi::Value PrepareTables(const Napi::CallbackInfo& info);

 private:
  Napi::Value CreateEncoder(const Napi::CallbackInfo& info);
  Napi::Value CreateDecoder(const Napi::CallbackInfo& info);
  Napi::Value DelaySamples(const Napi::CallbackInfo& info);
  Napi::Value ModelId(const Napi::CallbackInfo& info);
  std::shared_ptr<const AudioCodec> codec_;
};

struct LockedEncoder {
  std::mutex mutex;
  std::unique_ptr<AudioEncoderStream> stream;
};
struct LockedDecoder {
  std::mutex mutex;
  std::unique_ptr<AudioDecoderStream> stream;
};

class AudioEncoderWrap : public Napi::ObjectWrap<AudioEncoderWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioEncoderWrap(const Napi::CallbackInfo& info);
  std::shared_ptr<LockedEncoder> stream;
  static const napi_type_tag kTypeTag;
  static Napi::Value EncodeAndScoreBatch(const Napi::CallbackInfo& info);

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeSync(const Napi::CallbackInfo& info);
};

class AudioDecoderWrap : public Napi::ObjectWrap<AudioDecoderWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AudioDecoderWrap(const Napi::CallbackInfo& info);
  std::shared_ptr<LockedDecoder> stream;
  static const napi_type_tag kTypeTag;

 private:
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value DecodeSync(const Napi::CallbackInfo& info);
  Napi::Value Conceal(const Napi::CallbackInfo& info);
  Napi::Value ConcealSync(const Napi::CallbackInfo& info);
};

}  // namespace aic::js
