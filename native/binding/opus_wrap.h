// JS classes OpusEncoderStream and OpusDecoderStream: the Opus streams of
// native/core/conventional/opus_codec.h, coding off the JS thread like the neural codecs.
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "conventional/opus_codec.h"

namespace aic::js {

struct LockedOpusEncoder {
  std::mutex mutex;
  std::unique_ptr<opus::Encoder> stream;
};
struct LockedOpusDecoder {
  std::mutex mutex;
  std::unique_ptr<opus::Decoder> stream;
};

class OpusEncoderWrap : public Napi::ObjectWrap<OpusEncoderWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit OpusEncoderWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeSync(const Napi::CallbackInfo& info);
  Napi::Value Mark(const Napi::CallbackInfo& info);
  Napi::Value Rewind(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  Napi::Value DelaySamples(const Napi::CallbackInfo& info);
  Napi::Value TryScored(const Napi::CallbackInfo& info);
  std::shared_ptr<LockedOpusEncoder> s_;
};

class OpusDecoderWrap : public Napi::ObjectWrap<OpusDecoderWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit OpusDecoderWrap(const Napi::CallbackInfo& info);
  static const napi_type_tag kTypeTag;
  const std::shared_ptr<LockedOpusDecoder>& stream() const { return s_; }

 private:
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value DecodeSync(const Napi::CallbackInfo& info);
  Napi::Value Mark(const Napi::CallbackInfo& info);
  Napi::Value Rewind(const Napi::CallbackInfo& info);
  Napi::Value Conceal(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);
  std::shared_ptr<LockedOpusDecoder> s_;
};

}  // namespace aic::js
