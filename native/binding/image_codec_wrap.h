// JS class `ImageCodec`: a loaded image model plus its manifest (gains, entropy tables), coding
// RGB frames to payloads and back on worker threads.
#pragma once

#include <napi.h>

#include <memory>

#include "image/image_codec.h"

namespace aic::js {

class ImageCodecWrap : public Napi::ObjectWrap<ImageCodecWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit ImageCodecWrap(const Napi::CallbackInfo& info);
  static Napi::Value PrepareTables(const Napi::CallbackInfo& info);
  static const napi_type_tag kTypeTag;
  // The core codec behind a JS ImageCodec object (checked by its type tag); INVALID_ARGUMENT otherwise.
  static std::shared_ptr<const ImageCodec> from(Napi::Env env, Napi::Value value);

 private:
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value EncodeSync(const Napi::CallbackInfo& info);
  Napi::Value Compress(const Napi::CallbackInfo& info);
  Napi::Value CompressSync(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value DecodeSync(const Napi::CallbackInfo& info);
  Napi::Value ModelId(const Napi::CallbackInfo& info);

  std::shared_ptr<const ImageCodec> codec_;
};

}  // namespace aic::js
