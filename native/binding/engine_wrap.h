// JS class `Engine`: the process-wide ONNX Runtime environment and the loader of models.
#pragma once

#include <napi.h>

#include <memory>

#include "runtime/engine.h"

namespace aic::js {

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit EngineWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value LoadModel(const Napi::CallbackInfo& info);
  Napi::Value LoadModelSync(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  const std::shared_ptr<Engine>& live(Napi::Env env) const;

  std::shared_ptr<Engine> engine_;
};

}  // namespace aic::js
