// JS class `Model`: a loaded encoder/decoder pair. Created only by Engine.loadModel(); holds a
// shared reference to the core model, dropped on close() (in-flight runs keep their own).
#pragma once

#include <napi.h>

#include <memory>

#include "runtime/codec_model.h"

namespace aic::js {

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<CodecModel> model);
  explicit ModelWrap(const Napi::CallbackInfo& info);
  // The core model behind a JS Model object; throws INVALID_ARGUMENT or CLOSED.
  static std::shared_ptr<CodecModel> from(Napi::Env env, Napi::Value value);

 private:
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value RunSync(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Closed(const Napi::CallbackInfo& info);

  const std::shared_ptr<CodecModel>& live(Napi::Env env) const;

  std::shared_ptr<CodecModel> model_;
};

}  // namespace aic::js
