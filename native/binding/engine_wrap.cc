#include "engine_wrap.h"

#include "convert.h"
#include "job.h"
#include "model_wrap.h"

namespace aic::js {

namespace {

// Loading parses and optimises the graphs, which takes milliseconds to seconds: never on the
// JS thread unless the caller asked for the sync variant.
class LoadJob : public Job {
 public:
  LoadJob(Napi::Env env, std::shared_ptr<Engine> engine, Napi::Value request, Napi::Value caches) : engine_(std::move(engine)) {
    request_ = parseLoadRequest(env, request, *this);
    parseGraphCaches(env, caches, request_, *this);
  }
  void execute() override { model_ = std::make_shared<CodecModel>(engine_, request_); }
  Napi::Value toJs(Napi::Env env) override { return ModelWrap::NewInstance(env, model_); }

 private:
  std::shared_ptr<Engine> engine_;
  ModelLoadRequest request_;
  std::shared_ptr<CodecModel> model_;
};

}  // namespace

Napi::Function EngineWrap::Init(Napi::Env env) {
  return DefineClass(env, "Engine",
                     {InstanceMethod<&EngineWrap::Info>("info"), InstanceMethod<&EngineWrap::LoadModel>("loadModel"),
                      InstanceMethod<&EngineWrap::LoadModelSync>("loadModelSync"), InstanceMethod<&EngineWrap::Close>("close")});
}

EngineWrap::EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
  Napi::Env env = info.Env();
  EngineOptions options = parseEngineOptions(env, info[0]);
  engine_ = guard(env, [&] { return std::make_shared<Engine>(options); });
}

const std::shared_ptr<Engine>& EngineWrap::live(Napi::Env env) const {
  if (engine_->closed()) throwError(env, "CLOSED", "this engine is closed; create a new engine with createEngine()");
  return engine_;
}

Napi::Value EngineWrap::Info(const Napi::CallbackInfo& info) { return engineInfoToJs(info.Env(), *engine_); }

Napi::Value EngineWrap::LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<LoadJob>(env, live(env), info[0], info[1]); });
  return runAsync(env, "aic:loadModel", std::move(job));
}

Napi::Value EngineWrap::LoadModelSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = guard(env, [&] { return std::make_unique<LoadJob>(env, live(env), info[0], info[1]); });
  return runSync(env, std::move(job));
}

Napi::Value EngineWrap::Close(const Napi::CallbackInfo& info) {
  // Models already loaded keep the environment alive through their own references until they
  // are closed; the engine only stops loading new ones.
  engine_->close();
  return info.Env().Undefined();
}

}  // namespace aic::js
